"""Tasks run in parallel processes or on a Dask cluster give the very same files; Parquet."""

from __future__ import annotations

import filecmp

import pandas as pd
import pyarrow.parquet as pq
import pytest

from reporting.app.cli import main
from tests.test_determinism import summary_without_invocation

# small regions: large states are split and regions are grouped into many tasks
ARGS = ["--patients", "1500", "--seed", "12", "--today", "2025-06-30", "--quiet",
        "--max-region-patients", "150"]  # fmt: skip
FILES = (
    "patients.csv",
    "visits.csv",
    "billing.csv",
    "conditions.csv",
    "coverage.csv",
    "continuity.csv",
    "schema.sql",
)


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory):
    folder = tmp_path_factory.mktemp("w1")
    assert main([*ARGS, "--outdir", str(folder), "--workers", "1", "--format", "both"]) == 0
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["2", "3"])
def test_any_number_of_workers_writes_identical_files(one_worker, tmp_path, workers):
    assert main([*ARGS, "--outdir", str(tmp_path), "--workers", workers, "--format", "both"]) == 0
    for name in (
        *FILES,
        "visits.parquet",
        "billing.parquet",
        "conditions.parquet",
        "coverage.parquet",
    ):
        assert filecmp.cmp(one_worker / name, tmp_path / name, shallow=False), name
    # the summary too, file hashes included, but for the command line (--workers, --outdir)
    assert summary_without_invocation(one_worker) == summary_without_invocation(tmp_path)


@pytest.mark.slow
def test_a_dask_local_cluster_writes_identical_files(one_worker, tmp_path):
    pytest.importorskip("dask.distributed")
    assert main([*ARGS, "--outdir", str(tmp_path), "--dask", "local", "--workers", "2"]) == 0
    for name in FILES:
        assert filecmp.cmp(one_worker / name, tmp_path / name, shallow=False), name
    with_csv_only = summary_without_invocation(one_worker)  # one_worker wrote Parquet too
    with_csv_only["run"]["files"] = {
        name: record
        for name, record in with_csv_only["run"]["files"].items()
        if not name.endswith(".parquet")
    }
    assert with_csv_only == summary_without_invocation(tmp_path)


@pytest.mark.slow
def test_parquet_has_proper_types_and_the_same_rows(one_worker):
    visits = pq.read_table(one_worker / "visits.parquet")
    types = {field.name: str(field.type) for field in visits.schema}
    assert types["date_of_admission"] == "date32[day]" and types["room_number"] == "int64"
    assert types["hospital_zipcode"] == "large_string" or "string" in types["hospital_zipcode"]
    assert types["condition"].startswith("dictionary")
    billing = pq.read_table(one_worker / "billing.parquet").to_pandas()
    assert str(billing["total_charge"].dtype) == "int64"
    assert (
        pq.ParquetFile(one_worker / "billing.parquet").metadata.row_group(0).column(0).compression
        == "ZSTD"
    )
    from_csv = pd.read_csv(one_worker / "billing.csv")
    assert len(billing) == len(from_csv)
    assert billing["total_charge"].tolist() == from_csv["total_charge"].tolist()


def test_stepping_needs_the_regions_in_this_process():
    from concurrent.futures import ThreadPoolExecutor

    from reporting.app import Simulation
    from sim.scenario import Scenario

    with ThreadPoolExecutor(2) as pool:
        simulation = Simulation(
            Scenario(patients=50, today=pd.Timestamp("2025-06-30").date()), executor=pool
        )
        with pytest.raises(ValueError, match="no stepping"):
            simulation.run(until=10)


@pytest.mark.slow
def test_a_dask_address_that_cannot_be_reached_is_one_line(tmp_path, capsys):
    pytest.importorskip("dask.distributed")
    assert main([*ARGS, "--outdir", str(tmp_path / "x"), "--dask", "tcp://127.0.0.1:1"]) == 2
    assert "--dask" in capsys.readouterr().err
