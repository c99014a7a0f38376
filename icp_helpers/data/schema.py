"""Canonical tables: their columns, column parsing and pandera schemas.

Every input table is read as text first (see ``loaders.py``) and then parsed
column by column (:func:`parse_column`, with the value parsers of
``parsing.py``, where the column kinds are described). Parsing never drops a
row: each parser returns the parsed values together with a mask of the cells
it could not read, so the loader can set those rows aside with a reason. The
pandera schemas then check the row rules (empty required fields, negative
amounts, unknown accounts, closed deals without date or amount) and, once the
quarantine is removed, serve as the contract of the tables every other
module receives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import pandera.pandas as pa

from .frames import isin
from .parsing import (
    _DATE_MAX,  # noqa: F401  (the engine's date range is the parsers')
    _DATE_MIN,  # noqa: F401
    MAX_NUMBER,
    TEXT_DTYPE,
    Parsed,
    apply_aliases,
    as_text,
    clean_text,
    map_distinct,
    normalise_stage,
    parse_booleans,
    parse_datetimes,
    parse_integers,
    parse_lists,
    parse_numbers,
)

__all__ = [
    "TEXT_DTYPE",
    "QUESTIONS",
    "STAGES",
    "ColumnSpec",
    "TableSpec",
    "TABLE_SPECS",
    "CUSTOMERS_SPEC",
    "accounts_spec",
    "Parsed",
    "as_text",
    "clean_text",
    "apply_aliases",
    "parse_numbers",
    "parse_integers",
    "parse_datetimes",
    "parse_booleans",
    "parse_lists",
    "normalise_stage",
    "parse_column",
    "table_schema",
    "known_check",
    "failure_reason",
]


#: The six method questions every interview answer belongs to.
QUESTIONS = ("how_found", "why_first_buy", "pains_needs", "need_met", "opinion", "why_stay")

#: Normalised deal stages.
STAGES = ("won", "lost", "open")


@dataclass(frozen=True)
class ColumnSpec:
    """One canonical column.

    Parameters
    ----------
    name : str
    kind : str
        One of the kinds described in ``parsing.py``.
    required : bool
        The column must exist (after mapping, ``derive`` and ``defaults``).
    not_null : bool
        A row with an empty cell is quarantined as an empty required field.
        Firmographic columns are required but may be empty: quarantining an
        account for a missing industry would also drop all its deals.
    min_value : float, optional
        Values below it are quarantined (``negative amount``).
    """

    name: str
    kind: str
    required: bool = False
    not_null: bool = False
    min_value: float | None = None


@dataclass(frozen=True)
class TableSpec:
    """One canonical table: its columns, unique key and account reference."""

    name: str
    columns: tuple[ColumnSpec, ...]
    key: tuple[str, ...] = ()
    account_fk: bool = False
    extras: bool = True
    spelling: tuple[str, ...] = field(default=())

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> ColumnSpec | None:
        for spec in self.columns:
            if spec.name == name:
                return spec
        return None


def _c(name: str, kind: str, *, req: bool = False, nn: bool = False, min_value=None) -> ColumnSpec:
    return ColumnSpec(name, kind, required=req, not_null=nn, min_value=min_value)


_FIRMOGRAPHICS = (
    _c("name", "text"),
    _c("annual_revenue", "number", min_value=0),
    _c("region", "category"),
    _c("city", "category"),
    _c("business_type", "category"),
    _c("founded_year", "int"),
    _c("created_date", "datetime"),
)

#: The canonical tables (``docs/architecture.md``).
TABLE_SPECS: dict[str, TableSpec] = {
    "accounts": TableSpec(
        "accounts",
        (
            _c("account_id", "id", req=True, nn=True),
            _c("industry", "category", req=True),
            _c("employees", "int", req=True, min_value=0),
            _c("country", "category", req=True),
            *_FIRMOGRAPHICS,
            _c("referred_by", "id"),
            _c("case_study", "bool"),
            _c("churned_date", "datetime"),
        ),
        key=("account_id",),
        spelling=("industry", "country", "region", "city", "business_type"),
    ),
    "deals": TableSpec(
        "deals",
        (
            _c("deal_id", "id", req=True, nn=True),
            _c("account_id", "id", req=True, nn=True),
            _c("close_date", "datetime", req=True),
            _c("amount", "number", req=True, min_value=0),
            _c("stage", "stage"),
            _c("quantity", "number", min_value=0),
            _c("product", "category"),
            _c("created_date", "datetime"),
            _c("items", "int", min_value=0),
        ),
        key=("deal_id",),
        account_fk=True,
        spelling=("product",),
    ),
    "contacts": TableSpec(
        "contacts",
        (
            _c("contact_id", "id", req=True, nn=True),
            _c("account_id", "id", req=True, nn=True),
            _c("name", "text"),
            _c("email", "text"),
            _c("phone", "text"),
            _c("job_title", "category"),
            _c("job_role", "category"),
            _c("seniority", "category"),
            _c("age", "int", min_value=0),
            _c("gender", "category"),
        ),
        key=("contact_id",),
        account_fk=True,
        spelling=("job_title", "job_role", "seniority", "gender"),
    ),
    "interviews": TableSpec(
        "interviews",
        (
            _c("interview_id", "id", req=True, nn=True),
            _c("account_id", "id", req=True, nn=True),
            _c("question", "category", req=True, nn=True),
            _c("answer", "text", req=True, nn=True),
            _c("interviewee_role", "category"),
            _c("date", "datetime"),
        ),
        key=("interview_id", "question"),
        account_fk=True,
        spelling=("interviewee_role",),
    ),
    "codebook": TableSpec(
        "codebook",
        (
            _c("code", "id", req=True, nn=True),
            _c("dimension", "category", req=True, nn=True),
            _c("description", "text", req=True),
            _c("keywords", "list"),
            _c("patterns", "list"),
            _c("examples", "list"),
        ),
        key=("code",),
    ),
    "manual_codes": TableSpec(
        "manual_codes",
        (
            _c("interview_id", "id", req=True, nn=True),
            _c("question", "category", req=True, nn=True),
            _c("code", "id", req=True, nn=True),
            _c("coder", "id", req=True, nn=True),
        ),
        key=("interview_id", "question", "code", "coder"),
    ),
    "activities": TableSpec(
        "activities",
        (
            _c("lead_id", "id", req=True, nn=True),
            _c("timestamp", "datetime", req=True, nn=True),
            _c("activity", "category", req=True, nn=True),
            _c("detail", "text"),
            _c("job_title", "category"),
        ),
        spelling=("activity", "job_title"),
    ),
    "leads": TableSpec(
        "leads",
        (
            _c("lead_id", "id", req=True, nn=True),
            _c("created", "datetime"),
            _c("converted", "bool"),
            _c("converted_date", "datetime"),
            _c("account_id", "id"),
            _c("job_title", "category"),
            _c("source", "category"),
        ),
        key=("lead_id",),
        account_fk=True,
        spelling=("job_title", "source"),
    ),
    "prospects": TableSpec(
        "prospects",
        (
            _c("prospect_id", "id", req=True, nn=True),
            _c("industry", "category"),
            _c("employees", "int", min_value=0),
            _c("country", "category"),
            *_FIRMOGRAPHICS,
        ),
        key=("prospect_id",),
        spelling=("industry", "country", "region", "city", "business_type"),
    ),
}


def _customers_spec() -> TableSpec:
    from .demographics import DEMOGRAPHIC_KINDS

    b2b = TABLE_SPECS["accounts"]
    columns = [_c("account_id", "id", req=True, nn=True)]
    columns += [_c(name, kind, min_value=0 if kind in ("int", "number") else None)
                for name, kind in DEMOGRAPHIC_KINDS.items()]
    names = {c.name for c in columns}
    # the company columns stay canonical, optional: a consumer export may still carry some
    columns += [c for c in b2b.columns if c.name not in names and c.name not in ("industry", "employees")]
    columns += [_c("industry", "category"), _c("employees", "int", min_value=0)]
    return TableSpec(
        "accounts",
        tuple(columns),
        key=("account_id",),
        spelling=("gender", "marital_status", "education", "occupation", "country", "region", "city"),
    )


#: The accounts table of a consumer (B2C) profile: only ``account_id`` is
#: required; demographics (:mod:`icp_helpers.data.demographics`) are canonical.
CUSTOMERS_SPEC: TableSpec = _customers_spec()


def accounts_spec(kind: str | None) -> TableSpec:
    """The accounts table's spec for a profile kind (``b2c``: :data:`CUSTOMERS_SPEC`)."""
    return CUSTOMERS_SPEC if kind == "b2c" else TABLE_SPECS["accounts"]


def parse_column(
    series: pd.Series,
    spec: ColumnSpec,
    *,
    aliases: dict[str, str] | None = None,
    dayfirst: bool | None = None,
    date_format: str | None = None,
    decimal: str | None = None,
    max_number: float | None = MAX_NUMBER,
    earliest=None,
    latest=None,
) -> Parsed:
    """Parse one canonical column according to its kind.

    ``decimal`` and ``max_number`` go to :func:`parse_numbers`, ``earliest``
    and ``latest`` (the plausible date range) to :func:`parse_datetimes`.
    """
    name, kind = spec.name, spec.kind
    if kind == "category":
        return Parsed(map_distinct(series, lambda cells: apply_aliases(clean_text(cells), aliases)))
    if kind in ("id", "text"):
        return Parsed(apply_aliases(clean_text(series, collapse=False), aliases))
    if kind == "stage":
        return Parsed(
            map_distinct(series, lambda cells: normalise_stage(apply_aliases(clean_text(cells), aliases)))
        )
    if kind == "number":
        return parse_numbers(series, column=name, decimal=decimal, max_number=max_number)
    if kind == "int":
        return parse_integers(series, column=name, decimal=decimal, max_number=max_number)
    if kind == "datetime":
        return parse_datetimes(
            series,
            column=name,
            dayfirst=dayfirst,
            date_format=date_format,
            earliest=earliest,
            latest=latest,
        )
    if kind == "bool":
        return parse_booleans(series, column=name)
    if kind == "list":
        return parse_lists(series, column=name)
    raise ValueError(f"unknown column kind {kind!r} for {name}")


# --------------------------------------------------------------------------- pandera

_DTYPES = {
    "id": TEXT_DTYPE,
    "text": TEXT_DTYPE,
    "category": TEXT_DTYPE,
    "stage": TEXT_DTYPE,
    "number": "float64",
    "int": "Int64",
    "datetime": "datetime64[ns]",
    "bool": "boolean",
    "list": object,
}

_CLOSED_DEAL = "empty required field {column} (won/lost deal)"


def _arrow_text(series: pd.Series):
    """Text cells as a pyarrow array (zero-copy for pandas' Arrow-backed strings)."""
    import pyarrow

    text = as_text(series)
    try:
        cells = pyarrow.array(text.array)
    except (TypeError, pyarrow.ArrowInvalid):
        cells = pyarrow.array(text.to_numpy(dtype=object), from_pandas=True)
    if isinstance(cells, pyarrow.ChunkedArray):
        cells = cells.combine_chunks()
    return (
        cells if pyarrow.types.is_large_string(cells.type) else cells.cast(pyarrow.large_string())
    )


def known_check(values, *, error: str) -> pa.Check:
    """A check that cells are among ``values`` (:func:`icp_helpers.data.frames.isin`; nulls pass).

    ``pa.Check.isin`` copies and converts the allowed values on every use,
    which dominates validation time for millions of deals against hundreds
    of thousands of account ids; this builds the value set once.
    """
    import pyarrow
    import pyarrow.compute as pc

    allowed = pd.Series(list(values) if isinstance(values, set | frozenset) else values)
    value_set = pc.unique(_arrow_text(allowed.dropna()))

    def known(series: pd.Series) -> pd.Series:
        cells = getattr(series.array, "_pa_array", None)
        if cells is None or not (
            pyarrow.types.is_string(cells.type) or pyarrow.types.is_large_string(cells.type)
        ):
            cells = _arrow_text(series)
        text = pd.Series(pd.arrays.ArrowStringArray(cells), index=series.index)
        return isin(text, value_set) | series.isna()

    return pa.Check(known, error=error)


def table_schema(
    table: str,
    *,
    columns: list[str] | None = None,
    account_ids=None,
    unique: bool = True,
    spec: TableSpec | None = None,
) -> pa.DataFrameSchema:
    """The pandera schema of a canonical table.

    Parameters
    ----------
    table : str
        A key of :data:`TABLE_SPECS`.
    columns : list of str, optional
        The columns present; optional canonical columns not listed are left
        out of the schema. Default: all canonical columns.
    account_ids : collection, optional
        Known account ids; when given, ``account_id`` must be one of them.
    unique : bool
        Check the table's key for duplicates (later rows are reported, the
        first occurrence is kept).
    spec : TableSpec, optional
        The table's spec when it is not the default one (consumers'
        accounts: :data:`CUSTOMERS_SPEC`).

    Notes
    -----
    Check error messages are the quarantine reasons, so a failure case maps
    to a reason with :func:`failure_reason`.
    """
    spec = spec or TABLE_SPECS[table]
    present = set(spec.names if columns is None else columns)
    cols: dict[str, pa.Column] = {}
    for col in spec.columns:
        if col.name not in present and not col.required:
            continue
        checks = []
        if col.min_value is not None:
            checks.append(pa.Check.ge(col.min_value, error=f"negative {col.name}"))
        if col.kind == "stage":
            checks.append(pa.Check.isin(STAGES, error=f"unknown stage in {col.name}"))
        if col.name == "question":
            checks.append(
                pa.Check.isin(QUESTIONS, error="question not one of the six method questions")
            )
        if col.name == "account_id" and spec.account_fk and account_ids is not None:
            checks.append(known_check(account_ids, error="unknown account_id"))
        nullable = not col.not_null
        if table == "deals" and col.name in ("close_date", "amount"):
            nullable = True  # open deals may lack them; see the table check below
        cols[col.name] = pa.Column(
            _DTYPES[col.kind],
            checks=checks,
            nullable=nullable,
            required=col.required,
        )
    table_checks = []
    if table == "deals" and "stage" in present:
        for name in ("close_date", "amount"):
            table_checks.append(
                pa.Check(
                    lambda df, name=name: ~(df["stage"].isin(["won", "lost"]) & df[name].isna()),
                    error=_CLOSED_DEAL.format(column=name),
                )
            )
    key = list(spec.key) if unique and spec.key else None
    return pa.DataFrameSchema(
        cols,
        checks=table_checks,
        unique=key,
        report_duplicates="exclude_first",
        strict=False,
        name=table,
    )


def failure_reason(column, check) -> str:
    """The quarantine reason of one pandera failure case."""
    check = str(check)
    if check == "not_nullable":
        return f"empty required field {column}"
    if check in ("field_uniqueness", "multiple_fields_uniqueness") or check.startswith("unique"):
        return "duplicate " + str(column)
    return check
