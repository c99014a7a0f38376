"""Seeded, vectorised generator of large CRM exports in the sample's shape.

The bundled sample (``data/sample/``, 2,000 accounts) is too small to show
how the workbench scales. This module writes the same canonical tables at
any size as Parquet, drawing from the sample's own segments, firmographics,
products and web activities (``icp_helpers.sample.sample``), so the notebooks find
the columns and value ranges they know:

- ``accounts.parquet``: the canonical account columns with the planted ICP
  traits raising a latent propensity, as in the sample;
- ``deals.parquet``: exactly ``--deals`` deals over 2023Q4-2026Q3, written
  quarter by quarter in close-date order (one row group per ~1M rows), so a
  20M-deal file never has to sit in memory at once; with ``--part-rows N``
  (used for 100M deals) ``deals/part-00000.parquet`` ... instead, each part at
  most N deals drawn for a slice of the accounts (close-date order within a
  part), so memory is bounded by N whatever the number of deals;
- ``contacts.parquet``: one to a few contacts per account;
- ``leads.parquet`` and ``activities.parquet``: ``--leads`` leads with about
  five web events each and conversions driven by the sample's effects.

Everything is vectorised with numpy and pyarrow; each table and each quarter
of deals draws from its own random stream, so the output depends only on the
seed and the sizes. Interviews, codebook, manual codes, transcripts and
prospects are small and are not generated: :func:`write_config` points a
project config at the sample's files, whose account ids (``A00001`` ...)
exist in every generated accounts table of at least 2,000 accounts.

Run from the repository root::

    .venv/bin/python -m bench.generate --accounts 100000 --deals 2000000
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from icp_helpers.data.config import DEFAULT_CONFIG, SAMPLE_DIR
from icp_helpers.sample import leads as sample_leads
from icp_helpers.sample import phrases, world

__all__ = [
    "BENCH_DATA",
    "QUARTER",
    "dataset_dir",
    "generate",
    "write_config",
    "main",
]

BENCH_DATA = Path(__file__).resolve().parent / "data"
#: The last complete quarter of every generated history (as in the sample).
QUARTER = world.SAMPLE_QUARTER

_US_PER_DAY = 86_400_000_000
_START_DAY = int(world.SAMPLE_START.value // (_US_PER_DAY * 1000))
_END_DAY = int(world.SAMPLE_END.value // (_US_PER_DAY * 1000)) + 1  # exclusive
_QUARTER_DAYS = np.array(
    [int(q.value // (_US_PER_DAY * 1000)) for q in pd.date_range(world.SAMPLE_START, world.SAMPLE_END, freq="QS-OCT")]
    + [_END_DAY]
)
_INDUSTRIES = sorted({i for g in world.GROUPS for i in g.industries})
_COUNTRIES = list(world.COUNTRIES)
_SIZES = ("large", "medium", "small")
_SCENES = ("strong", "moderate", "weak")
_BUSINESS = ("independent", "chain", "cooperative")
_PRODUCTS = list(world.PRODUCTS)
_ROLES = list(phrases.CONTACT_TITLES)


def _short(n: int) -> str:
    for unit, size in (("M", 1_000_000), ("k", 1_000)):
        if n >= size and n % (size // 10) == 0:
            value = n / size
            return f"{value:g}{unit}"
    return str(n)


def dataset_dir(accounts: int, deals: int, root: Path = BENCH_DATA) -> Path:
    """The default folder of a generated dataset, e.g. ``bench/data/100k_accounts_2M_deals``."""
    return Path(root) / f"{_short(accounts)}_accounts_{_short(deals)}_deals"


# --------------------------------------------------------------------------- helpers


def _pick(rng: np.random.Generator, probs: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Vectorised categorical draw: ``probs`` is (options,) or (groups, options) with ``rows`` the group of each draw."""
    cum = np.cumsum(probs, axis=-1)
    cum = cum / cum[..., -1:]
    if cum.ndim == 1:
        return np.minimum(np.searchsorted(cum, rng.random(len(rows)), side="right"), len(cum) - 1)
    u = rng.random(len(rows))
    return np.minimum((u[:, None] >= cum[rows]).sum(axis=1), cum.shape[1] - 1)


def _weights(options: dict, keys) -> np.ndarray:
    return np.array([float(options.get(k, 0.0)) for k in keys])


def _strings(values, index: np.ndarray) -> pa.Array:
    """``values[index]`` as an Arrow string array, without Python objects per row."""
    return pa.array(list(values), pa.string()).take(pa.array(index))


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + zero-padded numbers, e.g. ``A00001`` (wider numbers keep all their digits)."""
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _join(*parts) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _null_where(values: pa.Array, missing: np.ndarray) -> pa.Array:
    return pc.if_else(pa.array(missing), pa.scalar(None, values.type), values)


def _timestamps(microseconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    mask = None if valid is None else ~valid
    return pa.array(microseconds.astype("datetime64[us]"), pa.timestamp("us"), mask=mask)


def _days_to_us(days: np.ndarray) -> np.ndarray:
    return days.astype(np.int64) * _US_PER_DAY


# --------------------------------------------------------------------------- accounts


def _accounts(rng: np.random.Generator, n: int) -> tuple[pa.Table, dict[str, np.ndarray]]:
    """The accounts table and the hidden per-account arrays the other tables draw from."""
    group = rng.choice(len(world.GROUPS), size=n, p=[g.share for g in world.GROUPS])
    industry = _pick(rng, np.array([_weights(g.industries, _INDUSTRIES) for g in world.GROUPS]), group)
    misfiled = rng.random(n) < 0.06
    industry[misfiled] = rng.integers(0, len(_INDUSTRIES), misfiled.sum())
    median = np.array([g.employees_median for g in world.GROUPS])[group]
    median = median * np.where(industry == _INDUSTRIES.index("hotel"), 3.0, 1.0)
    sigma = np.array([g.employees_sigma for g in world.GROUPS])[group]
    employees = np.maximum(1, np.round(median * np.exp(rng.normal(0, 1, n) * sigma))).astype(np.int64)
    size = _pick(rng, np.array([_weights(g.city_size, _SIZES) for g in world.GROUPS]), group)
    country = _pick(rng, np.array([v[0] for v in world.COUNTRIES.values()]), group)
    p_strong = np.array([0.5, 0.3, 0.15])[size]
    u = rng.random(n)
    scene = np.where(u < p_strong, 0, np.where(u < p_strong + (1 - p_strong) * 0.6, 1, 2))
    revenue = np.round(employees * 110_000 * np.exp(rng.normal(0, 0.45, n)), -3)
    business = _pick(rng, np.array([_weights(g.business_type, _BUSINESS) for g in world.GROUPS]), group)
    founded = np.minimum(2023, 2023 - rng.gamma(2.0, 9.0, n)).astype(np.int64)

    # city and region: one of the sample's cities of the account's country and size
    places = [(c, s, city, region) for c in _COUNTRIES for s in _SIZES for city, region in world.CITIES[c][s]]
    combo = country * len(_SIZES) + size
    first = np.zeros(len(_COUNTRIES) * len(_SIZES), np.int64)
    count = np.zeros_like(first)
    for k, (c, s, _, _) in enumerate(places):
        key = _COUNTRIES.index(c) * len(_SIZES) + _SIZES.index(s)
        first[key] = k if count[key] == 0 else first[key]
        count[key] += 1
    place = first[combo] + (rng.random(n) * count[combo]).astype(np.int64)

    # latent propensity: the planted ICP traits multiply it (as in the sample)
    log_lam = rng.normal(0, world.PERSISTENT_NOISE, n)
    factors = world.ICP_TRAITS
    log_lam += np.log(factors["industry=wholesaler"]) * (industry == _INDUSTRIES.index("wholesaler"))
    log_lam += np.log(factors["employees_band=10-49"]) * ((employees >= 10) & (employees <= 49))
    log_lam += np.log(factors["city_size=large"]) * (size == 0)
    log_lam += np.log(factors["restaurant_scene=strong"]) * (scene == 0)
    lam = np.exp(log_lam)

    old = rng.random(n) < 1 - world.NEW_ACCOUNT_SHARE
    created = np.where(
        old,
        (pd.Timestamp("2016-01-01").value // (_US_PER_DAY * 1000)) + rng.integers(0, 2830, n),
        _START_DAY + rng.integers(0, 960, n),
    )
    risk = np.where(business == _BUSINESS.index("chain"), 3.0, 1.0) / np.sqrt(lam)
    churn_lo = np.maximum(created + 120, pd.Timestamp("2024-01-15").value // (_US_PER_DAY * 1000))
    churn_span = (_END_DAY - 11) - churn_lo
    churned = (rng.random(n) < np.clip(0.10 * risk / risk.mean(), 0, 0.9)) & (churn_span > 0)
    churn_day = churn_lo + (rng.random(n) * np.maximum(churn_span, 1)).astype(np.int64)

    # referrals: older, high-propensity accounts refer newer ones
    order = np.argsort(created, kind="stable")
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    cum_weight = np.cumsum(lam[order] ** 1.5)
    referred = (rank >= 50) & (rng.random(n) < 0.09)
    r = rank[referred]
    referrer_rank = np.searchsorted(cum_weight, rng.random(len(r)) * cum_weight[r - 1], side="right")
    referrer = np.full(n, -1, np.int64)
    referrer[referred] = order[np.minimum(referrer_rank, r - 1)]
    n_cases = max(1, int(round(n * 0.035)))
    case = np.zeros(n, bool)
    case[rng.choice(n, size=n_cases, replace=False, p=lam**2 / (lam**2).sum())] = True

    last_pool = [name for c in _COUNTRIES for name in world.LAST_NAMES[c]]
    last_first = np.cumsum([0] + [len(world.LAST_NAMES[c]) for c in _COUNTRIES])
    last = last_first[country] + (rng.random(n) * np.diff(last_first)[country]).astype(np.int64)
    labels = [i.capitalize() for i in _INDUSTRIES]
    numbers = np.arange(1, n + 1)
    ids = _ids("A", numbers, 5)
    table = pa.table(
        {
            "account_id": ids,
            "name": _join(_strings(last_pool, last), " ", _strings(labels, industry), " ", pc.cast(pa.array(numbers), pa.string())),
            "industry": _strings(_INDUSTRIES, industry),
            "employees": pa.array(employees, mask=rng.random(n) < 0.04),
            "annual_revenue": pa.array(revenue, mask=rng.random(n) < 0.04),
            "country": _strings(_COUNTRIES, country),
            "region": _strings([p[3] for p in places], place),
            "city": _strings([p[2] for p in places], place),
            "city_size": _null_where(_strings(_SIZES, size), rng.random(n) < 0.04),
            "restaurant_scene": _strings(_SCENES, scene),
            "business_type": _strings(_BUSINESS, business),
            "founded_year": pa.array(founded),
            "created_date": _timestamps(_days_to_us(created)),
            "referred_by": _null_where(ids.take(pa.array(np.maximum(referrer, 0))), referrer < 0),
            "case_study": pa.array(case),
            "churned_date": _timestamps(_days_to_us(churn_day), churned),
        }
    )
    hidden = {
        "group": group,
        "lam": lam,
        "country": country,
        "business": business,
        "created": created,
        "end": np.where(churned, churn_day, np.iinfo(np.int64).max // 2),
    }
    return table, hidden


# --------------------------------------------------------------------------- deals


def _deal_plan(rng: np.random.Generator, hidden: dict[str, np.ndarray], n_deals: int) -> np.ndarray:
    """Expected deals per account and quarter, scaled so that they sum to ``n_deals``."""
    lo = np.maximum(_QUARTER_DAYS[None, :-1], hidden["created"][:, None])
    hi = np.minimum(_QUARTER_DAYS[None, 1:], hidden["end"][:, None])
    frac = np.clip(hi - lo, 0, None) / np.diff(_QUARTER_DAYS)[None, :]
    base = np.array([g.deals_per_quarter for g in world.GROUPS])[hidden["group"]] * hidden["lam"] ** 0.6
    rate = base[:, None] * rng.gamma(world.QUARTER_SHAPE, 1 / world.QUARTER_SHAPE, size=frac.shape) * frac
    return rate * (n_deals / rate.sum())


def _account_habits(rng: np.random.Generator, hidden: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per-account buying habits: preferred weekday and hour, product mix, loss rate."""
    group = hidden["group"]
    n = len(group)
    weekday_p = np.array([np.array(g.weekdays) / sum(g.weekdays) for g in world.GROUPS])
    alpha = np.array([_weights(g.products, _PRODUCTS) for g in world.GROUPS])[group] * 8
    mix = rng.gamma(np.where(alpha > 0, alpha, 1.0)) * (alpha > 0)
    return {
        "weekday_p": weekday_p,
        "pref_day": _pick(rng, weekday_p, group),
        "pref_hour": np.array([g.hour for g in world.GROUPS])[group] + rng.normal(0, 0.6, n),
        "mix": np.cumsum(mix / mix.sum(axis=1, keepdims=True), axis=1),
        "p_lost": np.where(hidden["business"] == _BUSINESS.index("chain"), 0.2, 0.075),
        "single": np.array([g.single_item for g in world.GROUPS])[group],
        "amount": np.array([g.deal_amount for g in world.GROUPS])[group] * hidden["lam"] ** 0.4,
    }


def _quarter_deals(
    rng: np.random.Generator,
    q: int,
    counts: np.ndarray,
    hidden: dict[str, np.ndarray],
    habits: dict[str, np.ndarray],
    ids: pa.Array,
    first_number: int,
) -> pa.Table:
    """The deals of quarter ``q`` (``counts`` per account), sorted by close time."""
    acc = np.repeat(np.arange(len(counts)), counts)
    m = len(acc)
    dlo = np.maximum(_QUARTER_DAYS[q], hidden["created"][acc])
    dhi = np.minimum(_QUARTER_DAYS[q + 1], hidden["end"][acc])
    dhi = np.maximum(dhi, dlo + 1)
    day = dlo + (rng.random(m) * (dhi - dlo)).astype(np.int64)
    group = hidden["group"][acc]
    other = np.minimum(_pick(rng, habits["weekday_p"], group), 4)
    weekday = np.where(rng.random(m) < 0.6, habits["pref_day"][acc], other)
    moved = day - (day + 3) % 7 + weekday  # day 0 (1970-01-01) was a Thursday
    moved = np.where(moved < dlo, moved + 7, moved)
    moved = np.where(moved >= dhi, moved - 7, moved)
    day = np.where((moved >= dlo) & (moved < dhi), moved, day)
    hour = np.clip(np.round(habits["pref_hour"][acc] + rng.normal(0, 1.0, m)), 7, 18).astype(np.int64)
    minute = rng.integers(0, 60, m)
    product = (rng.random(m)[:, None] >= habits["mix"][acc]).sum(axis=1)
    product = np.minimum(product, len(_PRODUCTS) - 1)
    unit = np.array([world.PRODUCTS[p] for p in _PRODUCTS])[product]
    single = rng.random(m) < habits["single"][acc]
    target = habits["amount"][acc] * np.exp(rng.normal(0, world.AMOUNT_NOISE, m))
    target = target * np.where(rng.random(m) < world.STOCK_UP_SHARE, 4.0, 1.0)
    quantity = np.where(single, 1, np.maximum(2, np.round(target / unit))).astype(np.int64)
    discount = np.where(quantity >= 20, 0.05, 0.0)
    amount = np.round(quantity * unit * (1 - discount) * np.exp(rng.normal(0, 0.03, m)), 2)
    open_cut = _END_DAY - 1 - 45
    u_open, u_lost = rng.random(m), rng.random(m)
    stage = np.where(
        (day >= open_cut) & (u_open < 0.45), 2, np.where(u_lost < habits["p_lost"][acc], 1, 0)
    )
    close = _days_to_us(day) + (hour * 60 + minute) * 60_000_000
    created = _days_to_us(day - rng.integers(2, 40, m))

    order = np.lexsort((acc, close))
    return pa.table(
        {
            "deal_id": _ids("D", np.arange(first_number, first_number + m), 8),
            "account_id": ids.take(pa.array(acc[order])),
            "close_date": _timestamps(close[order]),
            "amount": pa.array(amount[order]),
            "quantity": pa.array(quantity[order]),
            "product": _strings(_PRODUCTS, product[order]),
            "stage": _strings(("won", "lost", "open"), stage[order]),
            "created_date": _timestamps(created[order]),
        }
    )


# --------------------------------------------------------------------------- contacts


def _contacts(rng: np.random.Generator, hidden: dict[str, np.ndarray], ids: pa.Array) -> pa.Table:
    n = len(hidden["group"])
    acc = np.repeat(np.arange(n), 1 + rng.poisson(1.0, n))
    m = len(acc)
    country = hidden["country"][acc]
    roles = np.array([_weights(phrases.ROLE_WEIGHTS[g.name], _ROLES) for g in world.GROUPS])
    role = _pick(rng, roles, hidden["group"][acc])
    titles = [(t, s, r) for r in _ROLES for t, s in phrases.CONTACT_TITLES[r]]
    t_first = np.cumsum([0] + [len(phrases.CONTACT_TITLES[r]) for r in _ROLES])
    title = t_first[role] + (rng.random(m) * np.diff(t_first)[role]).astype(np.int64)

    def person(names: dict[str, list[str]]) -> pa.Array:
        pool = [x for c in _COUNTRIES for x in names[c]]
        start = np.cumsum([0] + [len(names[c]) for c in _COUNTRIES])
        return _strings(pool, start[country] + (rng.random(m) * np.diff(start)[country]).astype(np.int64))

    first, last = person(world.FIRST_NAMES), person(world.LAST_NAMES)
    slug = lambda a: pc.replace_substring_regex(pc.utf8_lower(a), "[^a-z0-9]", "")  # noqa: E731
    prefixes = [v[2] for v in world.COUNTRIES.values()]
    digits = lambda lo, hi: pc.cast(pa.array(rng.integers(lo, hi, m)), pa.string())  # noqa: E731
    account_ids = ids.take(pa.array(acc))
    return pa.table(
        {
            "contact_id": _ids("C", np.arange(1, m + 1), 5),
            "account_id": account_ids,
            "name": _join(first, " ", last),
            "email": _join(slug(first), ".", slug(last), "@", pc.utf8_lower(account_ids), ".example.com"),
            "phone": _join(_strings(prefixes, country), " ", digits(10, 99), " ", digits(1000, 9999), " ", digits(1000, 9999)),
            "job_title": _strings([t[0] for t in titles], title),
            "job_role": _strings(_ROLES, role),
            "seniority": _strings([t[1] for t in titles], title),
        }
    )


# --------------------------------------------------------------------------- leads


def _leads(rng: np.random.Generator, n: int, ids: pa.Array) -> tuple[pa.Table, pa.Table]:
    """Leads and their web activity; conversion follows the sample's per-event log-odds."""
    start_min = _START_DAY * 1440
    span_days = (_END_DAY - 1 - 30) - _START_DAY
    created = start_min + rng.integers(0, span_days, n) * 1440 + rng.integers(7 * 60, 21 * 60, n)
    levels = ("senior", "mid", "junior")
    level = _pick(rng, np.array([0.3, 0.4, 0.3]), np.zeros(n, np.int64))
    pool = [(t, k) for k, lv in enumerate(levels) for t in phrases.LEAD_TITLES[lv]]
    t_first = np.cumsum([0] + [len(phrases.LEAD_TITLES[lv]) for lv in levels])
    title = t_first[level] + (rng.random(n) * np.diff(t_first)[level]).astype(np.int64)
    u = rng.normal(0, 1, n)
    newsletter = (rng.random(n) < 0.22).astype(np.int64)
    counts = {
        "page_visit": rng.poisson(np.exp(0.9 + 0.3 * u)),
        "key_page_visit": rng.poisson(np.exp(-1.1 + 0.5 * u)),
        "download": rng.poisson(np.exp(-1.2 + 0.5 * u)),
        "form_submission": rng.poisson(np.exp(-1.9 + 0.5 * u)),
        "video_view": rng.poisson(0.35, n),
        "newsletter_signup": newsletter,
        "email_click": rng.poisson(0.8, n),
        "unsubscribe": ((newsletter == 1) & (rng.random(n) < 0.25) | (rng.random(n) < 0.03)).astype(np.int64),
    }
    counts["page_visit"] = np.where(sum(counts.values()) == 0, 1, counts["page_visit"])

    activities = list(counts)
    leads_of, minutes, kinds, details, detail_pool = [], [], [], [], []
    buying = np.zeros(n)
    recipe = np.zeros(n)
    for k, activity in enumerate(activities):
        lead = np.repeat(np.arange(n), counts[activity])
        options = sample_leads.ACTIVITY_DETAILS[activity]
        names = list(options)
        detail = _pick(rng, _weights(options, names), lead) + len(detail_pool)
        detail_pool += names
        if activity == "download":
            chosen = np.array(names)[detail - len(detail_pool) + len(names)]
            buying = np.bincount(lead[np.isin(chosen, ["price-list", "catalogue"])], minlength=n)
            recipe = np.bincount(lead[chosen == "recipe-ebook"], minlength=n)
        leads_of.append(lead)
        minutes.append(created[lead] + rng.integers(0, 75 * 1440, len(lead)))
        kinds.append(np.full(len(lead), k))
        details.append(detail)
    lead, minute = np.concatenate(leads_of), np.concatenate(minutes)
    kind, detail = np.concatenate(kinds), np.concatenate(details)
    last = np.full(n, np.iinfo(np.int64).min)
    np.maximum.at(last, lead, minute)
    unsub = kind == activities.index("unsubscribe")
    minute[unsub] = last[lead[unsub]] + 5  # an unsubscribe is the lead's last event
    end_min = (_END_DAY - 1) * 1440 + 23 * 60
    minute = np.minimum(minute, end_min)

    e = phrases.LEAD_EFFECTS
    senior = level == 0
    logit = (
        phrases.LEAD_INTERCEPT
        + counts["form_submission"] * (e["form_submission"] + np.where(senior, e["form_submission_senior_extra"], 0.0))
        + counts["key_page_visit"] * e["key_page_visit"]
        + buying * e["download_price_list_catalogue"]
        + recipe * e["download_recipe_ebook"]
        + counts["page_visit"] * e["page_visit"]
        + counts["video_view"] * e["video_view"]
        + counts["newsletter_signup"] * e["newsletter_signup"]
        + counts["email_click"] * e["email_click"]
        + counts["unsubscribe"] * e["unsubscribe"]
    )
    converted = rng.random(n) < 1 / (1 + np.exp(-logit))
    last = np.full(n, np.iinfo(np.int64).min)
    np.maximum.at(last, lead, minute)
    conv_min = np.minimum(last + rng.integers(1, 30, n) * 1440, end_min)
    conv_day = conv_min // 1440 * 1440

    lead_ids = _ids("L", np.arange(1, n + 1), 5)
    titles = [t for t, _ in pool]
    order = np.lexsort((detail, kind, minute, lead))
    lead, minute, kind, detail = lead[order], minute[order], kind[order], detail[order]
    form = kind == activities.index("form_submission")
    activity_table = pa.table(
        {
            "lead_id": lead_ids.take(pa.array(lead)),
            "timestamp": _timestamps(minute * 60_000_000),
            "activity": _strings(activities, kind),
            "detail": _strings([d or None for d in detail_pool], detail),
            "job_title": _null_where(_strings(titles, title[lead]), ~form),
        }
    )
    linked = rng.random(n) < 0.3
    has_form = counts["form_submission"] > 0
    account = rng.integers(0, len(ids), n)
    sources = list(phrases.LEAD_SOURCES)
    lead_table = pa.table(
        {
            "lead_id": lead_ids,
            "created": _timestamps(created * 60_000_000),
            "converted": pa.array(converted),
            "converted_date": _timestamps(conv_day * 60_000_000, converted),
            "account_id": _null_where(ids.take(pa.array(account)), ~linked),
            "job_title": _null_where(_strings(titles, title), ~(has_form | linked)),
            "source": _strings(sources, _pick(rng, _weights(phrases.LEAD_SOURCES, sources), np.zeros(n, np.int64))),
        }
    )
    return lead_table, activity_table


# --------------------------------------------------------------------------- writing


_ROW_GROUP = 1 << 20


def generate(
    out_dir: str | Path,
    *,
    accounts: int,
    deals: int,
    leads: int | None = None,
    seed: int = 7,
    config: bool = True,
    part_rows: int | None = None,
) -> dict[str, Path]:
    """Write a generated CRM export (Parquet) and, with ``config``, its ``icp.yml``.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write into (created if missing; files are replaced).
    accounts, deals : int
        Number of accounts and of deals (exact).
    leads : int, optional
        Number of leads with web activity (about five events each);
        default as many as accounts, 0 for none.
    seed : int
        Seeds every random stream; the same seed and sizes give the same data.
    config : bool
        Also write ``icp.yml`` (see :func:`write_config`).
    part_rows : int, optional
        Write the deals as ``deals/part-NNNNN.parquet``, at most this many
        deals per part, generated part by part (each quarter split by slices
        of accounts, each slice from its own random stream). Without it, one
        ``deals.parquet`` (the data of earlier runs, unchanged).

    Returns
    -------
    dict
        Table name (and ``config``) -> path written.
    """
    if accounts < 1 or deals < 0:
        raise ValueError("need at least one account and a non-negative number of deals")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    streams = {
        name: np.random.default_rng([seed, k])
        for k, name in enumerate(["accounts", "plan", "habits", "contacts", "leads"])
    }
    written: dict[str, Path] = {}

    table, hidden = _accounts(streams["accounts"], accounts)
    ids = table["account_id"].combine_chunks()
    written["accounts"] = out / "accounts.parquet"
    pq.write_table(table, written["accounts"], row_group_size=_ROW_GROUP)
    del table

    plan = _deal_plan(streams["plan"], hidden, deals)
    per_quarter = plan.sum(axis=0)
    quarter_totals = streams["plan"].multinomial(deals, per_quarter / per_quarter.sum())
    habits = _account_habits(streams["habits"], hidden)
    if part_rows:
        parts = _deal_parts(out, seed, plan, quarter_totals, hidden, habits, ids, part_rows)
        written.update({f"deals_part_{i}": path for i, path in enumerate(parts)})
        del plan
        return _finish(written, out, streams, hidden, ids, leads, accounts, config, deal_parts=parts)
    written["deals"] = out / "deals.parquet"
    number = 1
    writer = None
    try:
        for q, total in enumerate(quarter_totals):
            rng = np.random.default_rng([seed, 100 + q])
            weights = plan[:, q]
            counts = rng.multinomial(total, weights / weights.sum()) if total else np.zeros(accounts, np.int64)
            chunk = _quarter_deals(rng, q, counts, hidden, habits, ids, number)
            number += chunk.num_rows
            if writer is None:
                writer = pq.ParquetWriter(written["deals"], chunk.schema)
            writer.write_table(chunk, row_group_size=_ROW_GROUP)
            del chunk
    finally:
        if writer is not None:
            writer.close()
    del plan
    return _finish(written, out, streams, hidden, ids, leads, accounts, config)


def _deal_parts(out, seed, plan, quarter_totals, hidden, habits, ids, part_rows) -> list[Path]:
    """Deals as ``deals/part-NNNNN.parquet``, each part at most ``part_rows`` deals."""
    folder = out / "deals"
    if folder.exists():
        for old in folder.glob("part-*.parquet"):
            old.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    parts, number = [], 1
    for q, total in enumerate(quarter_totals):
        rng = np.random.default_rng([seed, 100 + q])
        weights = plan[:, q]
        counts = rng.multinomial(total, weights / weights.sum()) if total else np.zeros(len(weights), np.int64)
        # contiguous slices of accounts with at most part_rows deals each (an account is never split)
        ends = np.cumsum(counts)
        bounds = [0]
        while bounds[-1] < len(counts):
            before = ends[bounds[-1] - 1] if bounds[-1] else 0
            stop = int(np.searchsorted(ends, before + part_rows, side="right"))
            bounds.append(max(stop, bounds[-1] + 1))  # an account above part_rows is a part alone
        for k, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
            piece = np.zeros_like(counts)
            piece[lo:hi] = counts[lo:hi]
            if not piece.sum():
                continue
            chunk = _quarter_deals(np.random.default_rng([seed, 100 + q, k]), q, piece, hidden, habits, ids, number)
            number += chunk.num_rows
            path = folder / f"part-{len(parts):05d}.parquet"
            pq.write_table(chunk, path, row_group_size=_ROW_GROUP)
            parts.append(path)
            del chunk
    return parts


def _finish(written, out, streams, hidden, ids, leads, accounts, config, deal_parts=None) -> dict[str, Path]:
    """Contacts, leads and activities, and the config."""
    written["contacts"] = out / "contacts.parquet"
    pq.write_table(_contacts(streams["contacts"], hidden, ids), written["contacts"], row_group_size=_ROW_GROUP)
    n_leads = accounts if leads is None else leads
    if n_leads:
        lead_table, activity_table = _leads(streams["leads"], n_leads, ids)
        written["leads"] = out / "leads.parquet"
        written["activities"] = out / "activities.parquet"
        pq.write_table(lead_table, written["leads"], row_group_size=_ROW_GROUP)
        pq.write_table(activity_table, written["activities"], row_group_size=_ROW_GROUP)
    if config:
        deals = [str(p.relative_to(out)) for p in deal_parts] if deal_parts else None
        written["config"] = write_config(out, leads=bool(n_leads), deals=deals)
    return written


def write_config(
    out_dir: str | Path, *, leads: bool = True, engine: dict | None = None, deals: list[str] | None = None
) -> Path:
    """Write ``<out_dir>/icp.yml`` for a generated dataset.

    The generated tables are read from ``out_dir``; interviews, transcripts,
    codebook, manual codes and prospects from the bundled sample (relative
    paths, read in place). Rules and aliases are the sample's (``icp.yml``);
    reports go to ``<out_dir>/reports``.
    """
    out = Path(out_dir).resolve()
    base = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    sample = os.path.relpath(SAMPLE_DIR, out)
    inputs: dict[str, dict] = {
        "accounts": {"path": "accounts.parquet"},
        "deals": {"path": deals or "deals.parquet"},
        "contacts": {"path": "contacts.parquet"},
        "interviews": {
            "path": f"{sample}/interviews.csv",
            "transcripts": f"{sample}/transcripts",
        },
        "codebook": {"path": f"{sample}/codebook.yml"},
        "manual_codes": {
            "path": [f"{sample}/manual_codes_coder_a.csv", f"{sample}/manual_codes_coder_b.csv"]
        },
        "prospects": {"path": f"{sample}/prospects.csv"},
    }
    if leads:
        inputs["activities"] = {"path": "activities.parquet"}
        inputs["leads"] = {"path": "leads.parquet"}
    config = {
        "name": f"Generated CRM export ({out.name})",
        "data_dir": ".",
        "reports_dir": "reports",
        **({"engine": engine} if engine else {}),
        "inputs": inputs,
        **{k: v for k, v in base.items() if k not in ("name", "data_dir", "reports_dir", "inputs", "engine")},
    }
    path = out / "icp.yml"
    header = "# Written by bench/generate.py: a generated CRM export plus the sample's interviews.\n"
    path.write_text(header + yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> dict[str, Path]:
    """Command line: ``python -m bench.generate --accounts N --deals M [--leads L] [--out DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--deals", type=int, default=2_000_000)
    parser.add_argument("--leads", type=int, default=None, help="leads with web activity (default: as many as accounts)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None, help="default: bench/data/<accounts>_accounts_<deals>_deals")
    parser.add_argument(
        "--part-rows", type=int, default=None,
        help="write deals/part-NNNNN.parquet with at most this many deals each (memory bounded by it)",
    )
    args = parser.parse_args(argv)
    out = args.out or dataset_dir(args.accounts, args.deals)
    t0 = time.perf_counter()
    written = generate(
        out, accounts=args.accounts, deals=args.deals, leads=args.leads, seed=args.seed, part_rows=args.part_rows
    )
    elapsed = time.perf_counter() - t0
    for name, path in written.items():
        rows = pq.read_metadata(path).num_rows if path.suffix == ".parquet" else ""
        print(f"{name:<11} {rows:>12,} rows  {path.stat().st_size / 1e6:8.1f} MB  {path}" if rows != "" else f"{name:<11} {path}")
    print(f"generated in {elapsed:.1f} s")
    return written


if __name__ == "__main__":
    main()
