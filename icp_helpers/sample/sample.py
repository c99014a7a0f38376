"""Seeded generator of the bundled sample CRM export and its ground truth.

The sample tells the story of a premium olive-oil producer selling B2B to
about 2,000 accounts (wholesalers, distributors, restaurants, hotels,
retailers, delis, caterers) from 2023Q4 to 2026Q3. Every table of the data
contract is written, together with ``truth.yml`` (and ``truth_*.csv``), which
records what was planted so that the method can be checked against it:

- value per account follows a latent propensity that the ICP traits raise
  multiplicatively (``icp_traits``), next to decoys that must not be chosen;
- interview answers carry known codes (``truth_codes.csv``), two coders
  disagree realistically, a few transcripts are in Persian;
- customer groups differ in buying behaviour (``truth_accounts.csv``);
- web activities drive lead conversion (``conversion_drivers``);
- a handful of bad deal rows are planted for the loaders to quarantine.

The output is deterministic for a seed: the same seed writes the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .interviews import _codebook, _interviews, _manual_codes
from .leads import _leads
from .phrases import (
    AMBIGUOUS_CODES,
    CONTACT_TITLES,
    LEAD_EFFECTS,
    LEAD_INTERCEPT,
    LEAD_TITLES,
    ROLE_WEIGHTS,
)
from .world import (
    AMOUNT_NOISE,
    BEST_WEIGHTS,
    CITIES,
    COUNTRIES,
    DECOY_NOTES,
    FIRST_NAMES,
    GROUPS,
    ICP_TRAITS,
    INDUSTRY_SPELLINGS,
    LAST_NAMES,
    N_ACCOUNTS,
    N_PROSPECTS,
    NAME_PATTERNS,
    NEGATIVE_NOTES,
    NEW_ACCOUNT_SHARE,
    PERSISTENT_NOISE,
    PRODUCTS,
    QUARTER_SHAPE,
    SAMPLE_END,
    SAMPLE_QUARTER,
    SAMPLE_START,
    STOCK_UP_SHARE,
    WHY_TRAITS,
    _choice,
    _date_str,
    _quarters,
    _slug,
)

__all__ = [
    "SAMPLE_START",
    "SAMPLE_END",
    "SAMPLE_QUARTER",
    "ICP_TRAITS",
    "WHY_TRAITS",
    "generate_sample",
    "write_sample",
]

# --------------------------------------------------------------------------
# accounts
# --------------------------------------------------------------------------


def _firmographics(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Clean firmographics and the planted group of ``n`` organisations."""
    group_idx = rng.choice(len(GROUPS), size=n, p=[g.share for g in GROUPS])
    countries = _choice(rng, {c: v[0] for c, v in COUNTRIES.items()}, size=n)
    rows = []
    all_industries = sorted({i for g in GROUPS for i in g.industries})
    for i in range(n):
        g = GROUPS[group_idx[i]]
        industry = _choice(rng, g.industries)
        if rng.random() < 0.06:  # an organisation that buys like its group but is filed otherwise
            industry = all_industries[rng.integers(len(all_industries))]
        median = g.employees_median * (3.0 if industry == "hotel" else 1.0)
        employees = int(max(1, round(median * np.exp(rng.normal(0, g.employees_sigma)))))
        size = _choice(rng, g.city_size)
        country = countries[i]
        city, region = CITIES[country][size][rng.integers(len(CITIES[country][size]))]
        p_strong = {"large": 0.5, "medium": 0.3, "small": 0.15}[size]
        scene = _choice(
            rng,
            {"strong": p_strong, "moderate": (1 - p_strong) * 0.6, "weak": (1 - p_strong) * 0.4},
        )
        revenue = employees * 110_000 * np.exp(rng.normal(0, 0.45))
        rows.append(
            {
                "group": g.name,
                "industry": industry,
                "employees": employees,
                "annual_revenue": float(round(revenue, -3)),
                "country": country,
                "region": region,
                "city": city,
                "city_size": size,
                "restaurant_scene": scene,
                "business_type": _choice(rng, g.business_type),
                "founded_year": int(min(2023, 2023 - rng.gamma(2.0, 9.0))),
            }
        )
    return pd.DataFrame(rows)


def _propensity(rng: np.random.Generator, firmo: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Latent value propensity: the planted traits multiply it, plus persistent noise."""
    flags = pd.DataFrame(
        {
            "industry=wholesaler": firmo["industry"].eq("wholesaler"),
            "employees_band=10-49": firmo["employees"].between(10, 49),
            "city_size=large": firmo["city_size"].eq("large"),
            "restaurant_scene=strong": firmo["restaurant_scene"].eq("strong"),
        }
    )
    log_lam = rng.normal(0, PERSISTENT_NOISE, size=len(firmo))
    for trait, factor in ICP_TRAITS.items():
        log_lam += np.log(factor) * flags[trait].to_numpy()
    return np.exp(log_lam), flags


def _messy(rng: np.random.Generator, values, spellings: dict[str, dict[str, float]]) -> list[str]:
    return [_choice(rng, spellings[v]) if v in spellings else v for v in values]


def _company_name(rng: np.random.Generator, industry: str, country: str, city: str) -> str:
    pattern = NAME_PATTERNS[industry][rng.integers(len(NAME_PATTERNS[industry]))]
    last = LAST_NAMES[country][rng.integers(len(LAST_NAMES[country]))]
    return pattern.format(
        last=last, suffix=COUNTRIES[country][3], city=city, city_word=city.split()[0]
    ).strip()


def _accounts(rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The accounts table (messy, as exported) and a clean frame with the hidden truth."""
    n = N_ACCOUNTS
    firmo = _firmographics(rng, n)
    lam, flags = _propensity(rng, firmo)
    ids = [f"A{i + 1:05d}" for i in range(n)]
    hidden = firmo.assign(account_id=ids, propensity=lam)
    for trait in ICP_TRAITS:
        hidden[trait] = flags[trait].to_numpy()

    # created: most before the history starts, the rest join during it
    created = []
    for _ in range(n):
        if rng.random() < 1 - NEW_ACCOUNT_SHARE:
            created.append(
                pd.Timestamp("2016-01-01") + pd.Timedelta(days=int(rng.integers(0, 2830)))
            )
        else:
            created.append(SAMPLE_START + pd.Timedelta(days=int(rng.integers(0, 960))))
    hidden["created"] = created

    # churn: chains and low-propensity accounts leave more often
    chain = hidden["business_type"].eq("chain").to_numpy()
    risk = np.where(chain, 3.0, 1.0) / np.sqrt(lam)
    p_churn = np.clip(0.10 * risk / risk.mean(), 0, 0.9)
    churned = rng.random(n) < p_churn
    churn_dates = []
    for i in range(n):
        if not churned[i]:
            churn_dates.append(pd.NaT)
            continue
        lo = max(hidden["created"][i] + pd.Timedelta(days=120), pd.Timestamp("2024-01-15"))
        span = (SAMPLE_END - pd.Timedelta(days=10) - lo).days
        if span <= 0:
            churn_dates.append(pd.NaT)
            continue
        churn_dates.append(lo + pd.Timedelta(days=int(rng.integers(0, span))))
    hidden["churned"] = churn_dates

    # referrals: older, high-propensity accounts refer newer ones
    referred_by = [""] * n
    order = np.argsort(np.array(created, dtype="datetime64[ns]"))
    weight = lam**1.5
    for rank, i in enumerate(order):
        if rank < 50 or rng.random() > 0.09:
            continue
        pool = order[:rank]
        p = weight[pool] / weight[pool].sum()
        referred_by[i] = ids[int(rng.choice(pool, p=p))]
    hidden["referred_by"] = referred_by
    case_pool = rng.choice(n, size=70, replace=False, p=lam**2 / (lam**2).sum())
    hidden["case_study"] = np.isin(np.arange(n), case_pool)

    names = [_company_name(rng, r.industry, r.country, r.city) for r in hidden.itertuples()]
    employees = hidden["employees"].astype("Int64").copy()
    employees[rng.random(n) < 0.04] = pd.NA
    revenue = hidden["annual_revenue"].copy()
    revenue[rng.random(n) < 0.04] = np.nan
    city_size = hidden["city_size"].astype(object).copy()
    city_size[rng.random(n) < 0.04] = ""

    accounts = pd.DataFrame(
        {
            "account_id": ids,
            "name": names,
            "industry": _messy(rng, hidden["industry"], INDUSTRY_SPELLINGS),
            "employees": employees,
            "annual_revenue": revenue,
            "country": [_choice(rng, COUNTRIES[c][1]) for c in hidden["country"]],
            "region": hidden["region"],
            "city": hidden["city"],
            "city_size": city_size,
            "restaurant_scene": hidden["restaurant_scene"],
            "business_type": hidden["business_type"],
            "founded_year": hidden["founded_year"],
            "created_date": [_date_str(d) for d in hidden["created"]],
            "referred_by": referred_by,
            "case_study": np.where(hidden["case_study"], "true", "false"),
            "churned_date": ["" if pd.isna(d) else _date_str(d) for d in hidden["churned"]],
        }
    )
    return accounts, hidden


# --------------------------------------------------------------------------
# deals
# --------------------------------------------------------------------------


def _deals(rng: np.random.Generator, hidden: pd.DataFrame) -> pd.DataFrame:
    """Deals per account and quarter: Poisson counts, log-normal amounts, both propensity-driven."""
    n = len(hidden)
    group_of = {g.name: k for k, g in enumerate(GROUPS)}
    gidx = hidden["group"].map(group_of).to_numpy()
    lam = hidden["propensity"].to_numpy()
    products = list(PRODUCTS)
    unit_price = np.array([PRODUCTS[p] for p in products])
    weekday_p = np.array([np.array(g.weekdays) / sum(g.weekdays) for g in GROUPS])
    pref_day = np.array([rng.choice(5, p=weekday_p[g]) for g in gidx])
    pref_hour = np.array([GROUPS[g].hour for g in gidx]) + rng.normal(0, 0.6, size=n)
    p_lost = np.where(hidden["business_type"].eq("chain").to_numpy(), 0.2, 0.075)
    own_products = np.zeros((n, len(products)))
    for i, g in enumerate(gidx):
        base = np.array([GROUPS[g].products.get(p, 0.0) for p in products])
        mask = base > 0
        own_products[i, mask] = rng.dirichlet(base[mask] * 8)

    # account x quarter grid of active days (integer days since 1970-01-01)
    day0 = lambda ts: int(pd.Timestamp(ts).to_datetime64().astype("datetime64[D]").astype(np.int64))  # noqa: E731
    q_lo = np.array([day0(q) for q in _quarters()])
    q_hi = np.append(q_lo[1:], day0(SAMPLE_END) + 1)
    created = hidden["created"].to_numpy().astype("datetime64[D]").astype(np.int64)
    churned = hidden["churned"].to_numpy().astype("datetime64[D]")
    churned = np.where(np.isnat(churned), np.iinfo(np.int64).max, churned.astype(np.int64))
    lo = np.maximum(q_lo[None, :], created[:, None])
    hi = np.minimum(q_hi[None, :], churned[:, None])
    frac = np.clip(hi - lo, 0, None) / (q_hi - q_lo)[None, :]
    base_rate = np.array([GROUPS[g].deals_per_quarter for g in gidx]) * lam**0.6
    rate = base_rate[:, None] * rng.gamma(QUARTER_SHAPE, 1 / QUARTER_SHAPE, size=frac.shape) * frac
    count = rng.poisson(rate)
    acc_i, q_i = np.nonzero(count)
    reps = count[acc_i, q_i]
    acc = np.repeat(acc_i, reps)
    dlo, dhi = np.repeat(lo[acc_i, q_i], reps), np.repeat(hi[acc_i, q_i], reps)
    m = len(acc)

    day = dlo + (rng.random(m) * (dhi - dlo)).astype(np.int64)
    other_day = (rng.random(m)[:, None] > np.cumsum(weekday_p[gidx[acc]], axis=1)).sum(axis=1)
    weekday = np.where(rng.random(m) < 0.6, pref_day[acc], np.minimum(other_day, 4))
    day = day - (day + 3) % 7 + weekday
    day = np.where(day < dlo, day + 7, day)
    day = np.where(day >= dhi, day - 7, day)
    keep = day >= dlo
    hour = np.clip(np.round(pref_hour[acc] + rng.normal(0, 1.0, size=m)), 7, 18).astype(np.int64)
    minute = rng.integers(0, 60, size=m)
    product = (rng.random(m)[:, None] > np.cumsum(own_products[acc], axis=1)).sum(axis=1)
    product = np.minimum(product, len(products) - 1)
    unit = unit_price[product]
    single = rng.random(m) < np.array([GROUPS[g].single_item for g in gidx])[acc]
    target = (
        np.array([GROUPS[g].deal_amount for g in gidx])[acc]
        * lam[acc] ** 0.4
        * np.exp(rng.normal(0, AMOUNT_NOISE, size=m))
    )
    target = target * np.where(rng.random(m) < STOCK_UP_SHARE, 4.0, 1.0)  # one-off stock-up orders
    quantity = np.where(single, 1, np.maximum(2, np.round(target / unit))).astype(np.int64)
    discount = np.where(quantity >= 20, 0.05, 0.0)
    amount = np.round(quantity * unit * (1 - discount) * np.exp(rng.normal(0, 0.03, size=m)), 2)
    u_open, u_lost = rng.random(m), rng.random(m)
    open_cut = day0(SAMPLE_END) - 45
    stage = np.where(
        (day >= open_cut) & (u_open < 0.45), "open", np.where(u_lost < p_lost[acc], "lost", "won")
    )
    lead_days = rng.integers(2, 40, size=m)

    close = day.astype("datetime64[D]").astype("datetime64[m]") + (hour * 60 + minute).astype(
        "timedelta64[m]"
    )
    deals = pd.DataFrame(
        {
            "account_id": hidden["account_id"].to_numpy()[acc],
            "close": close,
            "amount": amount,
            "quantity": quantity,
            "product": np.array(products)[product],
            "stage": stage,
            "created": (day - lead_days).astype("datetime64[D]"),
        }
    )[keep]
    deals = deals.sort_values(["close", "account_id"], kind="mergesort").reset_index(drop=True)
    deals.insert(0, "deal_id", [f"D{i + 1:06d}" for i in range(len(deals))])
    deals["close_date"] = pd.to_datetime(deals["close"]).dt.strftime("%Y-%m-%dT%H:%M:%S")
    deals["created_date"] = pd.to_datetime(deals["created"]).dt.strftime("%Y-%m-%d")
    return deals[
        [
            "deal_id",
            "account_id",
            "close_date",
            "amount",
            "quantity",
            "product",
            "stage",
            "created_date",
        ]
    ]


def _plant_bad_deals(
    rng: np.random.Generator, deals: pd.DataFrame
) -> tuple[pd.DataFrame, list[dict]]:
    """Corrupt a handful of deal rows the way real exports do; return them with their reason."""
    deals = deals.copy()
    won = np.flatnonzero(deals["stage"].eq("won").to_numpy())
    picks = rng.choice(won, size=10, replace=False)
    bad: list[dict] = []
    for i in picks[:5]:
        deals.loc[i, "amount"] = -deals.loc[i, "amount"]
        bad.append({"deal_id": deals.loc[i, "deal_id"], "reason": "negative amount"})
    garbage = [
        "2024-02-30T10:15:00",
        "13/31/2025 09:40",
        "TBC",
        "2025-13-07T09:00:00",
        "31.09.2024 14:00",
    ]
    for i, text in zip(picks[5:], garbage, strict=True):
        deals.loc[i, "close_date"] = text
        bad.append({"deal_id": deals.loc[i, "deal_id"], "reason": "unparseable close_date"})
    # deals booked against accounts that are not in the accounts export
    unknown = ["A02417", "A00I23", "A09999", "A2001", "A02388"]
    extra = deals.iloc[rng.choice(won, size=5, replace=False)].copy()
    extra["account_id"] = unknown
    extra["deal_id"] = [f"D{len(deals) + k + 1:06d}" for k in range(5)]
    for row in extra.itertuples():
        bad.append({"deal_id": row.deal_id, "reason": "unknown account_id"})
    # a re-exported deal: same id, row repeated later with a corrected amount
    dups = deals.iloc[rng.choice(won, size=3, replace=False)].copy()
    dups["amount"] = (dups["amount"] * 1.1).round(2)
    for row in dups.itertuples():
        bad.append({"deal_id": row.deal_id, "reason": "duplicate deal_id"})
    out = pd.concat([deals, extra, dups], ignore_index=True)
    # rows stay in file order: appended rows go to the end, like a late re-export
    row_of = {}
    for pos, deal_id in enumerate(out["deal_id"]):
        row_of.setdefault(deal_id, []).append(pos + 1)
    for item in bad:
        positions = row_of[item["deal_id"]]
        item["row"] = positions[-1] if item["reason"] == "duplicate deal_id" else positions[0]
    bad.sort(key=lambda b: b["row"])
    return out, bad


# --------------------------------------------------------------------------
# value rule (mirrors the method's default) to pick whom to interview
# --------------------------------------------------------------------------


def _value_rule(
    deals: pd.DataFrame, accounts: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    """Best customers of a window by the default value rule (percentile-ranked, weighted).

    Eligible are accounts with a won deal in the window that had not churned
    by its end; the top 20% of all accounts are taken from them (ties: higher
    won value, then account id).
    """
    d = deals[deals["stage"].eq("won") & deals["account_id"].isin(accounts["account_id"])]
    close = pd.to_datetime(d["close_date"], errors="coerce", format="%Y-%m-%dT%H:%M:%S")
    d = d[(close >= start) & (close < end) & (d["amount"] > 0)]
    d = d.drop_duplicates("deal_id")
    agg = d.groupby("account_id").agg(
        won_value=("amount", "sum"), deal_frequency=("deal_id", "count")
    )
    out = accounts[["account_id"]].set_index("account_id").join(agg).fillna(0.0)
    referrals = accounts["referred_by"].replace("", np.nan).dropna().value_counts()
    out["referrals"] = referrals.reindex(out.index).fillna(0.0)
    out["case_study"] = accounts.set_index("account_id")["case_study"].eq("true").astype(float)
    score = sum(w * out[c].rank(pct=True) for c, w in BEST_WEIGHTS.items())
    out["value_score"] = score
    churned = pd.to_datetime(accounts.set_index("account_id")["churned_date"], errors="coerce")
    eligible = out["deal_frequency"].gt(0) & ~(churned.reindex(out.index) < end)
    n_best = int(round(0.2 * len(out)))
    ranked = (
        out[eligible]
        .reset_index()
        .sort_values(["value_score", "won_value", "account_id"], ascending=[False, False, True])
    )
    out["is_best"] = out.index.isin(ranked["account_id"].iloc[:n_best])
    return out.reset_index()


# --------------------------------------------------------------------------
# contacts
# --------------------------------------------------------------------------


def _contacts(rng: np.random.Generator, hidden: pd.DataFrame, names: pd.Series) -> pd.DataFrame:
    rows = []
    k = 0
    for acc, company in zip(hidden.itertuples(), names, strict=True):
        domain = f"{_slug(company)[:18] or 'mail'}.{COUNTRIES[acc.country][4]}"
        prefix = COUNTRIES[acc.country][2]
        used = set()
        for _ in range(1 + rng.poisson(1.0)):
            first = FIRST_NAMES[acc.country][rng.integers(len(FIRST_NAMES[acc.country]))]
            last = LAST_NAMES[acc.country][rng.integers(len(LAST_NAMES[acc.country]))]
            if (first, last) in used:
                continue
            used.add((first, last))
            role = _choice(rng, ROLE_WEIGHTS[acc.group])
            title, seniority = CONTACT_TITLES[role][rng.integers(len(CONTACT_TITLES[role]))]
            k += 1
            phone = f"{prefix} {rng.integers(10, 99)} {rng.integers(1000, 9999)} {rng.integers(1000, 9999)}"
            rows.append(
                {
                    "contact_id": f"C{k:05d}",
                    "account_id": acc.account_id,
                    "name": f"{first} {last}",
                    "email": f"{_slug(first)}.{_slug(last)}@{domain}",
                    "phone": phone,
                    "job_title": title,
                    "job_role": role,
                    "seniority": seniority,
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------
# prospects
# --------------------------------------------------------------------------


def _prospects(rng: np.random.Generator) -> pd.DataFrame:
    firmo = _firmographics(rng, N_PROSPECTS)
    employees = firmo["employees"].astype("Int64").copy()
    employees[rng.random(N_PROSPECTS) < 0.05] = pd.NA
    revenue = firmo["annual_revenue"].copy()
    revenue[rng.random(N_PROSPECTS) < 0.08] = np.nan
    size = firmo["city_size"].astype(object).copy()
    size[rng.random(N_PROSPECTS) < 0.04] = ""
    return pd.DataFrame(
        {
            "prospect_id": [f"P{i + 1:04d}" for i in range(N_PROSPECTS)],
            "name": [_company_name(rng, r.industry, r.country, r.city) for r in firmo.itertuples()],
            "industry": _messy(rng, firmo["industry"], INDUSTRY_SPELLINGS),
            "employees": employees,
            "annual_revenue": revenue,
            "country": [_choice(rng, COUNTRIES[c][1]) for c in firmo["country"]],
            "city": firmo["city"],
            "city_size": size,
            "restaurant_scene": firmo["restaurant_scene"],
            "business_type": firmo["business_type"],
        }
    )


# --------------------------------------------------------------------------
# truth and README
# --------------------------------------------------------------------------


def _truth(seed, hidden, best, roster, bad, pii, codes_truth) -> dict:
    interviewed = roster.merge(
        best[["account_id", "is_best"]], on="account_id", suffixes=("", "_rule")
    )
    code_accounts = codes_truth.merge(
        roster[["interview_id", "account_id", "is_best"]], on="interview_id"
    )
    why_rates = {}
    for code in WHY_TRAITS:
        has = code_accounts.loc[code_accounts["code"].eq(code), "account_id"].unique()
        why_rates[code] = {
            "best": round(
                float(interviewed.loc[interviewed["is_best"], "account_id"].isin(has).mean()), 3
            ),
            "rest": round(
                float(interviewed.loc[~interviewed["is_best"], "account_id"].isin(has).mean()), 3
            ),
        }
    return {
        "description": "What the sample generator planted. Synthetic data; see README.md.",
        "generator": {"command": "icp sample", "seed": int(seed)},
        "period": {
            "start": _date_str(SAMPLE_START),
            "end": _date_str(SAMPLE_END),
            "quarters": "2023Q4:2026Q3",
        },
        "currency": "EUR",
        "icp_traits": list(ICP_TRAITS),
        "icp_trait_factors": {k: float(v) for k, v in ICP_TRAITS.items()},
        "why_traits": list(WHY_TRAITS),
        "why_trait_rates": why_rates,
        "decoy_traits": [{"trait": t, "why": why} for t, why in DECOY_NOTES.items()],
        "negative_traits": [{"trait": t, "why": why} for t, why in NEGATIVE_NOTES.items()],
        "groups": {
            "file": "truth_accounts.csv",
            "column": "group",
            "descriptions": {g.name: g.description for g in GROUPS},
        },
        "best_customers": {
            "quarter": SAMPLE_QUARTER,
            "window": "2025Q4:2026Q3",
            "rule": {"weights": BEST_WEIGHTS, "share": 0.2},
            "file": "truth_accounts.csv",
            "column": f"is_best_{SAMPLE_QUARTER}",
            "count": int(best["is_best"].sum()),
        },
        "interviews": {
            "file": "truth_interviews.csv",
            "best": int(roster["is_best"].sum()),
            "rest": int((~roster["is_best"]).sum()),
            "persian": sorted(roster.loc[roster["language"].eq("fa"), "interview_id"].tolist()),
            "transcripts": sorted(
                roster.loc[roster["source"].eq("transcript"), "interview_id"].tolist()
            ),
        },
        "codes": {
            "file": "truth_codes.csv",
            "ambiguous_codes": list(AMBIGUOUS_CODES),
            "note": "negated mentions (e.g. 'delivery was never a problem') do not carry the code",
        },
        "pii_mentions": pii,
        "conversion_drivers": {
            "positive": ["form_submission", "key_page_visit", "download"],
            "download_details": ["price-list", "catalogue"],
            "weak": ["page_visit"],
            "none": ["newsletter_signup", "email_click", "video_view"],
            "negative": ["unsubscribe"],
            "senior_title_effect": "a form submission by a senior title (CEO, owner, founder, director, general manager) "
            "adds as much again to the log-odds of converting",
            "senior_titles": LEAD_TITLES["senior"],
            "log_odds": {k: float(v) for k, v in LEAD_EFFECTS.items()},
            "intercept": LEAD_INTERCEPT,
        },
        "bad_rows": {
            "deals": [
                {
                    "deal_id": b["deal_id"],
                    "row": int(b["row"]),
                    "line": int(b["row"]) + 1,
                    "reason": b["reason"],
                }
                for b in bad
            ],
            "row_numbering": "row: 1-based data row (header not counted); line: line in the file",
        },
    }


README = """# Sample CRM export (synthetic)

A synthetic CRM export of a premium olive-oil producer that sells B2B to about
2,000 accounts (wholesalers, distributors, restaurants, hotels, retailers,
delis, caterers), with deals from 2023-10-01 to 2026-09-30 (2023Q4 to 2026Q3).
Nothing here describes a real company or person.

It is generated by `icp sample --out data/sample --seed 7`
(`icp_helpers.sample.sample.write_sample`); the same seed writes the same bytes.
`icp.yml` at the project root points the workbench at this folder.

## Files

| file | content |
|---|---|
| `accounts.csv` | one row per account: `account_id`, `name`, `industry`, `employees`, `annual_revenue` (EUR), `country`, `region`, `city`, `city_size` (large/medium/small), `restaurant_scene` (strong/moderate/weak), `business_type` (independent/chain/cooperative), `founded_year`, `created_date`, `referred_by` (the referring account), `case_study` (true/false), `churned_date` |
| `deals.csv` | one row per deal: `deal_id`, `account_id`, `close_date` (ISO date and time), `amount` (EUR), `quantity` (units of `product`; a deal with more than one unit is a multi-item order), `product`, `stage` (won/lost/open), `created_date` |
| `contacts.csv` | people at the accounts: `contact_id`, `account_id`, `name`, `email`, `phone`, `job_title`, `job_role`, `seniority` |
| `interviews.csv` | interview answers, one row per question: `interview_id`, `account_id`, `question`, `answer`, `interviewee_role`, `date` |
| `transcripts/<interview_id>.md` | interviews kept as transcripts (format below); these interviews are not in `interviews.csv` |
| `codebook.yml` | the interview codebook: `code`, `dimension`, `description`, `keywords`, `patterns` (regular expressions), `examples` |
| `manual_codes_coder_a.csv`, `manual_codes_coder_b.csv` | codes two analysts assigned by hand to the same half of the interviews: `interview_id`, `question`, `code`, `coder` |
| `activities.csv` | web activity log of leads: `lead_id`, `timestamp`, `activity`, `detail`, `job_title` (on form submissions) |
| `leads.csv` | `lead_id`, `created`, `converted`, `converted_date`, `account_id` (when the lead belongs to an account), `job_title`, `source` |
| `prospects.csv` | organisations that are not customers yet, with the account trait columns |
| `truth.yml`, `truth_*.csv` | what the generator planted (see below); not an input of the workbench |

The export is deliberately messy, as real ones are: industry and country
spellings vary (`Whole saler`, `Hotel/Resort`, `U.K.`, `Deutschland`, stray
spaces and capitals; `icp.yml` maps them under `aliases`), about 4% of
`employees`, `annual_revenue` and `city_size` are missing, and a few deal rows
are broken (negative amounts, unparseable dates, unknown accounts, a repeated
`deal_id`) for the loaders to quarantine.

Interview `question` values are the six method questions: `how_found`,
`why_first_buy`, `pains_needs`, `need_met`, `opinion`, `why_stay`.

## Transcript format

One UTF-8 Markdown file per interview, named after the interview. A front
matter block between two `---` lines holds `interview_id`, `account_id`,
`interviewee_role` and `date` (ISO); then one `## <question>` heading per
question key, followed by the answer text up to the next heading.

```
---
interview_id: I0061
account_id: A00123
interviewee_role: owner
date: 2026-08-14
---
## how_found
answer text...
## why_first_buy
...
```

Some transcripts are in Persian: they mix the Arabic letters ي and ك with
the Persian ی and ک, drop or keep zero-width non-joiners, and write numbers
in Persian digits; normalise before matching keywords.

## Ground truth

`truth.yml` lists the planted ICP traits (`icp_traits`, with the factor each
multiplies an account's latent propensity by), the interview codes that best
customers mention far more often (`why_traits`), decoys that must not be
selected (`decoy_traits`), the trait over-represented among churned accounts
and lost deals (`negative_traits`), the drivers of lead conversion
(`conversion_drivers`), emails, phones and names planted in answers
(`pii_mentions`) and the broken deal rows (`bad_rows`). Beside it:

- `truth_accounts.csv`: `account_id`, planted `group` (customer segment),
  latent `propensity`, and `is_best_2026Q3` (top 20% by the default value
  rule over 2025Q4-2026Q3, among accounts with a won deal there that had not
  churned);
- `truth_interviews.csv`: who was interviewed, whether a best customer, language and source;
- `truth_codes.csv`: the true codes of every answer (`interview_id`, `question`, `code`).
"""


# --------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------


def generate_sample(*, seed: int = 7) -> dict[str, object]:
    """Generate every table of the sample in memory.

    Parameters
    ----------
    seed : int
        Seeds every random stream; each table draws from its own stream so
        that a change to one table leaves the others as they were.

    Returns
    -------
    dict
        File name (relative to the sample folder) -> a DataFrame, a mapping
        written as YAML, or text.
    """
    streams = {
        name: np.random.default_rng([seed, k])
        for k, name in enumerate(
            ["accounts", "deals", "bad", "contacts", "interviews", "manual", "leads", "prospects"]
        )
    }
    accounts, hidden = _accounts(streams["accounts"])
    deals = _deals(streams["deals"], hidden)
    deals, bad = _plant_bad_deals(streams["bad"], deals)
    contacts = _contacts(streams["contacts"], hidden, accounts["name"])
    start = pd.Timestamp("2025-10-01")
    best = _value_rule(deals, accounts, start, SAMPLE_END + pd.Timedelta(days=1))
    interviews, transcripts, codes_truth, roster, pii = _interviews(
        streams["interviews"], hidden, best, contacts
    )
    coder_a, coder_b = _manual_codes(streams["manual"], codes_truth, roster)
    leads, activities = _leads(streams["leads"], hidden)
    prospects = _prospects(streams["prospects"])

    truth_accounts = hidden[["account_id", "group"]].assign(
        propensity=hidden["propensity"].round(4),
        **{
            f"is_best_{SAMPLE_QUARTER}": np.where(
                hidden["account_id"].map(best.set_index("account_id")["is_best"]), "true", "false"
            )
        },
    )
    codes_truth = codes_truth.sort_values(["interview_id", "question", "code"]).reset_index(
        drop=True
    )
    files: dict[str, object] = {
        "accounts.csv": accounts,
        "deals.csv": deals,
        "contacts.csv": contacts,
        "interviews.csv": interviews,
        "codebook.yml": _codebook(),
        "manual_codes_coder_a.csv": coder_a,
        "manual_codes_coder_b.csv": coder_b,
        "activities.csv": activities,
        "leads.csv": leads,
        "prospects.csv": prospects,
        "truth.yml": _truth(seed, hidden, best, roster, bad, pii, codes_truth),
        "truth_accounts.csv": truth_accounts,
        "truth_interviews.csv": roster.sort_values("interview_id")
        .reset_index(drop=True)
        .assign(is_best=lambda r: np.where(r["is_best"], "true", "false")),
        "truth_codes.csv": codes_truth,
        "README.md": README,
    }
    for interview_id, text in transcripts.items():
        files[f"transcripts/{interview_id}.md"] = text
    return files


def _write_one(path: Path, content: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, pd.DataFrame):
        text = content.to_csv(index=False, float_format="%.2f", lineterminator="\n")
    elif isinstance(content, dict):
        text = yaml.safe_dump(content, sort_keys=False, allow_unicode=True, width=100)
    else:
        text = str(content)
        if not text.endswith("\n"):
            text += "\n"
    path.write_text(text, encoding="utf-8", newline="\n")


def write_sample(out_dir: Path, *, seed: int = 7) -> list[Path]:
    """Write the sample CRM export and its ground truth into ``out_dir``.

    Parameters
    ----------
    out_dir : Path
        Folder to write into (created if missing). Existing transcripts are
        replaced so the folder matches the seed exactly.
    seed : int
        Random seed; the same seed writes byte-identical files.

    Returns
    -------
    list of Path
        The files written, sorted.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    transcripts = out_dir / "transcripts"
    if transcripts.is_dir():
        for old in transcripts.glob("*.md"):
            old.unlink()
    written = []
    for name, content in sorted(generate_sample(seed=seed).items()):
        path = out_dir / name
        _write_one(path, content)
        written.append(path)
    return sorted(written)
