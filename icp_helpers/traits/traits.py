"""Candidate traits: small, serialisable predicates on the per-account table.

A trait is a yes/no statement about one account ("industry is wholesaler",
"employees 10-49", "said reliable delivery was a pain"). Each one is a
:class:`TraitDef`: an id (see ``docs/architecture.md``), a plain-language
label, a kind, the column it reads and an operator with its value(s). The
definition carries everything needed to apply it again, including the edges of
quantile bands learned on the analysis window, so the same trait can be
evaluated on prospects and on later quarters without refitting.

Kinds, and what each may be used for
------------------------------------
``firmographic``
    Facts about the company (industry, size band, country, extra account
    columns). Known before a first purchase: selectable and scorable.
``contact``
    Facts about the people (dominant job role, seniority). Known before a
    first purchase: selectable and scorable.
``behaviour``
    How the account buys (average price band, preferred weekday, share of
    multi-item orders ...). Shown in the evidence table as buying behaviour,
    but never selected into the fit score: a prospect has no deals yet.
``code``
    Interview codes. They explain *why* best customers buy ("why"
    evidence): judged within interviewed accounts only, selected separately,
    shown on the ICP card and never scored (prospects were not interviewed).

The inputs of the best-customer value rule (won value, frequency, referrals,
case study, spend thresholds) are left out of the candidates altogether
(:data:`VALUE_RULE_COLUMNS`): they define who is "best", so finding them
over-represented among the best customers is circular, not evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..customers.features import EMPLOYEE_BANDS, REVENUE_BANDS
from ..data.demographics import AGE_BANDS, describe_level, is_demographic
from ..data.frames import positions

__all__ = [
    "KINDS",
    "WHO_KINDS",
    "scored_kinds",
    "VALUE_RULE_COLUMNS",
    "ID_COLUMNS",
    "EMPLOYEE_BANDS",
    "REVENUE_BANDS",
    "TraitDef",
    "candidate_traits",
    "trait_matrix",
    "missing_counts",
    "with_codes",
    "value_rule_columns",
    "traits_to_dicts",
    "traits_from_dicts",
    "TraitInputs",
    "load_trait_inputs",
    "candidates_summary",
]

KINDS = ("firmographic", "contact", "behaviour", "code")
#: Kinds observable before a first purchase: the only ones a fit score may use.
WHO_KINDS = ("firmographic", "contact")


def scored_kinds(score_behaviour: bool = False) -> tuple[str, ...]:
    """Trait kinds a fit score may use: who-traits, plus behaviour when asked.

    Behaviour traits (``traits.score_behaviour``) suit shops that score their
    existing customers; a prospect has no purchases and matches none of them.
    """
    return (*WHO_KINDS, "behaviour") if score_behaviour else WHO_KINDS


#: Columns that feed the value rule (and close relatives that restate it).
VALUE_RULE_COLUMNS = (
    "won_value",
    "deal_frequency",
    "n_deals",
    "won_deals",
    "n_won",
    "deal_count",
    "deals_won",
    "referrals",
    "referrals_made",
    "case_study",
    "spend_min",
    "spend_median",
    "spend_max",
    "avg_deal_amount",
    "n_units",
    "value_score",
    "value_rank",
    "is_best",
    "is_negative",
    "negative_reason",
)

#: Identifier and free-text columns that are never traits.
ID_COLUMNS = (
    "account_id",
    "name",
    "account_name",
    "email",
    "phone",
    "website",
    "referred_by",
    "created_date",
    "churned_date",
    "first_deal",
    "last_deal",
    "first_purchase",
    "last_purchase",
    "group",
)

_STANDARD_BANDS = {
    "employees": ("employees_band", EMPLOYEE_BANDS),
    "annual_revenue": ("revenue_band", REVENUE_BANDS),
    "age": ("age_band", AGE_BANDS),
}
_BAND_NOUNS = {"employees": "employees", "annual_revenue": "annual revenue", "age": "aged"}
_BAND_SOURCE = {band: raw for raw, (band, _) in _STANDARD_BANDS.items()}

_CONTACT_COLUMNS = {"job_role", "seniority", "job_title", "age", "gender", "n_contacts"}
_CONTACT_PREFIXES = ("contact_", "dominant_")
_BEHAVIOUR_COLUMNS = {
    "avg_amount",
    "avg_deal_amount",
    "avg_price",
    "avg_unit_price",
    "avg_quantity",
    "avg_items",
    "recency_days",
    "recency",
    "tenure_days",
    "tenure",
    "multi_item_share",
    "multi_item_buyer",
    "preferred_weekday",
    "preferred_hour",
    "lost_share",
    "lost_deals",
    "n_lost",
    "open_deals",
    "n_products",
    "days_between_deals",
}
_BEHAVIOUR_PREFIXES = ("avg_", "preferred_", "recency", "tenure", "lost_", "n_", "share_", "days_")
_BEHAVIOUR_SUFFIXES = ("_share", "_days", "_count")
#: Demographic columns whose levels read as phrases ("no children", "couples").
_DEMOGRAPHIC_LEVEL_WORDS = ("children", "marital_status", "income_band", "has_children")
#: Demographic yes/no flags, labelled as phrases ("with a partner", "seniors").
_DEMOGRAPHIC_FLAG_WORDS = ("has_children", "has_partner", "has_dependents", "senior")
_QUARTILE_NAMES = {
    "Q1": "lowest quarter",
    "Q2": "second quarter",
    "Q3": "third quarter",
    "Q4": "top quarter",
}


@dataclass(frozen=True)
class TraitDef:
    """One candidate trait: a yes/no predicate on an account row.

    Parameters
    ----------
    id : str
        Identifier shared by every artifact (``industry=wholesaler``,
        ``employees_band=10-49``, ``case_study``, ``pain:reliable_delivery``).
    label : str
        The trait in plain language, for tables and the ICP card.
    kind : str
        ``firmographic``, ``contact``, ``behaviour`` or ``code``.
    column : str
        The column the predicate reads.
    op : str
        ``eq`` (equals ``value``), ``range`` (``lower <= x < upper``, either
        bound may be None) or ``flag`` (true).
    value : str, optional
        The level for ``eq``; the band label for ``range`` (used when only the
        band column, not the raw number, is present).
    lower, upper : float, optional
        Bounds for ``range``.
    band_column : str, optional
        A column holding the band label, used when ``column`` is absent.
    """

    id: str
    label: str
    kind: str
    column: str
    op: str
    value: Any = None
    lower: float | None = None
    upper: float | None = None
    band_column: str | None = None
    meta: dict = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"trait {self.id!r}: kind {self.kind!r} is not one of {KINDS}")
        if self.op not in ("eq", "range", "flag"):
            raise ValueError(f"trait {self.id!r}: op {self.op!r} is not eq, range or flag")

    @property
    def scorable(self) -> bool:
        """True when the trait is observable before a first purchase."""
        return self.kind in WHO_KINDS

    @property
    def evidence_type(self) -> str:
        """``who`` (firmographic/contact), ``behaviour`` or ``why`` (interview code)."""
        return {"code": "why", "behaviour": "behaviour"}.get(self.kind, "who")

    def applies_to(self, frame: pd.DataFrame) -> bool:
        """Whether ``frame`` has a column this trait can be read from."""
        return self.column in frame.columns or (
            self.band_column is not None and self.band_column in frame.columns
        )

    def evaluate(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Evaluate on ``frame``: ``(has_trait, is_missing)`` boolean arrays.

        A missing value (or a missing column) counts as not having the trait
        and is flagged in ``is_missing`` so the caller can report it.
        """
        n = len(frame)
        if self.column in frame.columns:
            values = frame[self.column]
            use_band = False
        elif self.band_column is not None and self.band_column in frame.columns:
            values = frame[self.band_column]
            use_band = True
        else:
            return np.zeros(n, dtype=bool), np.ones(n, dtype=bool)
        missing = values.isna().to_numpy()
        if self.op == "flag":
            hit = values.fillna(False).astype(bool).to_numpy()
        elif self.op == "eq" or use_band:
            target = self.value
            if isinstance(target, str) and isinstance(values.dtype, pd.StringDtype | pd.CategoricalDtype):
                # compared where the text lives (Arrow, or the categories), not cell by cell
                hit = (values == target).to_numpy(dtype=bool, na_value=False)
            else:
                hit = (values.astype("object") == target).to_numpy(dtype=bool, na_value=False)
            if not hit.any() and not isinstance(target, str):
                hit = (values.astype("object").astype(str) == str(target)).to_numpy(
                    dtype=bool, na_value=False
                )
        else:
            x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            missing = np.isnan(x)
            with np.errstate(invalid="ignore"):
                hit = np.ones(n, dtype=bool)
                if self.lower is not None:
                    hit &= x >= self.lower
                if self.upper is not None:
                    hit &= x < self.upper
        hit = np.asarray(hit, dtype=bool) & ~missing
        return hit, missing

    def to_dict(self) -> dict:
        """A JSON-ready dict; :meth:`from_dict` rebuilds the trait."""
        out = asdict(self)
        if not out["meta"]:
            out.pop("meta")
        return {k: v for k, v in out.items() if v is not None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TraitDef:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def traits_to_dicts(traits: Iterable[TraitDef]) -> list[dict]:
    """Serialise traits (for ``selection.json``)."""
    return [t.to_dict() for t in traits]


def traits_from_dicts(items: Iterable[Mapping[str, Any]]) -> list[TraitDef]:
    """Rebuild traits serialised by :func:`traits_to_dicts`."""
    return [TraitDef.from_dict(item) for item in items]


def value_rule_columns(rule: Any = None) -> tuple[str, ...]:
    """The columns to leave out of the candidates: the rule's inputs and their restatements.

    Parameters
    ----------
    rule : BestCustomerRule, mapping of weights, iterable of str, or None
        The ``best_customers`` config section (its components and what
        :func:`icp_helpers.customers.best.rule_columns` lists as restating them), a
        ``weights`` mapping, or column names; always added to
        :data:`VALUE_RULE_COLUMNS`.
    """
    extra: list[str] = []
    if rule is not None:
        from ..customers.best import rule_columns  # local import: best imports nothing from here

        if hasattr(rule, "weights"):
            extra = list(rule_columns(rule))
        elif isinstance(rule, Mapping):
            extra = [*rule, *rule_columns({"weights": dict(rule)})]
        else:
            extra = list(rule)
    return tuple(dict.fromkeys([*VALUE_RULE_COLUMNS, *extra]))


def _humanise(column: str) -> str:
    return column.replace("_", " ").strip()


def _infer_kind(column: str, kinds: Mapping[str, str], role: str | None = None) -> str:
    if column in kinds:
        return kinds[column]
    name = column.lower()
    if role == "behaviour":
        return "behaviour"
    if is_demographic(name):
        return "firmographic"  # who the customer is: a demographic of a consumer
    if name in _CONTACT_COLUMNS or name.startswith(_CONTACT_PREFIXES):
        return "contact"
    if role == "who":
        return "firmographic"
    if (
        name in _BEHAVIOUR_COLUMNS
        or name.startswith(_BEHAVIOUR_PREFIXES)
        or name.endswith(_BEHAVIOUR_SUFFIXES)
    ):
        return "behaviour"
    return "firmographic"


def _is_flag(series: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(series.dtype):
        return True
    if series.dtype == object:
        values = series.dropna()
        return len(values) > 0 and values.map(lambda v: isinstance(v, bool | np.bool_)).all()
    return False


def _level_text(level: Any) -> str:
    if isinstance(level, float) and level.is_integer():
        return str(int(level))
    return str(level)


def _half_traits(column: str, x: pd.Series, kind: str) -> list[TraitDef]:
    """Top and bottom half of a number: the one-threshold form of adjacent quarter bands.

    When the median is also the smallest value (a number that is mostly 0),
    the split is "above it" against "at most it", so that neither side holds
    everyone.
    """
    median = float(np.median(x))
    if median <= float(x.min()):
        edge = float(np.nextafter(median, np.inf))
        top, bottom = f"above {median:g}", f"at most {median:g}"
    else:
        edge = median
        top, bottom = "top half", "bottom half"
    return [
        TraitDef(id=f"{column}_band={bottom}", label=f"{_humanise(column)}: {bottom}", kind=kind,
                 column=column, op="range", value=bottom, lower=None, upper=edge,
                 band_column=f"{column}_band"),
        TraitDef(id=f"{column}_band={top}", label=f"{_humanise(column)}: {top}", kind=kind,
                 column=column, op="range", value=top, lower=edge, upper=None,
                 band_column=f"{column}_band"),
    ]


def _quantile_traits(column: str, values: pd.Series, kind: str, *, n_bands: int) -> list[TraitDef]:
    x = pd.to_numeric(values, errors="coerce").dropna().astype(float)
    if x.nunique() < 2:
        return []
    edges = np.quantile(x, np.linspace(0, 1, n_bands + 1)[1:-1])
    traits = []
    lower: float | None = None
    for i in range(n_bands):
        upper = float(edges[i]) if i < n_bands - 1 else None
        # Ties in the data collapse some quantile edges; skip the empty bands.
        if upper is not None and lower is not None and upper <= lower:
            continue
        band = f"Q{i + 1}" if n_bands == 4 else f"B{i + 1}of{n_bands}"
        inside = np.ones(len(x), dtype=bool)
        if lower is not None:
            inside &= x.to_numpy() >= lower
        if upper is not None:
            inside &= x.to_numpy() < upper
        if inside.any():
            words = _QUARTILE_NAMES.get(band, band) if n_bands == 4 else band
            traits.append(
                TraitDef(
                    id=f"{column}_band={band}",
                    label=f"{_humanise(column)}: {words}",
                    kind=kind,
                    column=column,
                    op="range",
                    value=band,
                    lower=lower,
                    upper=upper,
                    band_column=f"{column}_band",
                )
            )
        lower = upper
    return traits


def _standard_band_traits(
    frame: pd.DataFrame, raw: str, kind: str, *, min_count: int
) -> list[TraitDef]:
    band_column, bands = _STANDARD_BANDS[raw]
    noun = _BAND_NOUNS[raw]
    candidates = [
        TraitDef(
            id=f"{band_column}={label}",
            label=f"{noun} {label}",
            kind=kind,
            column=raw,
            op="range",
            value=label,
            lower=lo,
            upper=hi,
            band_column=band_column,
        )
        for label, lo, hi in bands
    ]
    # Bands too few accounts fall into cannot carry evidence; leave them out.
    return [t for t in candidates if t.evaluate(frame)[0].sum() >= min_count]


def candidate_traits(
    features: pd.DataFrame,
    *,
    code_traits: pd.DataFrame | None = None,
    exclude: Iterable[str] = VALUE_RULE_COLUMNS,
    kinds: Mapping[str, str] | None = None,
    roles: pd.DataFrame | Mapping[str, str] | None = None,
    min_count: int = 5,
    max_share: float = 0.95,
    max_levels: int = 30,
    n_bands: int = 4,
) -> list[TraitDef]:
    """Every candidate trait of a per-account feature table.

    Parameters
    ----------
    features : DataFrame
        One row per account (``features.parquet``).
    code_traits : DataFrame, optional
        ``account_id`` plus one boolean column per interview code
        (``code_traits.parquet``); each column becomes a ``code`` trait.
    exclude : iterable of str
        Columns that are not candidates; by default the value rule's inputs
        (see the module docstring) plus :data:`ID_COLUMNS` always.
    kinds : mapping, optional
        ``column -> kind`` overrides (``firmographic``, ``contact``,
        ``behaviour``).
    roles : DataFrame or mapping, optional
        Column roles (:func:`icp_helpers.customers.roles.infer_roles`, or ``column ->
        role``); inferred from ``features`` when omitted. Only ``who`` and
        ``behaviour`` columns give candidates: ids, dates, outcomes and
        ignored columns never do, and a ``behaviour`` column (computed from
        the deals, or restating spend) is never a who-trait.
    min_count : int
        Categorical levels held by fewer accounts are not candidates: they
        cannot reach significance and only add to the multiple-testing burden.
    max_share : float
        A level, band or flag held by this share of the accounts with a
        value or more (a band holding everyone, a level nearly everyone has)
        is not a candidate: it cannot tell anyone apart.
    max_levels : int
        Categorical columns with more qualifying levels than this (names,
        cities) are skipped as identifiers rather than traits.
    n_bands : int
        Quantile bands for numeric columns without standard bands (4 gives
        ``Q1`` .. ``Q4``; edges are learned here and stored in the trait).

    Returns
    -------
    list of TraitDef
        Ordered by column, then level/band.
    """
    from ..customers.roles import TRAIT_ROLES, infer_roles, role_map

    kinds = dict(kinds or {})
    skip = set(exclude) | set(ID_COLUMNS)
    if not isinstance(roles, pd.DataFrame):
        roles = infer_roles(features, overrides=roles, exclude=skip)
    role_of = role_map(roles)
    # a column the config names as who or behaviour is a candidate, whatever its name
    skip -= set(roles.loc[(roles["source"] == "config") & roles["role"].isin(TRAIT_ROLES), "column"])
    traits: list[TraitDef] = []
    seen_bands: set[str] = set()
    for column in features.columns:
        if column in skip or column.startswith("_"):
            continue
        role = role_of.get(column, role_of.get(_BAND_SOURCE.get(column, column)))
        if role is not None and role not in TRAIT_ROLES:
            continue
        series = features[column]
        kind = _infer_kind(_BAND_SOURCE.get(column, column), kinds, role)
        if column in _STANDARD_BANDS:
            band_column = _STANDARD_BANDS[column][0]
            if band_column not in seen_bands:
                seen_bands.add(band_column)
                traits.extend(_standard_band_traits(features, column, kind, min_count=min_count))
            continue
        if column in _BAND_SOURCE:
            if column not in seen_bands:
                seen_bands.add(column)
                traits.extend(
                    _standard_band_traits(features, _BAND_SOURCE[column], kind, min_count=min_count)
                )
            continue
        if column.endswith("_band") and column[: -len("_band")] in features.columns:
            continue  # quantile bands are rebuilt from the raw number
        if _is_flag(series):
            if series.fillna(False).astype(bool).sum() >= min_count:
                label = describe_level(column, True) if column in _DEMOGRAPHIC_FLAG_WORDS else _humanise(column)
                traits.append(TraitDef(id=column, label=label, kind=kind, column=column, op="flag"))
            continue
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            continue
        if pd.api.types.is_numeric_dtype(series.dtype) and series.nunique(dropna=True) > n_bands:
            traits.extend(_quantile_traits(column, series, kind, n_bands=n_bands))
            x = pd.to_numeric(series, errors="coerce").dropna().astype(float)
            traits.extend(_half_traits(column, x, kind))
            continue
        traits.extend(_level_traits(column, series, kind, min_count=min_count, max_levels=max_levels))
    traits = _informative(traits, features, min_count=min_count, max_share=max_share)
    if code_traits is not None:
        traits.extend(_code_traits(code_traits))
    return traits


def _level_traits(column: str, series: pd.Series, kind: str, *, min_count: int, max_levels: int) -> list[TraitDef]:
    """One trait per level of a categorical column held by ``min_count`` accounts; none above ``max_levels``."""
    traits = []
    counts = series.value_counts(dropna=True)
    levels = [lvl for lvl, n in counts.items() if n >= min_count and n > 0]
    if not levels or len(levels) > max_levels:
        return traits
    for level in sorted(levels, key=_level_text):
        text = _level_text(level)
        label = f"{_humanise(column)}: {text}"
        if column in _DEMOGRAPHIC_LEVEL_WORDS:
            label = describe_level(column, text)  # "no children", "couples"
        traits.append(
            TraitDef(
                id=f"{column}={text}",
                label=label,
                kind=kind,
                column=column,
                op="eq",
                value=level.item() if isinstance(level, np.generic) else level,
            )
        )
    return traits


def _code_traits(code_traits: pd.DataFrame) -> list[TraitDef]:
    """One ``code`` trait per interview-code column of ``code_traits.parquet``."""
    traits = []
    for column in code_traits.columns:
        if column == "account_id":
            continue
        prefix, _, name = column.partition(":")
        label = f"interview {prefix}: {_humanise(name)}" if name else f"interview: {column}"
        traits.append(TraitDef(id=column, label=label, kind="code", column=column, op="flag"))
    return traits


def _informative(
    traits: list[TraitDef], features: pd.DataFrame, *, min_count: int, max_share: float
) -> list[TraitDef]:
    """The traits held by at least ``min_count`` accounts and by less than ``max_share`` of them."""
    kept = []
    for trait in traits:
        hit, missing = trait.evaluate(features)
        held, known = int(hit.sum()), int((~missing).sum())
        if held >= min_count and held < max_share * known:
            kept.append(trait)
    return kept


def with_codes(features: pd.DataFrame, code_traits: pd.DataFrame | None) -> pd.DataFrame:
    """Join interview-code columns onto the feature table by ``account_id``.

    Accounts that were not interviewed get missing codes (not False), so
    that evidence for codes can be restricted to interviewed accounts.
    The result keeps ``features``' row order and index; the boolean column
    ``interviewed`` marks the accounts present in ``code_traits``.
    """
    if code_traits is None or code_traits.empty or "account_id" not in code_traits.columns:
        return features.assign(interviewed=False)
    codes = code_traits.drop_duplicates("account_id")
    # each account's row among the interviewed ones, looked up once for every code column
    at = positions(features["account_id"], codes["account_id"])
    joined = {
        # True/False, or NA for accounts not interviewed, as reindexing gave
        column: codes[column].astype("boolean").array.take(at, allow_fill=True).to_numpy()
        for column in codes.columns
        if column not in features.columns
    }
    # as isin(): a missing account id is never an interviewed account
    joined["interviewed"] = (at >= 0) & features["account_id"].notna().to_numpy()
    return features.assign(**joined)


def trait_matrix(frame: pd.DataFrame, traits: Sequence[TraitDef]) -> pd.DataFrame:
    """Evaluate traits on a frame: one boolean column per trait id.

    A missing value counts as not having the trait (False); how many values
    were missing per trait is recorded in ``result.attrs["missing"]`` and
    returned by :func:`missing_counts`.
    """
    columns, missing = {}, {}
    for trait in traits:
        hit, miss = trait.evaluate(frame)
        columns[trait.id] = hit
        missing[trait.id] = int(miss.sum())
    matrix = pd.DataFrame(columns, index=frame.index, dtype=bool)
    matrix.attrs["missing"] = missing
    return matrix


def missing_counts(frame: pd.DataFrame, traits: Sequence[TraitDef]) -> pd.Series:
    """Number of rows whose value for each trait was missing (counted as False)."""
    return pd.Series(
        {t.id: int(t.evaluate(frame)[1].sum()) for t in traits}, name="missing", dtype="int64"
    )


@dataclass
class TraitInputs:
    """What step 3 reads from the run folder, aligned row by row.

    Attributes
    ----------
    features : DataFrame
        ``features.parquet`` (one row per account).
    scores : DataFrame
        ``best_customers.parquet`` in the same row order.
    codes : DataFrame or None
        ``code_traits.parquet``; None when no interviews were coded.
    frame : DataFrame
        ``features`` with the code columns and ``interviewed`` joined
        (:func:`with_codes`): what trait matrices are evaluated on.
    n_set_aside : int
        Accounts left out of the comparison (no won deal in the window,
        see :mod:`icp_helpers.customers.best`); every table above holds the others.
    """

    features: pd.DataFrame
    scores: pd.DataFrame
    codes: pd.DataFrame | None
    frame: pd.DataFrame
    n_set_aside: int = 0

    @property
    def is_best(self) -> np.ndarray:
        return self.scores["is_best"].to_numpy(dtype=bool)

    @property
    def is_negative(self) -> np.ndarray:
        if "is_negative" not in self.scores:
            return np.zeros(len(self.scores), dtype=bool)
        return self.scores["is_negative"].fillna(False).to_numpy(dtype=bool)

    @property
    def interviewed(self) -> np.ndarray:
        return self.frame["interviewed"].to_numpy(dtype=bool)


def load_trait_inputs(run_dir: str | Path, *, comparison_only: bool = True) -> TraitInputs:
    """Read step 1's features and best customers and step 2's code traits.

    A missing ``code_traits.parquet``, or one without any code column,
    means there is no interview evidence for the quarter (not an error:
    a project may have no interviews).

    With ``comparison_only`` (the default), only the accounts step 1 put in
    the comparison (``in_comparison``: the active accounts, unless the config
    includes the inactive ones) are kept; how many were left out is
    ``n_set_aside``.
    """
    from ..data.artifacts import read_table

    features = read_table(run_dir, "features.parquet", made_by="01_best_customers")
    scores = read_table(run_dir, "best_customers.parquet", made_by="01_best_customers")
    scores = (
        scores.drop_duplicates("account_id")
        .set_index("account_id")
        .reindex(features["account_id"].to_numpy())
        .reset_index()
    )
    scores["is_best"] = scores["is_best"].fillna(False).astype(bool)
    n_set_aside = 0
    if comparison_only and "in_comparison" in scores:
        keep = scores["in_comparison"].fillna(False).to_numpy(dtype=bool)
        n_set_aside = int((~keep).sum())
        if n_set_aside:
            features = features[keep].reset_index(drop=True)
            scores = scores[keep].reset_index(drop=True)
    codes = None
    if (Path(run_dir) / "code_traits.parquet").is_file():
        codes = read_table(run_dir, "code_traits.parquet")
        if codes.empty or len(codes.columns) < 2:
            codes = None
    return TraitInputs(features=features, scores=scores, codes=codes, frame=with_codes(features, codes),
                       n_set_aside=n_set_aside)


def candidates_summary(
    traits: Sequence[TraitDef], matrix: pd.DataFrame, *, interviewed=None,
    scored: Sequence[str] = WHO_KINDS,
) -> pd.DataFrame:
    """Candidates per kind: how many, their use, from which columns, and values counted as missing.

    With ``interviewed``, codes count as missing only for interviewed
    accounts (the others were not asked, which is not a missing answer).
    ``scored`` names the kinds the fit score uses (:func:`scored_kinds`).
    """
    missing = dict(matrix.attrs.get("missing", {}))
    if interviewed is not None:
        not_asked = int((~np.asarray(interviewed, dtype=bool)).sum())
        for t in traits:
            if t.kind == "code" and t.id in missing:
                missing[t.id] = max(missing[t.id] - not_asked, 0)
    rows = []
    for kind in KINDS:
        chosen = [t for t in traits if t.kind == kind]
        if not chosen:
            continue
        columns = list(dict.fromkeys(t.column for t in chosen))
        rows.append(
            {
                "kind": kind,
                "use": "why (not scored)" if kind == "code"
                else "selectable, scored" if kind in scored else "evidence only",
                "traits": len(chosen),
                "columns": ", ".join(columns),
                "missing_values": int(sum(missing.get(t.id, 0) for t in chosen)),
            }
        )
    return pd.DataFrame(rows)
