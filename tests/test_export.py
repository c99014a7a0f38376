"""Exports: formula-injection guard in CSV and XLSX, numbers kept as numbers, sheet layout."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from icp_helpers.data.artifacts import write_json, write_table
from icp_helpers.profile.export import (
    FORMULA_PREFIXES,
    load_scorer,
    plot_tiers,
    safe_cell,
    safe_frame,
    score_accounts,
    score_prospects,
    score_table,
    tier_summary,
    write_scored,
)
from icp_helpers.traits.fitscore import FitScorer
from icp_helpers.traits.traits import TraitDef

DANGEROUS = ["=1+1", "+SUM(A1:A2)", "-2+3", "@cmd", "\tTAB", "\rCR"]


@pytest.fixture()
def frame():
    return pd.DataFrame(
        {
            "account_id": ["A1", "A2", "A3", "A4", "A5", "A6", "A7"],
            "name": [*DANGEROUS, "Olio & Co"],
            "industry": ["=HYPERLINK(\"http://x\",\"y\")", "wholesaler", "-", "hotel", "@x", "deli", "cafe"],
            "fit_score": [-12.5, 0.0, 40.0, 55.5, -1.0, 3.0, 99.0],
            "delta": [-3, 2, -1, 0, 5, -7, 1],
            "is_best": [True, False, True, False, False, True, False],
            "matched_traits": [["industry=wholesaler", "city_size=large"], [], ["=evil"], [], [], [], []],
        }
    )


@pytest.mark.parametrize("text", DANGEROUS)
def test_safe_cell_neutralises_each_formula_prefix(text):
    assert safe_cell(text) == "'" + text
    assert not safe_cell(text).startswith(FORMULA_PREFIXES)


@pytest.mark.parametrize("value", [-5, -2.5, 0, 3, 1.5, True, None, np.int64(-4), np.float64(-0.5)])
def test_safe_cell_leaves_numbers_and_empties_alone(value):
    assert safe_cell(value) is value


@given(st.text())
def test_guarded_text_never_starts_like_a_formula(text):
    out = safe_cell(text)
    assert not out.startswith(FORMULA_PREFIXES)
    assert out in (text, "'" + text)


def test_safe_frame_guards_text_columns_and_headers_only(frame):
    frame = frame.assign(**{"=header": 1})
    out = safe_frame(frame)
    assert out["name"].tolist()[:6] == ["'" + t for t in DANGEROUS]
    assert out["name"].iloc[6] == "Olio & Co"
    assert out["fit_score"].tolist() == frame["fit_score"].tolist()
    assert out["delta"].dtype == frame["delta"].dtype
    assert out["matched_traits"].iloc[0] == "industry=wholesaler; city_size=large"
    assert out["matched_traits"].iloc[2] == "'=evil"
    assert "'=header" in out.columns


@given(st.lists(st.one_of(st.none(), st.text(max_size=6), st.sampled_from(DANGEROUS)), max_size=30))
def test_text_and_category_columns_are_guarded_as_cell_by_cell(cells):
    expected = [None if c is None else safe_cell(c) for c in cells]
    frame = pd.DataFrame(
        {"text": pd.Series(cells, dtype="str"), "category": pd.Categorical(cells), "object": pd.Series(cells, dtype=object)}
    )
    out = safe_frame(frame)
    for column in frame.columns:
        got = [None if pd.isna(v) else v for v in out[column]]
        assert got == expected, column


def test_csv_is_guarded_and_keeps_negative_numbers(tmp_path, frame):
    paths = write_scored(frame, tmp_path, "scored_accounts")
    assert paths["csv"] == tmp_path / "scored_accounts.csv"
    with paths["csv"].open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row, text in zip(rows, DANGEROUS, strict=False):
        assert row["name"] == "'" + text
    assert rows[0]["industry"].startswith("'=")
    assert rows[2]["industry"] == "'-"
    # numbers unprefixed, in their shortest exact form
    assert [r["fit_score"] for r in rows][:2] == ["-12.5", "0"]
    assert rows[0]["delta"] == "-3"
    back = pd.read_csv(paths["csv"], encoding="utf-8-sig")
    assert back["fit_score"].dtype.kind == "f" and back["delta"].dtype.kind == "i"
    # text quoted, numbers and booleans bare, CRLF rows, a byte-order mark
    raw = paths["csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\r\n") == len(frame) + 1
    assert raw.splitlines()[2] == b'"A2","\'+SUM(A1:A2)","wholesaler",0,2,false,""'


def test_csv_reads_back_as_the_guarded_frame(tmp_path, frame):
    frame = frame.assign(
        when=pd.to_datetime(["2026-01-01 10:30", None, "2026-01-03", "2026-01-04", "2026-01-05", "2026-01-06", "2026-01-07"], format="mixed"),
        day=pd.to_datetime(["2026-01-01", None, "2026-01-03", "2026-01-04", "2026-01-05", "2026-01-06", "2026-01-07"]),
        share=[0.1, np.nan, 1e-5, 2.5e-7, 1e16, 1 / 3, -0.0],
        count=pd.array([1, None, 3, 4, 5, 6, 7], dtype="Int64"),
        note=pd.Series(["a, b", 'say "hi"', "line\r\nbreak", None, "", "x", "y"], dtype="str"),
        tier=pd.Categorical(["A", "B", None, "C", "A", "=B", "C"]),
    )
    path = write_scored(frame, tmp_path, "scored_accounts", formats=["csv"])["csv"]
    back = pd.read_csv(path, encoding="utf-8-sig", parse_dates=["when", "day"])
    expected = safe_frame(frame).assign(
        matched_traits=lambda f: f["matched_traits"].replace("", None),
        note=lambda f: f["note"].replace("", None),
    )
    for column in frame.columns:
        got, want = back[column], expected[column]
        if column in ("when", "day"):
            assert got.astype("datetime64[ns]").tolist() == want.astype("datetime64[ns]").tolist(), column
        elif want.dtype.kind in "fiub" or isinstance(want.dtype, pd.Int64Dtype):
            np.testing.assert_array_equal(got.to_numpy(dtype=float), want.to_numpy(dtype=float, na_value=np.nan))
        else:
            assert [None if pd.isna(v) else v for v in got] == [None if pd.isna(v) else v for v in want], column


def test_csv_of_a_column_arrow_cannot_type_is_still_written_and_guarded(tmp_path):
    frame = pd.DataFrame({"mixed": pd.Series([1, "=x", None], dtype=object), "n": [1.5, 2.0, -3.0]})
    path = write_scored(frame, tmp_path, "scored_accounts", formats=["csv"])["csv"]
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [["mixed", "n"], ["1", "1.5"], ["'=x", "2.0"], ["", "-3.0"]]
    assert path.read_bytes().count(b"\r\n") == 4


def test_xlsx_shows_text_not_formulas_and_numbers_as_numbers(tmp_path, frame):
    path = write_scored(frame, tmp_path, "scored_prospects")["xlsx"]
    sheet = load_workbook(path).active
    header = [c.value for c in sheet[1]]
    assert header == list(frame.columns)
    name_col = header.index("name") + 1
    for row, text in enumerate(DANGEROUS, start=2):
        cell = sheet.cell(row=row, column=name_col)
        assert cell.data_type == "s", text
        # written through lxml (a dependency), which keeps a carriage return as it is
        assert cell.value == "'" + text
    industry = sheet.cell(row=2, column=header.index("industry") + 1)
    assert industry.data_type == "s" and industry.value.startswith("'=")
    score = sheet.cell(row=2, column=header.index("fit_score") + 1)
    assert score.data_type == "n" and score.value == -12.5
    delta = sheet.cell(row=2, column=header.index("delta") + 1)
    assert delta.data_type == "n" and delta.value == -3
    flag = sheet.cell(row=2, column=header.index("is_best") + 1)
    assert flag.value is True
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_xlsx_layout_frozen_header_filter_and_widths(tmp_path, frame):
    path = write_scored(frame, tmp_path, "scored_accounts", formats=["xlsx"])["xlsx"]
    assert not (tmp_path / "scored_accounts.csv").exists()
    sheet = load_workbook(path).active
    assert sheet.title == "scored_accounts"
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:G{len(frame) + 1}"
    assert all(c.font.bold for c in sheet[1])
    widths = {col: sheet.column_dimensions[col].width for col in "ABCDEFG"}
    # fitted to the longest value: the matched-traits column is wider than the id column
    assert widths["G"] > widths["A"] >= len("account_id")
    assert max(widths.values()) <= 60


def test_a_table_longer_than_a_sheet_continues_on_the_next(tmp_path):
    from icp_helpers.profile.export import _write_xlsx

    frame = pd.DataFrame({"account_id": [f"A{i}" for i in range(7)], "fit_score": range(7)})
    _write_xlsx(frame, tmp_path / "long.xlsx", sheet="scored_accounts", max_rows=3)
    book = load_workbook(tmp_path / "long.xlsx")
    assert book.sheetnames == ["scored_accounts", "scored_accounts 2", "scored_accounts 3"]
    rows = []
    for sheet in book.worksheets:
        assert [c.value for c in sheet[1]] == ["account_id", "fit_score"]
        assert all(c.font.bold for c in sheet[1]) and sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref == f"A1:B{sheet.max_row}"
        rows += [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert rows == frame.to_numpy().tolist()


def test_xlsx_row_cap_keeps_the_first_rows_and_says_so(tmp_path):
    frame = pd.DataFrame({"account_id": [f"A{i}" for i in range(7)], "fit_score": range(7, 0, -1)})
    paths = write_scored(frame, tmp_path, "scored_accounts", xlsx_max_rows=3)
    book = load_workbook(paths["xlsx"])
    assert book.sheetnames == ["scored_accounts", "About"]
    rows = [[c.value for c in row] for row in book["scored_accounts"].iter_rows(min_row=2)]
    assert rows == frame.head(3).to_numpy().tolist()
    about = book["About"]["A1"].value
    assert "first 3 of 7 rows" in about and "scored_accounts.csv" in about
    assert len(pd.read_csv(paths["csv"], encoding="utf-8-sig")) == 7
    # under the cap nothing is cut and there is no note
    book = load_workbook(write_scored(frame, tmp_path, "all", xlsx_max_rows=7)["xlsx"])
    assert book.sheetnames == ["all"] and book["all"].max_row == 8


def test_unknown_format_is_refused(tmp_path, frame):
    with pytest.raises(ValueError, match="allowed: csv, xlsx"):
        write_scored(frame, tmp_path, "x", formats=["pdf"])


def test_control_characters_do_not_break_the_workbook(tmp_path):
    frame = pd.DataFrame({"name": ["bell\x07name", "=x"], "when": pd.to_datetime(["2026-01-02", None])})
    path = write_scored(frame, tmp_path, "odd")["xlsx"]
    sheet = load_workbook(path).active
    assert sheet["A2"].value == "bellname"
    assert sheet["A3"].value == "'=x"
    assert sheet["B2"].is_date and sheet["B3"].value is None


def test_tier_summary_counts_rates_and_ratio():
    scored = pd.DataFrame(
        {
            "tier": ["A"] * 4 + ["B"] * 6 + ["C"] * 10,
            "is_best": [True, True, True, False] + [True, False, False, False, False, False] + [True] + [False] * 9,
        }
    )
    summary = tier_summary(scored)
    assert summary["accounts"].tolist() == [4, 6, 10]
    assert summary["best"].tolist() == [3, 1, 1]
    assert summary.loc["A", "best_rate"] == pytest.approx(0.75)
    assert summary.loc["A", "rate_vs_lowest"] == pytest.approx(7.5)
    assert summary["share"].sum() == pytest.approx(1.0)
    # an outcome given as a Series (best customers of a later quarter)
    later = tier_summary(scored, outcome=pd.Series([False] * 19 + [True]))
    assert later["best"].tolist() == [0, 0, 1]
    # no best customer in the lowest tier: the ratio is undefined, not infinite
    assert np.isnan(tier_summary(scored.assign(is_best=scored["tier"] == "A")).loc["A", "rate_vs_lowest"])


def test_plot_tiers_draws_one_bar_per_tier_and_table():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    accounts = pd.DataFrame({"tier": ["A", "B", "B", "C"]})
    prospects = pd.DataFrame({"tier": ["C", "C"]})
    ax = plot_tiers(accounts, prospects)
    heights = [round(p.get_height(), 3) for p in ax.patches]
    assert heights == [0.25, 0.5, 0.25, 0.0, 0.0, 1.0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["accounts", "prospects"]
    plt.close(ax.figure)


# -- scoring -------------------------------------------------------------------


@pytest.fixture()
def scorer_and_accounts():
    rng = np.random.default_rng(5)
    n = 120
    accounts = pd.DataFrame(
        {
            "account_id": [f"A{i:03d}" for i in range(n)],
            "name": [f"=Shop {i}" if i == 0 else f"Shop {i}" for i in range(n)],
            "industry": rng.choice(["wholesaler", "deli"], n),
            "employees": rng.integers(1, 200, n).astype(float),
            "job_role": rng.choice(["buyer", "owner"], n),
        }
    )
    accounts.loc[3, "industry"] = None
    is_best = (accounts["industry"] == "wholesaler") & (rng.uniform(size=n) < 0.7) | (rng.uniform(size=n) < 0.1)
    traits = [
        TraitDef(id="industry=wholesaler", label="wholesaler", kind="firmographic", column="industry", op="eq", value="wholesaler"),
        TraitDef(id="employees_band=10-49", label="10-49 staff", kind="firmographic", column="employees",
                 op="range", value="10-49", lower=10, upper=50, band_column="employees_band"),
        TraitDef(id="job_role=buyer", label="a buyer", kind="contact", column="job_role", op="eq", value="buyer"),
    ]
    scorer = FitScorer(traits=traits).fit(accounts, is_best)
    return scorer, accounts, is_best


def test_score_table_sums_points_and_splits_matched_missing_unknown(scorer_and_accounts):
    scorer, accounts, _ = scorer_and_accounts
    scored = score_table(accounts, scorer)
    assert len(scored) == len(accounts) and scored["account_id"].is_unique
    assert scored["fit_score"].is_monotonic_decreasing
    ids = {t.id for t in scorer.traits_}
    for row in scored.itertuples():
        assert row.fit_score == sum(scorer.points_[t] for t in row.matched_traits)
        parts = [*row.matched_traits, *row.missing_traits, *row.unknown_traits]
        assert sorted(parts) == sorted(ids)
        expected = "A" if row.fit_score >= scorer.cutoffs_["A"] else "B" if row.fit_score >= scorer.cutoffs_["B"] else "C"
        assert row.tier == expected
    no_industry = scored.set_index("account_id").loc["A003"]
    assert no_industry["unknown_traits"] == ["industry=wholesaler"]
    top = scored.iloc[0]
    assert top["reason"] == "; ".join(
        f"{t.label} (+{scorer.points_[t.id]})" for t in scorer.traits_ if t.id in top["matched_traits"]
    )
    assert {"name", "industry", "employees", "job_role"} <= set(scored.columns)


def test_prospects_without_contacts_have_the_contact_trait_unknown(scorer_and_accounts):
    scorer, accounts, _ = scorer_and_accounts
    prospects = accounts.drop(columns=["job_role"]).rename(columns={"account_id": "prospect_id"})
    scored = score_prospects(prospects, scorer=scorer)
    assert all("job_role=buyer" in u for u in scored["unknown_traits"])
    assert all("job_role=buyer" not in m for m in scored["missing_traits"])
    assert scored["fit_score"].max() <= scorer.max_score_ - scorer.points_["job_role=buyer"]
    empty = score_prospects(None, scorer=scorer)
    assert empty.empty and {"prospect_id", "fit_score", "tier", "matched_traits"} <= set(empty.columns)


def test_accounts_are_scored_from_the_run_folder_with_the_saved_scorer(tmp_path, scorer_and_accounts):
    scorer, accounts, is_best = scorer_and_accounts
    write_json({"score": scorer.to_dict()}, tmp_path, "selection.json")
    write_table(accounts, tmp_path, "features.parquet")
    write_table(pd.DataFrame({"account_id": accounts["account_id"], "value_score": np.linspace(1, 0, len(accounts)),
                              "is_best": is_best.to_numpy()}), tmp_path, "best_customers.parquet")
    loaded = load_scorer(tmp_path)
    assert loaded.points_ == scorer.points_ and loaded.cutoffs_ == scorer.cutoffs_
    assert load_scorer(tmp_path / "selection.json").points_ == scorer.points_
    scored = score_accounts(tmp_path)
    assert scored.set_index("account_id")["is_best"].sort_index().tolist() == is_best.tolist()
    assert (scored["fit_score"].to_numpy() == score_table(accounts, scorer)["fit_score"].to_numpy()).all()
    # the exports carry the guard: the hostile name is text, the lists are joined
    rows = pd.read_csv(write_scored(scored, tmp_path, "scored_accounts")["csv"], encoding="utf-8-sig")
    assert rows.set_index("account_id").loc["A000", "name"] == "'=Shop 0"
    assert rows["matched_traits"].dropna().str.contains("; |=", regex=True).all()
    with pytest.raises(KeyError, match="score"):
        load_scorer({"selected": []})


@pytest.mark.parametrize("dtype", ["str", object])
def test_formula_cells_are_the_guard_pattern_cell_by_cell(dtype):
    """The fast check finds exactly the cells Python's pattern finds, Unicode whitespace included."""
    import re

    from icp_helpers.data.formulas import _FORMULA_PATTERN
    from icp_helpers.profile.export import _formula_cells

    cells = ["\u00a0=1", "\x0b-1", "\x1c@x", " +1", "\t", "\r", "é=", "", None, "a=b", "=x",
             "\u2003\u2003-2", "ok", "\n=1", "💥=", " \u00a0 x", "industry: wholesaler (+22)"]
    column = pd.Series(cells * 50, dtype=dtype)
    expected = [isinstance(c, str) and re.search(_FORMULA_PATTERN, c) is not None for c in cells * 50]
    assert _formula_cells(column).tolist() == expected
    assert sum(expected[: len(cells)]) == 9
