"""The bundled sample: deterministic, complete, and carrying what truth.yml says was planted."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from icp_helpers.data.config import DEFAULT_CONFIG, SAMPLE_DIR
from icp_helpers.sample.sample import generate_sample, write_sample

CONTRACT = {
    "accounts.csv": [
        "account_id",
        "name",
        "industry",
        "employees",
        "annual_revenue",
        "country",
        "region",
        "city",
        "city_size",
        "restaurant_scene",
        "business_type",
        "founded_year",
        "created_date",
        "referred_by",
        "case_study",
        "churned_date",
    ],
    "deals.csv": [
        "deal_id",
        "account_id",
        "close_date",
        "amount",
        "quantity",
        "product",
        "stage",
        "created_date",
    ],
    "contacts.csv": [
        "contact_id",
        "account_id",
        "name",
        "email",
        "phone",
        "job_title",
        "job_role",
        "seniority",
    ],
    "interviews.csv": [
        "interview_id",
        "account_id",
        "question",
        "answer",
        "interviewee_role",
        "date",
    ],
    "manual_codes_coder_a.csv": ["interview_id", "question", "code", "coder"],
    "manual_codes_coder_b.csv": ["interview_id", "question", "code", "coder"],
    "activities.csv": ["lead_id", "timestamp", "activity", "detail", "job_title"],
    "leads.csv": [
        "lead_id",
        "created",
        "converted",
        "converted_date",
        "account_id",
        "job_title",
        "source",
    ],
    "prospects.csv": [
        "prospect_id",
        "name",
        "industry",
        "employees",
        "annual_revenue",
        "country",
        "city",
        "city_size",
        "restaurant_scene",
        "business_type",
    ],
}
QUESTIONS = ["how_found", "why_first_buy", "pains_needs", "need_met", "opinion", "why_stay"]


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(SAMPLE_DIR / name, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("sample")
    return out, write_sample(out, seed=7)


@pytest.fixture(scope="module")
def truth() -> dict:
    return yaml.safe_load((SAMPLE_DIR / "truth.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def accounts() -> pd.DataFrame:
    """Accounts with the config's aliases applied, the way loaders fold them."""
    raw = _read("accounts.csv")
    aliases = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))["aliases"]
    out = raw.copy()
    for column, mapping in aliases.items():
        folded = {str(k).strip().casefold(): v for k, v in mapping.items()}
        out[column] = [folded.get(v.strip().casefold(), v.strip()) for v in raw[column]]
    out["industry"] = out["industry"].str.lower()
    out["employees"] = pd.to_numeric(out["employees"])
    out["annual_revenue"] = pd.to_numeric(out["annual_revenue"])
    return out


@pytest.fixture(scope="module")
def best(accounts) -> pd.Series:
    """Best customers of 2025Q4-2026Q3 by the default value rule, computed from deals.csv."""
    deals = _read("deals.csv")
    deals["close"] = pd.to_datetime(
        deals["close_date"], format="%Y-%m-%dT%H:%M:%S", errors="coerce"
    )
    deals["amount"] = pd.to_numeric(deals["amount"])
    ok = (
        deals["close"].between("2025-10-01", "2026-09-30 23:59")
        & deals["stage"].eq("won")
        & deals["amount"].gt(0)
        & deals["account_id"].isin(accounts["account_id"])
    )
    won = deals[ok].drop_duplicates("deal_id")
    agg = won.groupby("account_id").agg(value=("amount", "sum"), n=("deal_id", "count"))
    frame = agg.reindex(accounts["account_id"]).fillna(0.0)
    frame["referrals"] = (
        accounts["referred_by"].replace("", np.nan).value_counts().reindex(frame.index).fillna(0)
    )
    frame["case"] = accounts.set_index("account_id")["case_study"].eq("true").astype(float)
    score = (
        0.5 * frame["value"].rank(pct=True)
        + 0.3 * frame["n"].rank(pct=True)
        + 0.1 * frame["referrals"].rank(pct=True)
        + 0.1 * frame["case"].rank(pct=True)
    )
    churned = pd.to_datetime(accounts.set_index("account_id")["churned_date"], errors="coerce")
    eligible = frame["n"].gt(0) & ~(churned < "2026-10-01")
    rank = score.where(eligible).rank(ascending=False, method="first")
    return rank <= round(0.2 * len(score))


# -- determinism ------------------------------------------------------------


def test_committed_sample_is_what_seed_7_writes(written):
    out, files = written
    names = sorted(p.relative_to(out).as_posix() for p in files)
    committed = sorted(
        p.relative_to(SAMPLE_DIR).as_posix() for p in SAMPLE_DIR.rglob("*") if p.is_file()
    )
    assert names == committed
    for name in names:
        assert (out / name).read_bytes() == (SAMPLE_DIR / name).read_bytes(), name


def test_another_seed_gives_other_data(written):
    out, _ = written
    other = generate_sample(seed=8)
    text = other["deals.csv"].to_csv(index=False, float_format="%.2f", lineterminator="\n")
    assert text.encode() != (out / "deals.csv").read_bytes()
    assert not other["accounts.csv"]["industry"].equals(_read("accounts.csv")["industry"])


def test_sample_stays_small():
    total = sum(p.stat().st_size for p in SAMPLE_DIR.rglob("*") if p.is_file())
    assert total < 8_000_000


# -- the data contract --------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_columns_follow_the_contract(name):
    assert list(_read(name).columns) == CONTRACT[name]


def test_table_sizes_and_value_ranges():
    deals = _read("deals.csv")
    assert 35_000 <= len(deals) <= 45_000
    assert len(_read("accounts.csv")) == 2000
    assert len(_read("prospects.csv")) == 300
    assert deals["stage"].value_counts(normalize=True)["won"] > 0.8
    close = pd.to_datetime(
        deals["close_date"], format="%Y-%m-%dT%H:%M:%S", errors="coerce"
    ).dropna()
    assert close.min() >= pd.Timestamp("2023-10-01") and close.max() < pd.Timestamp("2026-10-01")
    assert close.dt.hour.between(7, 18).all() and (close.dt.weekday < 5).all()
    interviews = _read("interviews.csv")
    assert set(interviews["question"]) == set(QUESTIONS)
    assert (interviews.groupby("interview_id")["question"].nunique() == 6).all()


def test_every_messy_spelling_has_an_alias(accounts):
    clean_industries = {
        "wholesaler",
        "distributor",
        "restaurant",
        "hotel",
        "retailer",
        "deli",
        "caterer",
    }
    assert set(accounts["industry"]) == clean_industries
    assert set(accounts["country"]) <= {
        "Italy",
        "Germany",
        "United Kingdom",
        "France",
        "Spain",
        "Netherlands",
        "Austria",
        "Switzerland",
        "United States",
    }
    raw = _read("accounts.csv")
    assert raw["industry"].nunique() > 3 * len(clean_industries), "the export should be messy"
    assert raw["employees"].eq("").mean() == pytest.approx(0.04, abs=0.02)
    assert raw["city_size"].eq("").mean() == pytest.approx(0.04, abs=0.02)


def test_transcripts_follow_the_documented_format():
    in_csv = set(_read("interviews.csv")["interview_id"])
    files = sorted((SAMPLE_DIR / "transcripts").glob("*.md"))
    assert len(files) >= 5
    for path in files:
        text = path.read_text(encoding="utf-8")
        match = re.match(r"---\n(.*?)\n---\n(.*)", text, re.S)
        assert match, path.name
        meta = yaml.safe_load(match.group(1))
        assert set(meta) == {"interview_id", "account_id", "interviewee_role", "date"}
        assert meta["interview_id"] == path.stem and path.stem not in in_csv
        assert re.findall(r"^## (\w+)$", match.group(2), re.M) == QUESTIONS


def test_persian_transcripts_mix_letter_variants(truth):
    persian = truth["interviews"]["persian"]
    assert 3 <= len(persian) <= 8
    text = "".join(
        (SAMPLE_DIR / "transcripts" / f"{i}.md").read_text(encoding="utf-8") for i in persian
    )
    for char in ("ي", "ك", "ی", "ک", "\u200c"):
        assert char in text
    assert re.search("[۰-۹]", text)


# -- truth.yml agrees with the data --------------------------------------------


def test_truth_accounts_and_groups_exist(truth):
    groups = _read("truth_accounts.csv")
    assert set(groups["account_id"]) == set(_read("accounts.csv")["account_id"])
    assert set(groups["group"]) == set(truth["groups"]["descriptions"])
    assert 3 <= groups["group"].nunique() <= 5


def test_truth_codes_exist_in_codebook_and_interviews():
    codebook = yaml.safe_load((SAMPLE_DIR / "codebook.yml").read_text(encoding="utf-8"))["codes"]
    names = {c["code"] for c in codebook}
    assert 20 <= len(names) <= 30
    for entry in codebook:
        assert entry["dimension"] in {
            "discovery_channel",
            "purchase_reason",
            "pain_point",
            "need_met",
            "opinion",
            "reason_to_stay",
            "competitor",
        }
        for pattern in entry["patterns"]:
            re.compile(pattern)
    codes = _read("truth_codes.csv")
    assert set(codes["code"]) <= names
    interviewed = set(_read("interviews.csv")["interview_id"]) | {
        p.stem for p in (SAMPLE_DIR / "transcripts").glob("*.md")
    }
    assert set(codes["interview_id"]) <= interviewed
    assert set(_read("truth_interviews.csv")["interview_id"]) == interviewed
    for coder in ("a", "b"):
        manual = _read(f"manual_codes_coder_{coder}.csv")
        assert set(manual["code"]) <= names and set(manual["interview_id"]) <= interviewed


def test_planted_bad_rows_are_in_deals(truth):
    deals = _read("deals.csv")
    known = set(_read("accounts.csv")["account_id"])
    reasons = {}
    for item in truth["bad_rows"]["deals"]:
        row = deals.iloc[item["row"] - 1]
        assert row["deal_id"] == item["deal_id"]
        reasons[item["reason"]] = reasons.get(item["reason"], 0) + 1
        if item["reason"] == "negative amount":
            assert float(row["amount"]) < 0
        elif item["reason"] == "unparseable close_date":
            assert pd.isna(
                pd.to_datetime(row["close_date"], format="%Y-%m-%dT%H:%M:%S", errors="coerce")
            )
        elif item["reason"] == "unknown account_id":
            assert row["account_id"] not in known
        else:
            assert item["reason"] == "duplicate deal_id"
            assert (deals["deal_id"] == row["deal_id"]).sum() == 2
    assert reasons == {
        "negative amount": 5,
        "unparseable close_date": 5,
        "unknown account_id": 5,
        "duplicate deal_id": 3,
    }
    # nothing else is broken
    flagged = {(b["deal_id"], b["row"]) for b in truth["bad_rows"]["deals"]}
    amount = pd.to_numeric(deals["amount"])
    close = pd.to_datetime(deals["close_date"], format="%Y-%m-%dT%H:%M:%S", errors="coerce")
    bad = (
        (amount < 0)
        | close.isna()
        | ~deals["account_id"].isin(known)
        | deals["deal_id"].duplicated()
    )
    assert {(d, r + 1) for r, d in deals.loc[bad, "deal_id"].items()} == flagged


def test_pii_mentions_appear_in_answers(truth):
    contacts = _read("contacts.csv").set_index("contact_id")
    answers = _read("interviews.csv").set_index(["interview_id", "question"])["answer"]
    assert len(truth["pii_mentions"]) >= 3
    for item in truth["pii_mentions"]:
        assert item["value"] in answers[(item["interview_id"], item["question"])]
        assert contacts.loc[item["contact_id"], item["kind"]] == item["value"]


def test_negated_mentions_do_not_carry_the_code():
    answers = _read("interviews.csv")
    codes = _read("truth_codes.csv")
    true = set(zip(codes["interview_id"], codes["question"], codes["code"], strict=True))
    negated = answers[
        answers["answer"].str.contains(
            "never a problem|did not have any issue|never had late", regex=True
        )
    ]
    assert len(negated) >= 3
    for row in negated.itertuples():
        if "never had late" in row.answer or "never a problem" in row.answer:
            assert (row.interview_id, row.question, "pain:reliable_delivery") not in true


# -- the planted structure -------------------------------------------------------


def _share_best(mask: pd.Series, best: pd.Series) -> tuple[float, float]:
    mask = mask.to_numpy()
    return float(best.to_numpy()[mask].mean()), float(best.to_numpy()[~mask].mean())


def test_best_customers_match_truth(best):
    truth_best = _read("truth_accounts.csv").set_index("account_id")["is_best_2026Q3"].eq("true")
    assert (truth_best.reindex(best.index) == best).mean() > 0.97


def test_icp_traits_raise_the_share_of_best_and_decoys_do_not(accounts, best, truth):
    best = best.reindex(accounts["account_id"])
    traits = {
        "industry=wholesaler": accounts["industry"].eq("wholesaler"),
        "employees_band=10-49": accounts["employees"].between(10, 49),
        "city_size=large": accounts["city_size"].eq("large"),
        "restaurant_scene=strong": accounts["restaurant_scene"].eq("strong"),
    }
    assert list(traits) == truth["icp_traits"]
    lifts = {}
    for trait, mask in traits.items():
        with_trait, without = _share_best(mask, best)
        lifts[trait] = with_trait / without
        assert with_trait > 1.5 * without, trait
    italy, not_italy = _share_best(accounts["country"].eq("Italy"), best)
    assert italy / not_italy == pytest.approx(1.0, abs=0.2)
    revenue, no_revenue = _share_best(accounts["annual_revenue"].between(1e6, 1e7 - 1), best)
    assert 1.2 < revenue / no_revenue < lifts["employees_band=10-49"]
    # not trivially separable: many best customers lack at least one trait
    n_traits = sum(m.astype(int) for m in traits.values())
    assert (n_traits[best.to_numpy()] < 4).mean() > 0.5


def test_why_codes_separate_best_from_other_interviewees(truth):
    roster = _read("truth_interviews.csv")
    codes = _read("truth_codes.csv").merge(roster, on="interview_id")
    is_best = roster.set_index("account_id")["is_best"].eq("true")
    assert is_best.sum() >= 35 and (~is_best).sum() >= 15
    for code in truth["why_traits"]:
        has = is_best.index.isin(codes.loc[codes["code"].eq(code), "account_id"])
        assert 0.55 <= has[is_best.to_numpy()].mean() <= 0.85, code
        assert has[~is_best.to_numpy()].mean() <= 0.3, code
    for decoy in ("channel:trade_show", "opinion:positive"):
        has = is_best.index.isin(codes.loc[codes["code"].eq(decoy), "account_id"])
        assert abs(has[is_best.to_numpy()].mean() - has[~is_best.to_numpy()].mean()) < 0.25, decoy


def test_two_coders_agree_on_most_codes_but_not_all():
    a, b = _read("manual_codes_coder_a.csv"), _read("manual_codes_coder_b.csv")
    ids = sorted(set(a["interview_id"]) | set(b["interview_id"]))
    assert 20 <= len(ids) <= 40
    units = [(i, q) for i in ids for q in QUESTIONS]
    sa = set(zip(a["interview_id"], a["question"], a["code"], strict=True))
    sb = set(zip(b["interview_id"], b["question"], b["code"], strict=True))
    kappas = {}
    for code in sorted({c for *_, c in sa | sb}):
        x = np.array([(i, q, code) in sa for i, q in units], dtype=float)
        y = np.array([(i, q, code) in sb for i, q in units], dtype=float)
        po = (x == y).mean()
        pe = x.mean() * y.mean() + (1 - x.mean()) * (1 - y.mean())
        kappas[code] = (po - pe) / (1 - pe)
    values = np.array(list(kappas.values()))
    assert 1 <= (values < 0.6).sum() <= 3
    assert 0.7 <= np.median(values) <= 0.95


def test_groups_differ_in_buying_behaviour():
    deals = _read("deals.csv").merge(_read("truth_accounts.csv"), on="account_id")
    close = pd.to_datetime(deals["close_date"], format="%Y-%m-%dT%H:%M:%S", errors="coerce")
    hours = close.dt.hour.groupby(deals["group"]).median().sort_values()
    assert hours.diff().dropna().min() >= 2
    multi = pd.to_numeric(deals["quantity"]).gt(1).groupby(deals["group"]).mean()
    assert multi.max() - multi.min() > 0.4


def test_chains_are_the_negative_cohort(accounts, truth):
    assert [t["trait"] for t in truth["negative_traits"]] == ["business_type=chain"]
    churned = accounts["churned_date"].ne("")
    chain = accounts["business_type"].eq("chain")
    assert churned.mean() == pytest.approx(0.10, abs=0.03)
    assert churned[chain].mean() > 2 * churned[~chain].mean()
    deals = _read("deals.csv").merge(accounts[["account_id", "business_type"]], on="account_id")
    lost = deals["stage"].eq("lost")
    assert lost.mean() == pytest.approx(0.10, abs=0.03)
    assert (
        lost[deals["business_type"].eq("chain")].mean()
        > 2 * lost[deals["business_type"].ne("chain")].mean()
    )


def test_conversion_follows_the_planted_drivers(truth):
    leads = _read("leads.csv")
    activities = _read("activities.csv")
    converted = leads.set_index("lead_id")["converted"].eq("true")
    assert 0.08 <= converted.mean() <= 0.18
    assert leads["account_id"].ne("").mean() == pytest.approx(0.3, abs=0.05)
    counts = pd.crosstab(activities["lead_id"], activities["activity"]).reindex(
        converted.index, fill_value=0
    )
    rate_with = {a: converted[counts[a] > 0].mean() for a in counts}
    rate_without = {a: converted[counts[a] == 0].mean() for a in counts}
    for driver in truth["conversion_drivers"]["positive"]:
        assert rate_with[driver] > 1.5 * rate_without[driver], driver
    for neutral in ("newsletter_signup", "email_click"):
        assert rate_with[neutral] == pytest.approx(rate_without[neutral], abs=0.04), neutral
    assert rate_with["unsubscribe"] < rate_without["unsubscribe"]
    forms = activities[activities["activity"].eq("form_submission")].drop_duplicates("lead_id")
    senior = forms["job_title"].isin(truth["conversion_drivers"]["senior_titles"])
    form_conv = converted.reindex(forms["lead_id"]).to_numpy()
    assert form_conv[senior.to_numpy()].mean() > 1.3 * form_conv[~senior.to_numpy()].mean()
