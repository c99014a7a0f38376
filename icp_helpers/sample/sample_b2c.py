"""A second bundled sample: a consumer shop (B2C), with what was planted in it.

``icp sample --kind b2c --out DIR`` writes an online tea shop's export of
consumers: ``customers.csv`` (birth year, gender, income, marital status,
children, education, city, country, join date), ``orders.csv`` (one row per
order with the time of day and the number of items: single and multi-item
baskets), a few ``interviews.csv`` with a small ``codebook.yml``, the planted
truth (``truth.yml``, ``truth_customers.csv``) and a ready ``icp.yml`` whose
paths are relative to ``DIR``, so ``icp run --config DIR/icp.yml`` runs it.

What is planted
---------------
Three **segments**, told apart by who they are and when they buy, with the
same expected spend (so being in a segment does not make a best customer):

* students: aged 18-24, single, no children, low income; five small cheap
  orders a quarter, on weekday evenings;
* families: aged 35-44, couples with children, mid income; three orders a
  quarter on Saturday mornings;
* retirees: aged 65 and over, couples or widowed, high income; two
  premium orders a quarter on Monday mornings.

**ICP traits** that raise a customer's spend whatever the segment: being a
woman (``gender=F``) and having a university degree
(``education=university``), both who-traits; and two buying habits,
behaviour traits (the config scores behaviour, as a shop scoring its own
customers does): multi-item baskets (``multi_item_buyer``) and premium
teas, a customer's own spend level, which shows as the price paid per item
(``avg_deal_price_band=Q4``). City and country are **decoys**: common, with
no effect.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

__all__ = ["SEGMENTS", "ICP_TRAITS", "generate_b2c_sample", "write_b2c_sample"]

#: Segment -> (share, age range, income mean, orders a quarter, unit price, weekday, hour).
SEGMENTS = {
    "students": (0.35, (18, 25), 15_000, 5, 8.0, (1, 2, 3), 20),
    "families": (0.40, (35, 45), 45_000, 3, 14.0, (5,), 10),
    "retirees": (0.25, (65, 80), 90_000, 2, 20.0, (0,), 9),
}
#: The planted ICP: who-traits and behaviour traits (trait ids of ``traits.py``).
ICP_TRAITS = {
    "who": ["gender=F", "education=university"],
    "behaviour": ["multi_item_buyer", "avg_deal_price_band=Q4"],
}
#: Other ids of the same planted habits (the share and the size of baskets measure the
#: basket habit too; the third price band, the premium habit).
EQUIVALENT = {
    "multi_item_buyer": ["multi_item_share_band=Q4", "avg_deal_size_band=Q4", "multi_item_share_band=Q3"],
    "avg_deal_price_band=Q4": ["avg_deal_price_band=Q3"],
}
_FACTOR = {"gender=F": 1.9, "education=university": 1.9, "multi_item_buyer": 2.5}
_QUARTERS = pd.period_range("2024Q4", "2026Q3", freq="Q")
_CITIES = ("Milan", "Rome", "Turin", "Madrid", "Valencia")

_CODEBOOK = {
    "codes": [
        {"code": "channel:instagram", "dimension": "discovery_channel",
         "description": "Found the shop on Instagram.", "keywords": ["instagram", "insta"]},
        {"code": "channel:friend", "dimension": "discovery_channel",
         "description": "A friend recommended the shop.", "keywords": ["friend", "recommended"]},
        {"code": "reason:gift", "dimension": "purchase_reason",
         "description": "First bought as a gift.", "keywords": ["gift", "present"]},
        {"code": "pain:stale_tea", "dimension": "pain_point",
         "description": "Supermarket tea tasted stale.", "keywords": ["stale", "dusty"]},
        {"code": "need:fast_delivery", "dimension": "need_met",
         "description": "Delivery within two days.", "keywords": ["fast delivery", "two days"]},
        {"code": "opinion:positive", "dimension": "opinion",
         "description": "Likes the tea.", "keywords": ["love", "great"]},
        {"code": "stay:quality", "dimension": "reason_to_stay",
         "description": "Stays for the quality.", "keywords": ["quality", "fresh"]},
    ]
}
_ANSWERS = {
    "how_found": ["I saw the shop on Instagram.", "A friend recommended it to me."],
    "why_first_buy": ["I wanted a gift for my mother.", "I was curious about loose-leaf tea."],
    "pains_needs": ["Supermarket tea always tasted stale.", "I never find green tea I like."],
    "need_met": ["Fast delivery, it arrives in two days.", "The samples let me try new teas."],
    "opinion": ["I love the first flush darjeeling.", "Great tea, a bit pricey."],
    "why_stay": ["The quality, it is always fresh.", "The monthly box is convenient."],
}


def _customers(rng: np.random.Generator, n: int) -> pd.DataFrame:
    names = list(SEGMENTS)
    segment = rng.choice(len(names), size=n, p=[SEGMENTS[s][0] for s in names])
    rows = []
    for i, k in enumerate(segment):
        name = names[k]
        _, (age_lo, age_hi), income, _, _, _, _ = SEGMENTS[name]
        age = rng.integers(age_lo, age_hi)
        if rng.random() < 0.06:
            age = rng.integers(45, 55)  # a few who do not fit their segment's age
        marital = {"students": "Single", "families": "Married"}.get(
            name, rng.choice(["Married", "Widowed"], p=[0.75, 0.25])
        )
        if rng.random() < 0.06:
            marital = "Divorced"
        children = int(rng.integers(1, 4)) if name == "families" else 0
        if rng.random() < 0.05:
            children = 1 - min(children, 1)
        rows.append(
            {
                "customer_id": f"C{i + 1:05d}",
                "birth_year": int(2026 - age),
                "gender": "F" if rng.random() < 0.5 else "M",
                "income": round(float(income * np.exp(rng.normal(0, 0.18))), -2),
                "marital_status": marital,
                "children": children,
                "education": rng.choice(["university", "secondary", "primary"], p=[0.4, 0.45, 0.15]),
                "city": rng.choice(_CITIES),
                "country": "Italy" if rng.random() < 0.7 else "Spain",
                "joined": (pd.Timestamp("2023-01-01") + pd.Timedelta(days=int(rng.integers(0, 630)))).date(),
                "segment": name,
                "basket_buyer": bool(rng.random() < 0.4),
            }
        )
    return pd.DataFrame(rows)


def _orders(rng: np.random.Generator, customers: pd.DataFrame) -> pd.DataFrame:
    rows = []
    n = 0
    for row in customers.itertuples(index=False):
        _, _, _, per_quarter, price, weekdays, hour = SEGMENTS[row.segment]
        value = np.exp(rng.normal(0, 0.45))  # what this customer spends, whatever the segment
        value *= _FACTOR["gender=F"] if row.gender == "F" else 1.0
        value *= _FACTOR["education=university"] if row.education == "university" else 1.0
        for quarter in _QUARTERS:
            start = quarter.start_time
            days = (quarter.end_time.normalize() - start).days + 1
            for _ in range(per_quarter):
                day = start + pd.Timedelta(days=int(rng.integers(0, days)))
                if rng.random() < 0.75:  # the segment's usual weekday, else any
                    target = int(rng.choice(weekdays))
                    day = day + pd.Timedelta(days=(target - day.dayofweek) % 7)
                    if day > quarter.end_time:
                        day -= pd.Timedelta(days=7)
                at = int(np.clip(round(hour + rng.normal(0, 1.0)), 0, 23))
                if row.basket_buyer:
                    items = int(rng.integers(2, 6))
                else:
                    items = 1 if rng.random() < 0.9 else 2
                basket = _FACTOR["multi_item_buyer"] if row.basket_buyer else 1.0
                amount = price * (1 + 0.2 * (items - 1)) * basket * value * np.exp(rng.normal(0, 0.15))
                n += 1
                rows.append(
                    {
                        "order_id": f"O{n:06d}",
                        "customer_id": row.customer_id,
                        "ordered_at": (day + pd.Timedelta(hours=at, minutes=int(rng.integers(0, 60))))
                        .strftime("%Y-%m-%d %H:%M"),
                        "items": items,
                        "amount": round(float(amount), 2),
                    }
                )
    return pd.DataFrame(rows)


def _interviews(rng: np.random.Generator, customers: pd.DataFrame, n: int = 12) -> pd.DataFrame:
    picked = customers.sample(n=n, random_state=int(rng.integers(0, 2**31)))
    rows = []
    for i, row in enumerate(picked.itertuples(index=False), start=1):
        for question, answers in _ANSWERS.items():
            rows.append(
                {
                    "interview_id": f"I{i:03d}",
                    "account_id": row.customer_id,
                    "question": question,
                    "answer": answers[int(rng.integers(0, len(answers)))],
                }
            )
    return pd.DataFrame(rows)


def _config() -> dict:
    return {
        "name": "Tea shop (consumer sample)",
        "data_dir": ".",
        "profile": {"kind": "b2c"},
        "inputs": {
            "customers": {"path": "customers.csv",
                          "columns": {"customer_id": "account_id", "joined": "created_date"}},
            "deals": {"path": "orders.csv",
                      "columns": {"order_id": "deal_id", "customer_id": "account_id",
                                  "ordered_at": "close_date", "items": "quantity"}},
            "interviews": {"path": "interviews.csv"},
            "codebook": {"path": "codebook.yml"},
        },
        "analysis": {"lookback_quarters": 4, "validation_quarters": 1},
        "best_customers": {"weights": {"won_value": 1.0}, "share": 0.2, "shortlist_size": 6},
        "groups": {"k_min": 2, "k_max": 6},
        "traits": {"score_behaviour": True},
    }


def generate_b2c_sample(*, seed: int = 11, n_customers: int = 2400) -> dict[str, object]:
    """Every file of the consumer sample, by name (tables as DataFrames, YAML as dicts)."""
    rng = np.random.default_rng(seed)
    customers = _customers(rng, n_customers)
    orders = _orders(rng, customers)
    truth = {
        "description": "What the consumer sample generator planted. Synthetic data.",
        "generator": {"command": "icp sample --kind b2c", "seed": seed},
        "quarter": "2026Q3",
        "icp_traits": ICP_TRAITS["who"],
        "behaviour_traits": ICP_TRAITS["behaviour"],
        "equivalent": EQUIVALENT,
        "factors": dict(_FACTOR),
        "decoy_traits": ["city=Milan", "city=Rome", "country=Italy", "country=Spain"],
        "segments": {"file": "truth_customers.csv", "column": "segment", "names": list(SEGMENTS)},
    }
    public = customers.drop(columns=["segment", "basket_buyer"])
    return {
        "customers.csv": public,
        "orders.csv": orders,
        "interviews.csv": _interviews(rng, customers),
        "codebook.yml": _CODEBOOK,
        "truth.yml": truth,
        "truth_customers.csv": customers[["customer_id", "segment", "basket_buyer"]],
        "icp.yml": _config(),
    }


def write_b2c_sample(out_dir: str | Path, *, seed: int = 11, n_customers: int = 2400) -> list[Path]:
    """Write the consumer sample into ``out_dir`` (created) and return the files written."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in generate_b2c_sample(seed=seed, n_customers=n_customers).items():
        path = folder / name
        if isinstance(content, pd.DataFrame):
            content.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
        else:
            text = yaml.safe_dump(content, sort_keys=False, allow_unicode=True)
            if name == "icp.yml":
                text = (
                    "# The consumer sample's config: paths are relative to this file.\n"
                    "# icp run --config icp.yml\n" + text
                )
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
