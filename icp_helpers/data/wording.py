"""Words that follow the profile kind: companies (B2B) or consumers (B2C).

A consumer profile speaks of *customers* and *demographics*, a company
profile of *accounts* and *firmographics*. The card, the notebooks and the
templates take their words from :func:`words`, so one switch
(``profile.kind`` in the config, or what the accounts' columns say) changes
them everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["KINDS", "infer_kind", "profile_kind", "words", "behaviour_label"]

KINDS = ("b2b", "b2c")

_WORDS = {
    "b2b": {
        "kind": "b2b",
        "account": "account",
        "accounts": "accounts",
        "Account": "Account",
        "Accounts": "Accounts",
        "who": "firmographic",
        "whos": "firmographics",
        "Whos": "Firmographics",
        "profile": "company profile",
        "member": "company",
        "members": "companies",
        "persona_role": "job role",
    },
    "b2c": {
        "kind": "b2c",
        "account": "customer",
        "accounts": "customers",
        "Account": "Customer",
        "Accounts": "Customers",
        "who": "demographic",
        "whos": "demographics",
        "Whos": "Demographics",
        "profile": "consumer profile",
        "member": "person",
        "members": "people",
        "persona_role": "life stage",
    },
}


def infer_kind(columns: Iterable[str]) -> str:
    """``b2b`` when the accounts have an ``industry`` or ``employees`` column, else ``b2c``."""
    present = set(columns)
    return "b2b" if present & {"industry", "employees"} else "b2c"


def profile_kind(config=None, *, columns: Iterable[str] | None = None) -> str:
    """The profile kind: ``profile.kind`` of the config, else inferred from ``columns``.

    Without either, ``b2b`` (the workbench's original shape).
    """
    kind = getattr(getattr(config, "profile", None), "kind", None)
    if kind:
        return kind
    if columns is not None:
        return infer_kind(columns)
    return "b2b"


def words(kind: str | None = "b2b") -> dict[str, str]:
    """The words of one profile kind (``account``/``customer``, ``firmographic``/``demographic``...)."""
    return dict(_WORDS.get(kind or "b2b", _WORDS["b2b"]))


#: How buying-behaviour columns read for consumers (orders and spend, not deals).
_CONSUMER_BEHAVIOUR = {
    "avg_deal_amount": "average order value",
    "avg_deal_size": "average items per order",
    "avg_deal_price": "average price per item",
    "deal_frequency": "orders per quarter",
    "spend_min": "smallest order",
    "spend_median": "median order",
    "spend_max": "largest order",
    "won_value": "total spend",
    "won_deals": "orders",
}


def behaviour_label(column: str, label: str, kind: str | None = "b2b") -> str:
    """The label of a buying-behaviour column for the profile kind (``label`` for companies)."""
    return _CONSUMER_BEHAVIOUR.get(column, label) if kind == "b2c" else label
