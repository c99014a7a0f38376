"""Paths and the project configuration.

Every path and default the package uses is defined here, so notebooks and
the CLI never hard-code one. A project config is a YAML file (``icp.yml`` for
the bundled sample); :func:`load_config` validates it and resolves its paths
relative to the file itself, so it works from any working directory.
"""

from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

__all__ = [
    "PROJECT_ROOT",
    "SAMPLE_DIR",
    "REPORTS_DIR",
    "NOTEBOOKS_DIR",
    "TEMPLATES_DIR",
    "PRESETS_DIR",
    "DEFAULT_CONFIG",
    "NOTEBOOK_ORDER",
    "NOTEBOOK_INPUTS",
    "TABLES",
    "ConfigError",
    "LimitsConfig",
    "InputSpec",
    "ProfileConfig",
    "SnapshotConfig",
    "ProjectConfig",
    "load_config",
    "resolve_config_path",
    "run_dir_for",
]

PACKAGE_DIR = Path(__file__).resolve().parent.parent
PROJECT_ROOT = PACKAGE_DIR.parent
SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"
REPORTS_DIR = PROJECT_ROOT / "reports"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
TEMPLATES_DIR = PACKAGE_DIR / "templates"
PRESETS_DIR = PACKAGE_DIR / "presets"
DEFAULT_CONFIG = PROJECT_ROOT / "icp.yml"

#: The notebooks of one quarter's run, in the order they execute.
NOTEBOOK_ORDER = (
    "01_best_customers",
    "02_interview_coding",
    "03_select_traits",
    "04_icp_template",
    "05_lead_scoring",
)

#: Input tables each notebook cannot do without. ``icp run`` leaves out, and
#: records as not applicable, the notebooks whose tables a project does not
#: name: a CRM export without interviews yet, or a leads-only export.
NOTEBOOK_INPUTS = {
    "01_best_customers": ("accounts", "deals"),
    "02_interview_coding": ("interviews", "codebook"),
    "03_select_traits": ("accounts", "deals"),
    "04_icp_template": ("accounts", "deals"),
    "05_lead_scoring": ("leads",),
}

#: Canonical input tables a config may name.
TABLES = (
    "accounts",
    "deals",
    "contacts",
    "interviews",
    "codebook",
    "manual_codes",
    "activities",
    "leads",
    "prospects",
)


class ConfigError(ValueError):
    """A project config that cannot be used; the message names the key and what is allowed."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InputSpec(_Section):
    """Where one canonical table comes from and how its columns map."""

    path: str | list[str] | None = Field(
        None, description="file (CSV, XLSX, Parquet) or list of files, relative to data_dir"
    )
    table: str | None = Field(
        None,
        description="instead of path: a table (or view) of the configured engine, `name` or "
        "`schema.name`, read with the same mapping, validation and quarantine (row numbers "
        "count the table's rows)",
    )
    transcripts: str | None = Field(
        None, description="interviews only: a folder of .txt/.md transcripts, one per interview"
    )
    preset: str | None = Field(None, description="column preset: hubspot or salesforce")
    columns: dict[str, str] = Field(
        default_factory=dict, description="the export's column name -> canonical column name"
    )
    sheet: str | None = Field(None, description="XLSX sheet name (default: the first)")
    encoding: str | None = Field(None, description="CSV encoding; detected when omitted")
    delimiter: str | None = Field(
        None,
        description="CSV field separator, one character or `whitespace` (columns aligned with "
        "runs of spaces); detected (comma, semicolon, tab, pipe, ~, ^, whitespace) when omitted",
    )
    dayfirst: bool | None = Field(
        None,
        description="read ambiguous numeric dates (03/04/2024) as day/month/year; "
        "by default the data decides, then dots mean day-first and slashes month-first",
    )
    date_format: str | None = Field(
        None, description="strptime format for every date column of this input, e.g. %d.%m.%Y"
    )
    decimal_separator: Literal[".", ","] | None = Field(
        None,
        description="the decimal separator of this input's numbers ('.' or ','); detected per "
        "column when omitted, and values such as 1.234 that could be either are reported",
    )
    derive: dict[str, str] = Field(
        default_factory=dict,
        description="canonical column -> expression over the mapped columns, e.g. "
        "amount: quantity * unit_price (the expression language of the README: columns, "
        "literals, arithmetic, comparisons, text joined with +, index, raw(column), functions)",
    )
    defaults: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        description="canonical column -> constant, for columns the export does not have "
        "(e.g. industry for a B2C shop); reported in the load summary",
    )
    distinct: bool = Field(
        False,
        description="merge exact duplicate rows after mapping (accounts read from order lines); "
        "only mapped and canonical columns are kept, as line-level columns would make every "
        "row distinct",
    )
    lines: bool = Field(
        False,
        description="deals only: rows are order lines; lines sharing deal_id are summed "
        "into one deal (amount and quantity summed, line count kept as items)",
    )
    roles: dict[str, str] = Field(
        default_factory=dict,
        description="column (as mapped) -> role: who, behaviour, outcome, id, date or ignore; "
        "overrides the inferred role (only who columns become selectable traits)",
    )

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, value: dict[str, str]) -> dict[str, str]:
        allowed = ("who", "behaviour", "outcome", "id", "date", "ignore")
        bad = {column: role for column, role in value.items() if role not in allowed}
        if bad:
            shown = ", ".join(f"{column}: {role!r}" for column, role in bad.items())
            raise ValueError(f"unknown role(s) {shown}; allowed: {', '.join(allowed)}")
        return value

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, value: str | None) -> str | None:
        if value is None or value.lower().endswith((".yml", ".yaml")):
            return value
        known = sorted(p.stem for p in PRESETS_DIR.glob("*.yml") if p.stem != "vocabulary")
        if value not in known:
            raise ValueError(
                f"unknown preset {value!r}; allowed: {', '.join(known)} or a .yml file of your own"
            )
        return value

    @model_validator(mode="after")
    def _path_or_table(self):
        if self.path is not None and self.table is not None:
            raise ValueError("give either path (files) or table (a table of the engine), not both")
        return self

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str | None) -> str | None:
        if value == "whitespace":
            return value
        if value is not None and len(value.replace("\\t", "\t")) != 1:
            raise ValueError(
                f"a delimiter is one character or `whitespace` (runs of spaces), got {value!r}"
            )
        return None if value is None else value.replace("\\t", "\t")

    def paths(self) -> list[str]:
        if self.path is None:
            return []
        return [self.path] if isinstance(self.path, str) else list(self.path)


class EngineConfig(_Section):
    """Where per-account aggregation runs (see ``features.py``)."""

    backend: Literal["duckdb", "pyspark", "url"] = "duckdb"
    url: str | None = Field(None, description="an Ibis connection URL when backend is 'url'")
    database: str | None = Field(None, description="a DuckDB database file (default in-memory)")
    master: str | None = Field(
        None,
        description="pyspark: the master of the session started when none is active "
        "(local[1], spark://host:7077, yarn); default local[*]",
    )
    validation: Literal["auto", "engine", "pandas"] = Field(
        "auto",
        description="where the deals are validated: 'auto' (default) on the engine when they "
        "are an engine table (inputs.deals.table) or files of at least "
        "engine_min_mb megabytes together, else in pandas (faster, but every deal in memory); "
        "'engine' (the rules as queries; those it cannot apply exactly fall back to pandas "
        "with a log line) or 'pandas' always",
    )
    engine_min_mb: float = Field(
        64,
        ge=0,
        description="validation: auto validates deals files of at least this many megabytes "
        "(together) on the engine: pandas validates faster but holds every deal in memory "
        "(about 300 bytes per deal at its peak), the engine holds little more than its "
        "memory_limit",
    )
    memory_limit: str | None = Field(
        None,
        description="DuckDB: the most memory the engine may use (e.g. '2GB'); beyond it, "
        "sorts and joins spill to temp_directory. Default: DuckDB's own (80% of RAM)",
    )
    validation_memory_limit: str | None = Field(
        "1536MB",
        description="DuckDB: the most memory validating the deals may use when memory_limit "
        "is not set; past it the sort of the clean deals spills to temp_directory (at 20 "
        "million deals the validating process peaks near 2 GB instead of 4 GB, for some "
        "seconds more); null: DuckDB's own default (80% of RAM)",
    )
    threads: int | None = Field(None, ge=1, description="DuckDB: worker threads (default: one per core)")
    temp_directory: str | None = Field(
        None,
        description="DuckDB: where spilled data and the validated deals of a run without the "
        "table cache are written (default: the system's temporary folder)",
    )
    max_temp_directory_size: str | None = Field(
        None,
        description="DuckDB: the most disk the spilled data may take in temp_directory (e.g. "
        "'20GB'; a query that needs more fails with DuckDB's out-of-memory error). Default: "
        "DuckDB's own (90% of the free disk)",
    )


class AnalysisConfig(_Section):
    lookback_quarters: int = Field(4, ge=1, le=40, description="quarters in the analysis window")
    validation_quarters: int = Field(
        1, ge=1, le=8, description="later quarters the fit score is validated on"
    )


class BestCustomerRule(_Section):
    """The value rule that picks the best customers (documented in ``best.py``)."""

    weights: dict[str, float] = Field(
        default_factory=lambda: {
            "won_value": 0.5,
            "deal_frequency": 0.3,
            "referrals": 0.1,
            "case_study": 0.1,
        },
        description="weight per value component (percentile-ranked before weighting)",
    )
    share: float | None = Field(0.2, gt=0, lt=1, description="best cohort as a share of accounts")
    count: int | None = Field(None, gt=0, description="best cohort as a count (overrides share)")
    shortlist_size: int = Field(8, ge=5, le=10, description="accounts on the interview shortlist")
    min_deals: int = Field(1, ge=0, description="accounts need this many won deals in the window")
    include_inactive: bool = Field(
        False,
        description="compare the best customers with every other account, including those "
        "without a won deal in the window; by default only active accounts are compared and "
        "the cohort share is of active accounts",
    )


class GroupsConfig(_Section):
    k_min: int = Field(2, ge=2)
    k_max: int = Field(8, ge=2)
    random_state: int = 0


class InterviewConfig(_Section):
    kappa_threshold: float = Field(0.6, ge=-1, le=1)
    keep_low_agreement: bool = Field(False, description="keep codes below the kappa threshold")
    redact: bool = Field(True, description="redact emails, phones and contact names in quotes")
    n_themes: int = Field(5, ge=1, le=30)
    random_state: int = 0


class TraitSelectionConfig(_Section):
    max_traits: int = Field(10, ge=1, le=10)
    q_threshold: float = Field(0.05, gt=0, le=1)
    min_stability: float = Field(0.6, ge=0, le=1)
    n_bootstrap: int = Field(200, ge=10)
    bootstrap_max_accounts: int | None = Field(
        50_000,
        ge=1000,
        description="accounts drawn per bootstrap resample at most (m-out-of-n), so that "
        "stability costs the same beyond it (a weak trait's stability then errs low); "
        "null resamples every account",
    )
    random_state: int = 0
    min_lift: float = Field(
        1.2,
        gt=1,
        description="the lower end of a selected trait's 95% lift interval must reach this; "
        "a trait whose upper end is at most 1/min_lift marks weaker fit",
    )
    confirm_leakage: list[str] = Field(
        default_factory=list,
        description="trait ids flagged as possible leakage (near-perfect separation) that "
        "are real traits and may be selected",
    )
    weaker_fit_points: bool = Field(
        False,
        description="weaker-fit traits (clearly under-represented among the best customers) "
        "carry negative points in the fit score",
    )
    score_behaviour: bool = Field(
        False,
        description="also select and score buying-behaviour traits (basket size, recency, "
        "weekday...): for shops that score existing customers, such as B2C retail; prospects "
        "without purchases match none of them",
    )


class CountColumn(_Section):
    """How one per-lead count column earns points (``lead_scoring.counts``)."""

    activity: str | None = Field(None, description="earn this activity's points per unit")
    points: float | None = Field(None, description="points per unit (overrides activity)")
    per: float = Field(1.0, gt=0, description="units are value / per (e.g. 60: seconds to minutes)")
    cap: float | None = Field(None, gt=0, description="units above this count as this")


class LeadScoringConfig(_Section):
    """Points, thresholds and inputs of lead scoring (documented in ``leads.py``)."""

    points: dict[str, float] = Field(
        default_factory=dict, description="points per activity; empty uses the method's defaults"
    )
    title_points: dict[str, float] = Field(
        default_factory=dict, description="extra points for form submissions by job-title level"
    )
    thresholds: dict[str, float] = Field(
        default_factory=lambda: {"medium": 100.0, "strong": 200.0},
        description="weak < medium <= medium < strong",
    )
    decay_half_life_days: float | None = Field(None, gt=0)
    counts_input: bool = Field(False, description="leads carry per-lead count columns, no event log")
    counts: dict[str, CountColumn] = Field(
        default_factory=dict, description="counts input: leads column -> points per unit"
    )
    categorical: dict[str, dict[str, str | float]] = Field(
        default_factory=dict,
        description="counts input: leads column -> {level: points or activity}; levels become indicators",
    )
    missing_values: list[str] = Field(
        default_factory=list, description="export values meaning 'not filled in', e.g. Select"
    )
    min_level_count: int = Field(10, ge=1, description="rarer categorical levels are pooled as other")
    by_detail: list[str] = Field(
        default_factory=lambda: ["key_page_visit", "download"],
        description="event log: activities scored per detail (download:price-list)",
    )
    title_levels: dict[str, str] = Field(
        default_factory=dict, description="job-title level -> regex, in order; empty uses the defaults"
    )
    calibrate: bool = Field(True, description="score with points learned from conversions when leads have them")
    regularization: float = Field(1.0, gt=0, description="C of the L2-penalised calibration model")
    cv_folds: int = Field(5, ge=2, le=20, description="folds of the held-out comparison")
    random_state: int = 0


class TemplatesConfig(_Section):
    card_html: str | None = None
    card_markdown: str | None = None


class ExportsConfig(_Section):
    """The scored exports for sales (``scored_accounts``, ``scored_prospects``, ``scored_leads``)."""

    # a sales list, not an archive: openpyxl streams 10,000 rows in about 2 s, 50,000 in about 10 s
    xlsx_max_rows: int | None = Field(
        10_000,
        ge=1,
        description="rows of an XLSX export at most, best first (the CSV beside it has every "
        "row and the workbook says so); null writes them all, over several sheets past "
        "Excel's 1,048,576-row limit",
    )


class LimitsConfig(_Section):
    """Bounds that keep a broken or hostile input from hanging a run or filling a report."""

    max_columns: int = Field(
        2_000, ge=1, description="columns per input table at most (a wider file is refused)"
    )
    max_cell_chars: int = Field(
        100_000,
        ge=1,
        description="characters per cell before a warning names the cell (the data is kept; "
        "an XLSX cell is cut at Excel's 32,767 characters and says so)",
    )
    yaml_max_aliases: int = Field(
        100,
        ge=0,
        description="YAML aliases (*name) per file at most, in every YAML the project reads "
        "(config, codebook, presets, transcript front matter): a guard against alias bombs",
    )
    max_number: float = Field(
        1e15,
        gt=0,
        description="numbers larger than this (in absolute value) are set aside as implausible "
        "(a typo or an overflow; sums of them would become infinite)",
    )
    date_min: dt.date = Field(
        dt.date(1900, 1, 1), description="dates before this are set aside as implausible"
    )
    date_max: dt.date | None = Field(
        None,
        description="dates after this are set aside as implausible (default: one year after today)",
    )
    cell_timeout_s: float | None = Field(
        1800,
        gt=0,
        description="seconds a notebook cell may run in icp run before the step fails naming "
        "the cell (null: no limit); icp run --cell-timeout overrides it",
    )

    def latest_date(self) -> dt.date:
        """``date_max``, else one year after today."""
        if self.date_max is not None:
            return self.date_max
        today = dt.date.today()
        return today.replace(year=today.year + 1) if (today.month, today.day) != (2, 29) else (
            today.replace(year=today.year + 1, day=28)
        )


class ProfileConfig(_Section):
    """Whom the profile describes: companies (``b2b``) or consumers (``b2c``)."""

    kind: Literal["b2b", "b2c"] | None = Field(
        None,
        description="b2b: accounts are companies (industry, employees, country required); "
        "b2c: customers are consumers (only account_id required, demographics as traits); "
        "inferred from the accounts' columns when omitted (no industry and no employees: b2c)",
    )


class SnapshotConfig(_Section):
    """A customers table with per-customer totals standing in for the deal history.

    Each key names a column of the accounts (customers) table as mapped.
    """

    value: str | None = Field(None, description="total value bought (e.g. total charges)")
    purchases: str | None = Field(None, description="number of purchases")
    tenure: str | None = Field(None, description="time as a customer, in tenure_unit")
    tenure_unit: Literal["days", "months", "years"] = "months"
    joined: str | None = Field(None, description="date the customer joined (tenure when no tenure column)")
    recency: str | None = Field(None, description="days since the last purchase")
    churned: str | None = Field(
        None,
        description='churn flag as a comparison, e.g. Churn == "Yes" or Response in [1, "yes"]; '
        "and/or/not combine comparisons",
    )
    as_of: str | None = Field(
        None, description="the date of the snapshot (default: the latest joined date)"
    )

    @property
    def configured(self) -> bool:
        return any(
            getattr(self, key) for key in ("value", "purchases", "tenure", "joined", "recency", "churned")
        )


class ProjectConfig(_Section):
    """A validated project config; paths are absolute after :func:`load_config`."""

    name: str = "ICP project"
    data_dir: str = "."
    reports_dir: str | None = None
    cache_tables: bool = Field(
        True,
        description="keep validated tables under <reports>/.cache/tables and reuse them "
        "while the input files and their config are unchanged",
    )
    engine: EngineConfig = Field(default_factory=EngineConfig)
    profile: ProfileConfig = Field(default_factory=ProfileConfig)
    snapshot: SnapshotConfig = Field(
        default_factory=SnapshotConfig,
        description="per-customer totals of the accounts table in place of a deals table",
    )
    inputs: dict[str, InputSpec]
    aliases: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="column -> {messy value: clean value}"
    )
    analysis: AnalysisConfig = Field(default_factory=AnalysisConfig)
    best_customers: BestCustomerRule = Field(default_factory=BestCustomerRule)
    groups: GroupsConfig = Field(default_factory=GroupsConfig)
    interviews: InterviewConfig = Field(default_factory=InterviewConfig)
    traits: TraitSelectionConfig = Field(default_factory=TraitSelectionConfig)
    lead_scoring: LeadScoringConfig = Field(default_factory=LeadScoringConfig)
    templates: TemplatesConfig = Field(default_factory=TemplatesConfig)
    exports: ExportsConfig = Field(default_factory=ExportsConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)

    #: Set by :func:`load_config`: the file this config was read from.
    source: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _customers_are_accounts(cls, data: Any) -> Any:
        # a consumer project may call its accounts table "customers"
        if isinstance(data, dict) and isinstance(data.get("inputs"), dict) and "customers" in data["inputs"]:
            inputs = dict(data["inputs"])
            if "accounts" in inputs:
                raise ValueError("name either inputs.customers or inputs.accounts, not both")
            inputs["accounts"] = inputs.pop("customers")
            data = {**data, "inputs": inputs}
            profile = data.get("profile") or {}
            if isinstance(profile, dict) and not profile.get("kind"):
                data["profile"] = {**profile, "kind": "b2c"}
        return data

    @field_validator("inputs")
    @classmethod
    def _known_tables(cls, value: dict[str, InputSpec]) -> dict[str, InputSpec]:
        unknown = sorted(set(value) - set(TABLES))
        if unknown:
            raise ValueError(f"unknown table(s) {unknown}; allowed: {', '.join(TABLES)}")
        if not value:
            raise ValueError(f"name at least one input table; allowed: {', '.join(TABLES)}")
        return value

    def missing_inputs(self, notebook: str) -> list[str]:
        """The tables of :data:`NOTEBOOK_INPUTS` that ``notebook`` needs and this config lacks.

        Lead scoring also needs what the leads did: an ``activities`` event log,
        or per-lead count columns (``lead_scoring.counts_input``). A snapshot
        (``snapshot:``) stands in for the deals.
        """
        needed = NOTEBOOK_INPUTS.get(notebook, ())
        if self.is_snapshot:
            needed = tuple(t for t in needed if t != "deals")  # the totals stand in for deals
        missing = [t for t in needed if t not in self.inputs]
        if (
            notebook == "05_lead_scoring"
            and "activities" not in self.inputs
            and not self.lead_scoring.counts_input
        ):
            missing.append("activities")
        return missing

    @property
    def is_snapshot(self) -> bool:
        """Per-customer totals stand in for the deal history (``snapshot:`` set, no deals)."""
        return self.snapshot.configured and "deals" not in self.inputs

    def describe_missing(self, notebook: str) -> str:
        """``needs inputs.x, inputs.y, which the config does not name`` (``""`` when nothing is)."""
        missing = self.missing_inputs(notebook)
        if not missing:
            return ""
        text = f"needs inputs.{', inputs.'.join(missing)}"
        if "activities" in missing and notebook == "05_lead_scoring":
            text += " (or lead_scoring.counts_input: true with the leads' count columns)"
        return text + ", which the config does not name"

    def require(self, notebook: str) -> None:
        """Raise :class:`ConfigError` naming the tables ``notebook`` needs but the config lacks."""
        missing = self.describe_missing(notebook)
        if missing:
            raise ConfigError(
                f"{self.source}: {notebook} {missing}; add them, or leave this notebook out "
                "(icp run does so by itself)"
            )

    @model_validator(mode="after")
    def _groups_range(self) -> ProjectConfig:
        if self.groups.k_max < self.groups.k_min:
            raise ValueError("groups.k_max must be at least groups.k_min")
        if self.snapshot.configured and "accounts" not in self.inputs:
            raise ValueError("snapshot: names columns of the customers table; add inputs.customers")
        return self

    @property
    def base_dir(self) -> Path:
        return Path(self.source).parent if self.source else Path.cwd()

    @property
    def data_path(self) -> Path:
        return (self.base_dir / self.data_dir).resolve()

    @property
    def reports_path(self) -> Path:
        return (self.base_dir / self.reports_dir).resolve() if self.reports_dir else REPORTS_DIR

    def input_paths(self, table: str) -> list[Path]:
        """Absolute paths of a table's files (empty if the table is not configured)."""
        spec = self.inputs.get(table)
        if spec is None:
            return []
        return [self.data_path / p for p in spec.paths()]

    def transcripts_path(self) -> Path | None:
        spec = self.inputs.get("interviews")
        if spec is None or not spec.transcripts:
            return None
        return self.data_path / spec.transcripts

    def template_path(self, kind: str) -> Path | None:
        value = getattr(self.templates, kind)
        return (self.base_dir / value).resolve() if value else None


def _format_validation_error(path: Path, error: ValidationError) -> str:
    lines = [f"{path}: the config does not validate"]
    for item in error.errors():
        key = ".".join(str(p) for p in item["loc"]) or "(top level)"
        kind = item["type"]
        if kind == "extra_forbidden":
            parent = item["loc"][:-1]
            allowed = _allowed_keys(parent)
            close = difflib.get_close_matches(str(item["loc"][-1]), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            lines.append(f"  - {key}: unknown key{hint}; allowed here: {', '.join(allowed)}")
        else:
            got = item.get("input")
            shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
            lines.append(f"  - {key}: {item['msg']}{shown}")
    return "\n".join(lines)


def _allowed_keys(loc: tuple) -> list[str]:
    model: Any = ProjectConfig
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            # dict-valued fields (inputs.<table>) hold InputSpec
            model = InputSpec if model is ProjectConfig or part in TABLES else model
            continue
        annotation = field.annotation
        model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else (
            InputSpec if part == "inputs" else model
        )
    fields = getattr(model, "model_fields", {})
    return sorted(k for k in fields if k != "source")


def resolve_config_path(path: str | Path | None) -> Path:
    """The config file to use: ``path`` if given, else ``icp.yml`` at the project root."""
    return Path(path).expanduser().resolve() if path else DEFAULT_CONFIG


def load_config(path: str | Path | None = None, *, check_files: bool = True) -> ProjectConfig:
    """Read and validate a project config.

    Parameters
    ----------
    path : str or Path, optional
        The YAML file; defaults to the sample's ``icp.yml``.
    check_files : bool
        Also check that every input file named in the config exists.

    Raises
    ------
    ConfigError
        With one message naming each offending key and what is allowed.
    """
    config_path = resolve_config_path(path)
    if not config_path.is_file():
        raise ConfigError(f"{config_path}: config file not found")
    from .limits import YamlError, load_yaml  # noqa: PLC0415 - limits imports nothing of ours

    try:
        raw = load_yaml(config_path.read_text(encoding="utf-8"), source=str(config_path)) or {}
    except YamlError as exc:
        raise ConfigError(str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{config_path}: cannot be read ({exc})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{config_path}: expected a mapping of keys at the top level")
    try:
        config = ProjectConfig.model_validate({**raw, "source": str(config_path)})
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(config_path, exc)) from None
    if check_files:
        missing = []
        for table in config.inputs:
            for file in config.input_paths(table):
                if not file.exists():
                    missing.append(f"  - inputs.{table}.path: file not found: {file}")
        transcripts = config.transcripts_path()
        if transcripts is not None and not transcripts.is_dir():
            missing.append(f"  - inputs.interviews.transcripts: folder not found: {transcripts}")
        for kind in ("card_html", "card_markdown"):
            template = config.template_path(kind)
            if template is not None and not template.is_file():
                missing.append(f"  - templates.{kind}: file not found: {template}")
        if missing:
            raise ConfigError("\n".join([f"{config_path}: input files missing", *missing]))
    return config


def run_dir_for(config: ProjectConfig, quarter: str, run_dir: str | Path | None = None) -> Path:
    """The run folder of a quarter: ``run_dir`` if given, else ``<reports>/<quarter>/``."""
    return Path(run_dir).resolve() if run_dir else config.reports_path / str(quarter)
