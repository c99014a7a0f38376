"""A small run of the benchmark code, so that it cannot rot: no timing is asserted."""

from __future__ import annotations

import sys

import pandas as pd
import pyarrow.parquet as pq
import pytest

from icp_helpers.data.config import PROJECT_ROOT, load_config

if str(PROJECT_ROOT) not in sys.path:  # bench/ is a folder of the repository, not an installed package
    sys.path.insert(0, str(PROJECT_ROOT))

from bench.features_bench import (  # noqa: E402
    Dataset,
    compare,
    ibis_features,
    pandas_features,
    sql_features,
)
from bench.generate import QUARTER, generate  # noqa: E402
from bench.scaling_bench import fit_exponent  # noqa: E402

N_ACCOUNTS, N_DEALS = 2_000, 20_000


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench_data")
    written = generate(folder, accounts=N_ACCOUNTS, deals=N_DEALS, leads=500)
    return folder, written


def test_generator_writes_the_canonical_tables(generated):
    folder, written = generated
    assert pq.read_metadata(written["deals"]).num_rows == N_DEALS
    assert pq.read_metadata(written["accounts"]).num_rows == N_ACCOUNTS
    deals = pd.read_parquet(written["deals"])
    assert {"deal_id", "account_id", "close_date", "amount", "quantity", "stage"} <= set(deals.columns)
    assert deals["deal_id"].is_unique
    assert set(deals["stage"]) <= {"won", "lost", "open"}
    assert deals["account_id"].isin(pd.read_parquet(written["accounts"])["account_id"]).all()
    assert str(deals["close_date"].max().to_period("Q")) == QUARTER
    activities = pd.read_parquet(written["activities"])
    assert activities["lead_id"].isin(pd.read_parquet(written["leads"])["lead_id"]).all()
    config = load_config(written["config"])  # the config validates and every file it names exists
    assert config.input_paths("deals") == [folder / "deals.parquet"]


def test_generator_is_seeded(tmp_path):
    a = generate(tmp_path / "a", accounts=300, deals=3_000, leads=0, config=False)
    b = generate(tmp_path / "b", accounts=300, deals=3_000, leads=0, config=False)
    for table in ("accounts", "deals", "contacts"):
        assert pq.read_table(a[table]).equals(pq.read_table(b[table]))


def test_the_three_feature_implementations_agree(generated):
    folder, _ = generated
    data = Dataset.from_dir(folder)
    on_ibis = ibis_features(data, quarter=QUARTER)
    assert len(on_ibis) > 0.9 * N_ACCOUNTS
    assert on_ibis["won_deals"].sum() > 0.1 * N_DEALS  # a real comparison, not of empty tables
    assert compare(on_ibis, sql_features(data, quarter=QUARTER)) == []
    assert compare(on_ibis, pandas_features(data, quarter=QUARTER)) == []


def test_compare_reports_a_difference(generated):
    folder, _ = generated
    data = Dataset.from_dir(folder)
    left = sql_features(data, quarter=QUARTER)
    right = left.copy()
    row = right.index[right["spend_median"].notna() & right["preferred_weekday"].notna()][0]
    right.loc[row, "spend_median"] += 1.0
    right.loc[row, "preferred_weekday"] = None
    problems = compare(left, right)
    assert [p.split(":")[0] for p in problems] == ["spend_median", "preferred_weekday"]


def test_exponent_fit():
    b, r2 = fit_exponent([1e6, 2e6, 4e6], [1.0, 2.0, 4.0])
    assert b == pytest.approx(1.0) and r2 == pytest.approx(1.0)


def test_hotspot_xlsx_benchmark_and_its_rendering(tmp_path):
    from bench.hotspots_bench import bench_xlsx
    from bench.run_all import machine_info, render

    xlsx = bench_xlsx([300], tmp_path, log=lambda *_: None)
    assert xlsx["streaming_rows_read_back"] == 300 and len(xlsx["ordinary_s"]) == 1
    bootstrap = {"accounts": [1000], "traits": 5, "cap": 50_000, "resamples": 2, "capped_s": [0.01],
                 "uncapped_s": [0.02], "without_bootstrap_s": [0.5]}
    results = {"mode": "quick", "machine": machine_info(),
               "sections": {"hotspots": {"data": {"xlsx": xlsx, "bootstrap": bootstrap}}}}
    text = render(results)
    assert "## Hot spots" in text and "| 300 |" in text and "| 1,000 | 5 | 0.010 | 0.020 | 0.5 |" in text


def test_generator_writes_deals_in_parts_of_bounded_size(tmp_path):
    import pyarrow.parquet as pq
    import yaml

    written = generate(tmp_path / "parts", accounts=500, deals=20_000, leads=0, part_rows=1_500)
    parts = [path for name, path in written.items() if name.startswith("deals_part_")]
    rows = [pq.read_metadata(path).num_rows for path in parts]
    assert "deals" not in written and len(parts) > 12  # every quarter split further
    assert max(rows) <= 1_500 and sum(rows) == 20_000
    ids = pq.ParquetDataset(parts).read(columns=["deal_id"])["deal_id"].to_pylist()
    assert len(set(ids)) == 20_000
    config = yaml.safe_load(written["config"].read_text(encoding="utf-8"))
    assert config["inputs"]["deals"]["path"] == [str(p.relative_to(tmp_path / "parts")) for p in parts]


def test_the_quarters_memory_is_rendered_side_by_side():
    from bench.run_all import machine_info, render

    def quarter(deals, rss):
        return {"status": "ok", "wall_s": [100.0], "median_s": 100.0, "peak_rss_mb": rss,
                "peak_single_rss_mb": rss / 2, "notebooks": {}, "accounts": 1_000_000, "deals": deals}

    e2e = {"20M": quarter(20_000_000, 3000.0), "100M": quarter(100_000_000, 7000.0)}
    results = {"mode": "full", "machine": machine_info(), "sections": {"e2e": {"data": e2e}}}
    text = render(results)
    assert "| 20M | 1,000,000 | 20,000,000 | ok | 100.0 | 3,000 | 1,500 |" in text
    assert "| 100M | 1,000,000 | 100,000,000 | ok | 100.0 | 7,000 | 3,500 |" in text
    assert "100M deals quarter peak RSS at most 6 GB | 6.84 GB | missed" in text.replace("*", "")
