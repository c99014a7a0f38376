"""Best vs rest: effect sizes checked against scipy and by hand, the table, the XLSX."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from openpyxl import load_workbook  # noqa: E402
from scipy.stats.contingency import association  # noqa: E402

from icp_helpers.customers import commonalities as cm  # noqa: E402


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_uncorrected_v_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    table = rng.integers(1, 60, size=(rng.integers(2, 5), rng.integers(2, 5)))
    assert cm.cramers_v(table, bias_correction=False) == pytest.approx(
        association(table, method="cramer", correction=False)
    )


def test_bias_corrected_v_by_hand():
    # [[40, 10], [10, 40]]: every expected count is 25, chi2 = 4 * 15**2 / 25 = 36, n = 100
    phi2 = 36 / 100
    phi2_corrected = phi2 - 1 / 99
    r_corrected = 2 - 1 / 99
    expected = np.sqrt(phi2_corrected / (r_corrected - 1))
    assert expected == pytest.approx(0.59453, abs=1e-5)
    assert cm.cramers_v([[40, 10], [10, 40]]) == pytest.approx(expected)
    # a weak association is pulled to zero by the correction, not by the plain V
    assert cm.cramers_v([[10, 20], [30, 40]], bias_correction=False) == pytest.approx(np.sqrt(0.793651 / 100), rel=1e-5)
    assert cm.cramers_v([[10, 20], [30, 40]]) == 0.0


def test_bias_corrected_v_of_a_3x2_table_by_hand():
    table = np.array([[30, 10], [10, 30], [20, 20]])
    n = 120
    expected_counts = np.outer(table.sum(1), table.sum(0)) / n  # 20 everywhere
    chi2 = ((table - expected_counts) ** 2 / expected_counts).sum()
    assert chi2 == pytest.approx(20.0)
    phi2c = chi2 / n - (2 * 1) / (n - 1)
    rc, kc = 3 - 4 / (n - 1), 2 - 1 / (n - 1)
    assert cm.cramers_v(table) == pytest.approx(np.sqrt(phi2c / min(rc - 1, kc - 1)))


def test_cramers_v_from_two_variables_drops_missing_pairs():
    x = ["a", "a", "b", "b", None, "a"]
    y = [True, True, False, False, True, True]
    assert cm.cramers_v(x, y, bias_correction=False) == pytest.approx(1.0)
    assert np.isnan(cm.cramers_v(["a", "a"], [True, False]))


def test_hedges_g_by_hand():
    # means 2 and 5, both variances 1 -> d = -3; J = 1 - 3 / (4 * 6 - 9) = 0.8
    assert cm.hedges_g([1, 2, 3], [4, 5, 6]) == pytest.approx(-2.4)
    assert cm.hedges_g([1, 2, np.nan, 3], [4, 5, 6]) == pytest.approx(-2.4)
    assert np.isnan(cm.hedges_g([1], [2, 3]))


def _table():
    rng = np.random.default_rng(5)
    n = 200
    is_best = np.zeros(n, dtype=bool)
    is_best[:50] = True
    industry = np.where(is_best, rng.choice(["wholesaler", "hotel"], n, p=[0.8, 0.2]),
                        rng.choice(["wholesaler", "hotel", "deli"], n, p=[0.1, 0.45, 0.45]))
    features = pd.DataFrame(
        {
            "account_id": [f"A{i:03d}" for i in range(n)],
            "name": [f"Company {i}" for i in range(n)],  # unique: never a trait
            "industry": industry,
            "country": rng.choice(["Italy", "Spain"], n),  # unrelated to best
            "city": [f"city {i % 60}" for i in range(n)],  # too many levels
            "won_value": np.where(is_best, 5000.0, 1000.0) + rng.normal(0, 100, n),
            "avg_deal_price": np.where(is_best, 60.0, 50.0) + rng.normal(0, 10, n),
            "case_study": is_best & (np.arange(n) % 5 == 0),
            "created_date": pd.Timestamp("2020-01-01"),
        }
    )
    scores = pd.DataFrame({"account_id": features["account_id"], "is_best": is_best})
    return features, scores


def test_best_vs_rest_table():
    features, scores = _table()
    table = cm.best_vs_rest(features, scores, defines_best=["won_value", "case_study"])
    assert list(table.columns) == list(cm.TABLE_COLUMNS)
    traits = set(table["trait"])
    assert {"industry=wholesaler", "industry=hotel", "industry=deli", "avg_deal_price", "case_study"} <= traits
    assert not any(t.startswith(("name", "city", "account_id", "created_date")) for t in traits)

    row = table.set_index("trait").loc["industry=wholesaler"]
    is_best = scores["is_best"].to_numpy()
    has = (features["industry"] == "wholesaler").to_numpy()
    assert row["best"] == pytest.approx(has[is_best].mean())
    assert row["rest"] == pytest.approx(has[~is_best].mean())
    counts = [[int((has & is_best).sum()), int((~has & is_best).sum())],
              [int((has & ~is_best).sum()), int((~has & ~is_best).sum())]]
    assert row["effect"] == pytest.approx(cm.cramers_v(counts))
    assert row["effect"] > 0 and row["direction"] == "more common among best"
    assert row["column_effect"] == pytest.approx(cm.cramers_v(features["industry"], is_best))
    assert table.set_index("trait").loc["industry=deli", "effect"] < 0

    price = table.set_index("trait").loc["avg_deal_price"]
    assert price["effect_measure"] == "hedges_g"
    assert price["best"] == pytest.approx(features.loc[is_best, "avg_deal_price"].median())
    assert price["effect"] == pytest.approx(
        cm.hedges_g(features.loc[is_best, "avg_deal_price"], features.loc[~is_best, "avg_deal_price"])
    )

    assert table.set_index("trait").loc["won_value", "defines_best"]
    assert table.set_index("trait").loc["case_study", "defines_best"]
    assert not table.set_index("trait").loc["industry=wholesaler", "defines_best"]
    # sorted by strength: the planted trait is above the unrelated country levels
    order = table["trait"].tolist()
    assert order.index("industry=wholesaler") < min(order.index("country=Italy"), order.index("country=Spain"))
    assert table["strength"].dropna().is_monotonic_decreasing


def test_best_flags_can_be_a_column_or_an_array():
    features, scores = _table()
    by_frame = cm.best_vs_rest(features, scores)
    by_array = cm.best_vs_rest(features, scores["is_best"].to_numpy())
    by_column = cm.best_vs_rest(features.assign(is_best=scores["is_best"]), "is_best")
    pd.testing.assert_frame_equal(by_frame, by_array)
    pd.testing.assert_frame_equal(by_frame, by_column)


def test_traits_document(tmp_path):
    features, scores = _table()
    table = cm.best_vs_rest(features, scores, defines_best=["won_value"])
    path = cm.write_traits_document(table, tmp_path / "commonalities.xlsx", notes=[("Quarter", "2026Q3")])
    wb = load_workbook(path)
    ws = wb["best vs rest"]
    assert ws.freeze_panes == "B2"
    assert ws["A1"].value == "Trait"
    assert ws.max_row == len(table) + 1
    assert ws.column_dimensions["A"].width >= 20
    header = [c.value for c in ws[1]]
    trait_col = header.index("Trait") + 1
    best_col = header.index("Best customers") + 1
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, trait_col).value == "industry=wholesaler")
    assert ws.cell(row, best_col).number_format == "0.0%"
    assert ws.cell(row, best_col).value == pytest.approx(table.set_index("trait").loc["industry=wholesaler", "best"])
    notes = [c.value for c in wb["read me"]["A"]]
    assert "Quarter" in notes and "Defines best (circular)" in notes


def test_summary_text_and_plot():
    features, scores = _table()
    table = cm.best_vs_rest(features, scores, defines_best=["won_value"])
    text = cm.summary_text(table)
    assert "`industry=wholesaler`" in text and "`won_value`" not in text
    fig = cm.plot_best_vs_rest(table)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert "industry=wholesaler" in labels and "won_value" not in labels
    plt.close(fig)


@pytest.mark.parametrize("column", ["mixed", "category", "text"])
def test_category_levels_counted_as_text_cell_by_cell(column):
    rng = np.random.default_rng(4)
    n = 600
    features = pd.DataFrame(
        {
            "account_id": [f"a{i}" for i in range(n)],
            "mixed": pd.Series(rng.choice(["x", "y", None, 1, 1.0, "1"], n), dtype=object),
            "category": pd.Categorical(rng.choice(["b", "a", None], n)),
            "text": pd.Series(rng.choice(["p", "q", "r", None], n), dtype="str"),
        }
    )
    is_best = rng.random(n) < 0.3
    table = cm.best_vs_rest(features[["account_id", column]], is_best, min_count=1)
    cells = features[column].astype(object)
    labels = np.array([None if pd.isna(v) else str(v) for v in cells], dtype=object)
    expected = sorted({label for label in labels if label is not None})
    assert sorted(table["level"]) == expected  # 1 and 1.0 stay two levels: their text differs
    for level, row in table.set_index("level").iterrows():
        assert row["best_count"] == int(((labels == level) & is_best).sum())
        assert row["rest_count"] == int(((labels == level) & ~is_best).sum())
        assert row["missing_best"] == int((pd.isna(labels) & is_best).sum())
    known = pd.notna(labels)
    assert table["column_effect"].iloc[0] == pytest.approx(cm.cramers_v(labels[known], is_best[known]))
