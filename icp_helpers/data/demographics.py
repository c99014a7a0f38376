"""Demographics of consumers: the who-traits of a B2C customer profile.

A consumer export describes people, not companies: birth year or age,
gender, income, marital status, education, children and household size,
city, region and country. This module holds that vocabulary (the canonical
names, how each is parsed, and the export headers that mean them) and turns
the raw columns into the bands a profile reads:

* birth year -> ``age`` at the snapshot or window end (ages outside 14-100
  are typing errors and stay missing), ``age`` -> ``age_band`` (standard
  bands :data:`AGE_BANDS`);
* ``income`` -> ``income_band`` (``low``, ``mid``, ``high``: the thirds of
  the customers' incomes, with the edges in :attr:`attrs`);
* ``children`` -> ``has_children``; yes/no flags of a partner, dependents
  or a senior citizen (``Partner``, ``Dependents``, ``SeniorCitizen``) are
  read as ``has_partner``, ``has_dependents`` and ``senior``;
* marital status spelled many ways -> ``single``, ``couple``, ``divorced``,
  ``widowed``, other values kept as written.

The bands are what groups, personas and the shop cuts show; the trait
selection draws its own candidates from the raw numbers (age in the
standard bands, income in quartiles), so a band learned here never leaks
into a fit score applied to new data.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = [
    "DEMOGRAPHIC_KINDS",
    "DEMOGRAPHIC_COLUMNS",
    "HEADER_SYNONYMS",
    "AGE_BANDS",
    "DEMOGRAPHIC_BANDS",
    "INCOME_BANDS",
    "MARITAL_WORDS",
    "is_demographic",
    "age_from_birth_year",
    "band_ages",
    "band_values",
    "band_incomes",
    "add_demographics",
    "describe_level",
    "demographic_columns",
]

#: Canonical demographic columns of a customers table and how each is parsed
#: (the kinds of :mod:`icp_helpers.data.schema`).
DEMOGRAPHIC_KINDS = {
    "age": "int",
    "birth_year": "int",
    "gender": "category",
    "income": "number",
    "marital_status": "category",
    "education": "category",
    "children": "int",
    "household_size": "int",
    "has_partner": "bool",
    "has_dependents": "bool",
    "senior": "bool",
    "occupation": "category",
    "city": "category",
    "region": "category",
    "country": "category",
}
#: The demographic columns, and the bands derived from them.
DEMOGRAPHIC_COLUMNS = (*DEMOGRAPHIC_KINDS, "age_band", "income_band", "has_children")

#: The demographic columns customer groups are formed on (when present):
#: categories and bands, not raw numbers; places are left to the trait
#: selection, since a company's country is a firmographic too.
DEMOGRAPHIC_BANDS = ("age_band", "gender", "income_band", "marital_status", "education",
                     "has_children", "has_partner", "has_dependents", "senior", "occupation")

#: Export headers (compared in snake case) that mean a demographic column.
HEADER_SYNONYMS = {
    "birth_year": ("year_birth", "year_of_birth", "birthyear", "yob", "born"),
    "gender": ("sex",),
    "income": ("annual_income", "yearly_income", "household_income", "salary"),
    "marital_status": ("marital", "relationship_status", "civil_status"),
    "children": ("kids", "number_of_children", "num_children", "n_children"),
    "household_size": ("household", "hh_size", "household_members"),
    "education": ("education_level", "degree"),
    "occupation": ("job", "profession"),
    "has_partner": ("partner", "with_partner"),
    "has_dependents": ("dependents", "has_dependants", "dependants"),
    "senior": ("senior_citizen", "seniorcitizen", "is_senior"),
}

#: Standard age bands: (label, lower bound inclusive, upper bound exclusive).
AGE_BANDS = (
    ("<18", None, 18),
    ("18-24", 18, 25),
    ("25-34", 25, 35),
    ("35-44", 35, 45),
    ("45-54", 45, 55),
    ("55-64", 55, 65),
    ("65+", 65, None),
)
#: Income thirds, lowest first.
INCOME_BANDS = ("low", "mid", "high")

#: Spellings of marital status (lower case) -> the word a profile uses.
MARITAL_WORDS = {
    "single": "single",
    "alone": "single",
    "never married": "single",
    "married": "couple",
    "together": "couple",
    "partner": "couple",
    "cohabiting": "couple",
    "in a relationship": "couple",
    "divorced": "divorced",
    "separated": "divorced",
    "widow": "widowed",
    "widowed": "widowed",
    "widower": "widowed",
}

_MIN_AGE, _MAX_AGE = 14, 100


def is_demographic(column: str) -> bool:
    """Whether ``column`` is one of the demographic columns (or a band of one)."""
    return column.lower() in DEMOGRAPHIC_COLUMNS


def age_from_birth_year(birth_year: pd.Series, *, as_of: pd.Timestamp) -> pd.Series:
    """Age in whole years at ``as_of``; implausible ages (under 14, over 100) are missing."""
    years = pd.to_numeric(birth_year, errors="coerce")
    age = pd.Timestamp(as_of).year - years
    return age.where((age >= _MIN_AGE) & (age <= _MAX_AGE)).astype("Int64")


def band_values(values: pd.Series, bands) -> pd.Series:
    """The label of the band each value falls in; ``bands`` are (label, low incl., high excl.)."""
    out = pd.Series(pd.NA, index=values.index, dtype="object")
    for label, low, high in bands:
        inside = values.notna()
        if low is not None:
            inside &= values >= low
        if high is not None:
            inside &= values < high
        out[inside] = label
    return out


def band_ages(age: pd.Series) -> pd.Series:
    """The standard age band (:data:`AGE_BANDS`) of each age; missing stays missing."""
    return band_values(pd.to_numeric(age, errors="coerce").astype(float), AGE_BANDS)


def band_incomes(income: pd.Series) -> pd.Series:
    """``low``/``mid``/``high`` income: the thirds of the known incomes.

    The edges are kept in ``attrs["edges"]`` so a report can state them.
    """
    values = pd.to_numeric(income, errors="coerce").astype(float)
    out = pd.Series(pd.NA, index=income.index, dtype="object")
    known = values.dropna()
    if known.nunique() < 3:
        return out
    low, high = np.quantile(known, [1 / 3, 2 / 3])
    out[values.notna() & (values < low)] = "low"
    out[values.notna() & (values >= low) & (values < high)] = "mid"
    out[values.notna() & (values >= high)] = "high"
    out.attrs["edges"] = [float(low), float(high)]
    return out


def _marital(values: pd.Series) -> pd.Series:
    text = values.astype("object")
    key = text.map(lambda v: v.strip().lower() if isinstance(v, str) else v)
    mapped = key.map(MARITAL_WORDS)
    return mapped.where(mapped.notna(), text)


def add_demographics(frame: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.DataFrame:
    """``frame`` with the demographic bands added where their raw columns exist.

    Parameters
    ----------
    frame : DataFrame
        One row per customer (the per-account feature table).
    as_of : Timestamp
        The date ages are measured at (the window end or the snapshot date).

    Returns
    -------
    DataFrame
        A copy with ``age`` (from ``birth_year`` when there is no age),
        ``age_band``, ``income_band``, ``has_children`` and marital status
        in profile words; ``birth_year`` is dropped once it became ``age``,
        since the two would restate each other.
    """
    out = frame.copy()
    if "birth_year" in out and "age" not in out:
        out["age"] = age_from_birth_year(out["birth_year"], as_of=as_of)
        out = out.drop(columns="birth_year")
    if "age" in out:
        out["age_band"] = band_ages(out["age"])
    if "income" in out:
        out["income_band"] = band_incomes(out["income"])
    if "children" in out:
        children = pd.to_numeric(out["children"], errors="coerce")
        out["has_children"] = (children > 0).fillna(False).astype(bool)
    if "marital_status" in out:
        out["marital_status"] = _marital(out["marital_status"])
    return out


_LEVEL_WORDS = {
    ("has_children", "True"): "with children",
    ("has_children", "False"): "no children",
    ("has_partner", "True"): "with a partner",
    ("has_partner", "False"): "no partner",
    ("has_dependents", "True"): "with dependents",
    ("has_dependents", "False"): "no dependents",
    ("senior", "True"): "seniors",
    ("senior", "False"): "under 65",
    ("income_band", "low"): "lower income",
    ("income_band", "mid"): "mid income",
    ("income_band", "high"): "high income",
}


def describe_level(column: str, level) -> str:
    """A short phrase for one demographic level, for group and persona titles.

    ``age_band=35-44`` reads "aged 35-44", ``income_band=high`` "high
    income", ``marital_status=couple`` "couples"; other columns read
    "<column> <level>".
    """
    text = str(level)
    if (column, text) in _LEVEL_WORDS:
        return _LEVEL_WORDS[(column, text)]
    if column in ("age_band", "age"):
        return f"aged {text}"
    if column == "marital_status":
        return {"couple": "couples", "single": "singles"}.get(text, text)
    if column == "children":
        return "no children" if text == "0" else f"{text} children"
    if column in ("gender", "education", "occupation", "city", "region", "country"):
        return text
    return f"{column.replace('_', ' ')} {text}"


def demographic_columns(columns: Iterable[str]) -> list[str]:
    """The demographic columns among ``columns``, in vocabulary order."""
    present = set(columns)
    return [c for c in DEMOGRAPHIC_COLUMNS if c in present]
