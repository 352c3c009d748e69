"""schema.sql, DuckDB files and PostgreSQL loads (against a real server), and the event log."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from reporting.app.cli import main
from reporting.eventlog import tables_from_events
from reporting.readers import read_table, read_tables

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--patients", "400", "--seed", "6", "--today", "2025-06-30", "--quiet"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("dataset") / "out"
    assert main([*ARGS, "--outdir", str(folder), "--event-log", "--census"]) == 0
    return folder


def test_schema_sql_is_written_and_lists_every_table(dataset):
    sql = (dataset / "schema.sql").read_text()
    for table in ("patients", "visits", "billing", "continuity", "census", "events"):
        assert f"CREATE TABLE {table} (" in sql
    assert "REFERENCES patients (patient_id)" in sql and "visit_id integer NOT NULL UNIQUE" in sql


def test_the_tables_rebuild_from_the_event_log_alone(dataset):
    events = read_table(dataset / "events.csv", "events")
    rebuilt = tables_from_events(events, pd.Timestamp("2025-06-30").date())
    original = read_tables(dataset)
    for name, frame in original.items():
        again = getattr(rebuilt, name)
        assert list(again.columns) == list(frame.columns), name
        for column in frame.columns:
            left = frame[column].astype(str).tolist()
            right = again[column].astype(str).tolist()
            assert left == right, (name, column)


def test_event_log_is_ordered_and_complete(dataset):
    events = read_table(dataset / "events.csv", "events")
    assert events["event_id"].tolist() == list(range(1, len(events) + 1))
    assert events["day"].is_monotonic_increasing
    visits = read_tables(dataset).visits
    admitted = events[events["event_type"] == "Admitted"].dropna(subset=["visit_id"])
    assert set(admitted["visit_id"].astype(int)) == set(visits["visit_id"])
    bills = events[events["event_type"] == "BillIssued"]
    assert (bills["billing_id"] == bills["visit_id"]).all()


@pytest.mark.slow
def test_duckdb_file_has_the_tables_and_enforces_constraints(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    path = tmp_path / "hospital.duckdb"
    many_tasks = ["--max-region-patients", "30", "--census", "--event-log"]
    out = tmp_path / "out"
    assert main([*ARGS, *many_tasks, "--outdir", str(out), "--duckdb", str(path)]) == 0
    with duckdb.connect(str(path)) as connection:
        counts = {
            t: connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("patients", "visits", "billing", "census", "events")
        }
        assert counts["patients"] == 400 and counts["visits"] == counts["billing"] > 0
        for table in ("census", "events"):  # filled slice by slice, as the files
            assert counts[table] == len(pd.read_csv(out / f"{table}.csv")) > 0
        ids = connection.execute("SELECT min(event_id), max(event_id) FROM events").fetchone()
        assert ids == (1, counts["events"])
        kind = connection.execute(
            "SELECT data_type FROM information_schema.columns"
            " WHERE table_name = 'visits' AND column_name = 'date_of_admission'"
        ).fetchone()[0]
        assert kind == "DATE"
        with pytest.raises(duckdb.Error):
            connection.execute(
                "UPDATE billing SET total_charge = total_charge + 1 WHERE billing_id = 1"
            )
        with pytest.raises(duckdb.Error):
            connection.execute("INSERT INTO visits SELECT * FROM visits LIMIT 1")
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["slash", "iso"])
def test_postgres_load_checks_constraints_and_answers_analyst_queries(postgres_dsn, tmp_path, fmt):
    import psycopg

    schema = f"run_{fmt}"
    command = [
        *ARGS,
        "--outdir",
        str(tmp_path / fmt),
        "--date-format",
        fmt,
        "--event-log",
        "--census",
        "--postgres",
        postgres_dsn,
        "--pg-schema",
        schema,
    ]
    assert main(command) == 0
    tables = read_tables(tmp_path / fmt)
    with psycopg.connect(postgres_dsn) as connection:

        def count(table: str) -> int:
            return connection.execute(f"SELECT count(*) FROM {schema}.{table}").fetchone()[0]

        assert count("patients") == len(tables.patients) and count("visits") == len(tables.visits)
        assert count("billing") == len(tables.billing) and count("events") > count("visits")
        revenue = connection.execute(
            f"SELECT payment_status, sum(total_charge) FROM {schema}.billing GROUP BY 1 ORDER BY 1"
        ).fetchall()
        expected = tables.billing.groupby("payment_status")["total_charge"].sum()
        assert {s: int(v) for s, v in revenue} == {s: int(v) for s, v in expected.items()}
        readmissions = connection.execute(
            f"""SELECT count(*) FROM {schema}.visits a JOIN {schema}.visits b
                ON a.patient_id = b.patient_id AND b.date_of_admission > a.date_of_discharge
               AND b.date_of_admission <= a.date_of_discharge + 30 AND b.visit_id <> a.visit_id"""
        ).fetchone()[0]
        assert readmissions > 0
        with pytest.raises(psycopg.errors.CheckViolation):
            connection.execute(
                f"UPDATE {schema}.billing SET total_charge = total_charge + 1 WHERE billing_id = 1"
            )
        connection.rollback()
        connection.rollback()
        with pytest.raises(psycopg.errors.UniqueViolation):
            connection.execute(f"INSERT INTO {schema}.visits SELECT * FROM {schema}.visits LIMIT 1")


@pytest.mark.slow
def test_postgres_refuses_to_overwrite_and_a_failed_load_leaves_nothing(postgres_dsn, tmp_path):
    import psycopg

    first = [
        *ARGS,
        "--outdir",
        str(tmp_path / "a"),
        "--postgres",
        postgres_dsn,
        "--pg-schema",
        "once",
    ]
    assert main(first) == 0
    run = [
        sys.executable,
        str(ROOT / "run_sim.py"),
        *ARGS,
        "--outdir",
        str(tmp_path / "b"),
        "--postgres",
        postgres_dsn,
        "--pg-schema",
        "once",
    ]
    refused = subprocess.run(run, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and "--pg-replace" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and not (tmp_path / "b").exists()
    assert (
        main(
            [
                *first[:-4],
                "--outdir",
                str(tmp_path / "c"),
                "--postgres",
                postgres_dsn,
                "--pg-schema",
                "once",
                "--pg-replace",
                "--seed",
                "7",
            ]
        )
        == 0
    )

    # a dataset that breaks a constraint: the whole load is rolled back
    broken = tmp_path / "broken"
    assert main([*ARGS, "--outdir", str(broken)]) == 0
    billing = (broken / "billing.csv").read_text().splitlines()
    fields = billing[1].split(",")
    fields[-1] = str(int(fields[-1]) + 5)  # total no longer equals the two amounts
    (broken / "billing.csv").write_text(
        "\n".join([billing[0], ",".join(fields), *billing[2:]]) + "\n"
    )
    from reporting.databases import DatabaseError, load_postgres

    files = {name: broken / f"{name}.csv" for name in ("patients", "visits", "billing")}
    with pytest.raises(DatabaseError, match="nothing was kept"):
        load_postgres(postgres_dsn, "broken", files, replace=False)
    with psycopg.connect(postgres_dsn) as connection:
        left = connection.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'broken'"
        ).fetchone()[0]
    assert left == 0


def _sql(dsn: str, statement: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as connection:
        cursor = connection.execute(statement)
        return cursor.fetchall() if cursor.description else []


def _load(dsn: str, folder: Path, schema: str, *extra: str) -> int:
    return main([*ARGS, "--outdir", str(folder), "--postgres", dsn, "--pg-schema", schema, *extra])


def _fingerprint(dsn: str, table: str) -> tuple:
    return _sql(
        dsn, f"SELECT count(*), md5(string_agg(t::text, ',' ORDER BY t::text)) FROM {table} t"
    )[0]


@pytest.mark.slow
def test_pg_replace_refuses_when_user_objects_depend_on_the_tables(
    postgres_dsn, tmp_path, capsys, monkeypatch
):
    assert _load(postgres_dsn, tmp_path / "a", "viewed") == 0
    _sql(postgres_dsn, "CREATE VIEW viewed.young AS SELECT patient_id FROM viewed.patients")
    _sql(postgres_dsn, "CREATE MATERIALIZED VIEW viewed.busy AS SELECT count(*) FROM viewed.visits")
    _sql(postgres_dsn, "CREATE FUNCTION viewed.one(viewed.billing) RETURNS int RETURN 1")
    _sql(postgres_dsn, "CREATE TABLE viewed.notes (visit_id int REFERENCES viewed.visits)")
    _sql(postgres_dsn, "INSERT INTO viewed.notes VALUES (1)")
    patients = _fingerprint(postgres_dsn, "viewed.patients")
    capsys.readouterr()
    assert _load(postgres_dsn, tmp_path / "b", "viewed", "--pg-replace", "--seed", "7") == 2
    error = capsys.readouterr().err
    assert len(error.strip().splitlines()) == 1 and not (tmp_path / "b").exists()
    assert error.count("refusing --pg-replace: ") == 1 and error.count(" depends on ") == 4
    assert "view viewed.young depends on patients" in error
    assert "table viewed.notes depends on visits" in error
    assert "materialized view viewed.busy depends on visits" in error
    assert "function viewed.one(viewed.billing) depends on billing" in error
    assert _fingerprint(postgres_dsn, "viewed.patients") == patients
    assert _sql(postgres_dsn, "SELECT count(*) FROM viewed.young")[0][0] == 400
    assert _sql(postgres_dsn, "SELECT count(*) FROM viewed.notes")[0][0] == 1
    from reporting.databases import DatabaseError, load_postgres

    names = ("hospitals", "doctors", "patients", "visits", "billing")
    files = {name: tmp_path / "a" / f"{name}.csv" for name in names}
    with pytest.raises(DatabaseError, match=r"view viewed\.young depends on patients"):
        load_postgres(postgres_dsn, "viewed", files, replace=True)  # checked again at load time
    import reporting.databases

    monkeypatch.setattr(reporting.databases, "_check_target", lambda *args: None)
    with pytest.raises(DatabaseError, match="nothing was kept"):  # no CASCADE behind the check
        load_postgres(postgres_dsn, "viewed", files, replace=True)
    assert _sql(postgres_dsn, "SELECT count(*) FROM viewed.young")[0][0] == 400
    assert _fingerprint(postgres_dsn, "viewed.patients") == patients


@pytest.mark.slow
def test_pg_replace_keeps_a_table_this_run_does_not_write(postgres_dsn, tmp_path):
    """The user's own ``events`` table (no link to the dataset) survives a replace that does
    not write events; the dataset's tables are replaced by the new run's."""
    assert _load(postgres_dsn, tmp_path / "a", "kept") == 0
    _sql(postgres_dsn, "CREATE TABLE kept.events (note text)")
    _sql(postgres_dsn, "INSERT INTO kept.events VALUES ('mine')")
    before = _fingerprint(postgres_dsn, "kept.patients")
    assert _load(postgres_dsn, tmp_path / "b", "kept", "--pg-replace", "--seed", "7") == 0
    assert _sql(postgres_dsn, "SELECT note FROM kept.events") == [("mine",)]
    after = _fingerprint(postgres_dsn, "kept.patients")
    assert after != before and after[0] == len(read_tables(tmp_path / "b").patients)


@pytest.mark.slow
def test_pg_replace_keeps_an_earlier_runs_tables_that_point_to_this_runs(
    postgres_dsn, tmp_path, capsys
):
    """An earlier run's events refer to this run's tables: replacing those alone would leave
    them pointing nowhere, so the run is refused (census, written again, is not in the way);
    a run that writes events too replaces them."""
    extras = ("--event-log", "--census")
    assert _load(postgres_dsn, tmp_path / "a", "stale", *extras) == 0
    events = _fingerprint(postgres_dsn, "stale.events")
    capsys.readouterr()
    assert _load(postgres_dsn, tmp_path / "b", "stale", "--pg-replace", "--census") == 2
    error = capsys.readouterr().err
    assert "table stale.events depends on hospitals, doctors, patients, visits, billing" in error
    assert "census" not in error and not (tmp_path / "b").exists()
    assert _fingerprint(postgres_dsn, "stale.events") == events
    assert _load(postgres_dsn, tmp_path / "c", "stale", "--pg-replace", "--seed", "7", *extras) == 0
    assert _fingerprint(postgres_dsn, "stale.events") != events


@pytest.mark.slow
def test_pg_replace_refuses_a_view_in_a_tables_place(postgres_dsn, tmp_path, capsys):
    _sql(postgres_dsn, "CREATE SCHEMA shadow; CREATE VIEW shadow.census AS SELECT 1 AS one")
    assert _load(postgres_dsn, tmp_path / "a", "shadow", "--census", "--pg-replace") == 2
    assert "refusing --pg-replace: shadow.census is a view, not a table" in capsys.readouterr().err
    assert _sql(postgres_dsn, "SELECT one FROM shadow.census") == [(1,)]
    assert not (tmp_path / "a").exists()


@pytest.mark.slow
def test_duckdb_replaces_only_a_file_of_the_runs_own_tables(tmp_path, capsys):
    duckdb = pytest.importorskip("duckdb")
    from reporting.sql import schema_sql

    path = tmp_path / "hospital.duckdb"
    with duckdb.connect(str(path)) as connection:  # an earlier run's tables, events among them
        tables = ["hospitals", "doctors", "patients", "visits", "billing", "continuity"]
        connection.execute(schema_sql([*tables, "events"], dialect="duckdb"))
        connection.execute("CREATE VIEW mine AS SELECT patient_id FROM patients")
    out = tmp_path / "out"
    assert main([*ARGS, "--outdir", str(out), "--duckdb", str(path)]) == 2
    error = capsys.readouterr().err
    assert (
        f"refusing to replace --duckdb {path}: it holds table main.events, view main.mine" in error
    )
    assert len(error.strip().splitlines()) == 1 and not out.exists()
    with duckdb.connect(str(path), read_only=True) as connection:
        assert connection.execute("SELECT count(*) FROM mine").fetchone() == (0,)
    other = tmp_path / "notes.txt"
    other.write_text("not a database\n")
    assert main([*ARGS, "--outdir", str(out), "--duckdb", str(other)]) == 2
    assert f"refusing to replace --duckdb {other}:" in capsys.readouterr().err
    assert other.read_text() == "not a database\n"
    with duckdb.connect(str(path)) as connection:
        connection.execute("DROP VIEW mine; DROP TABLE events")
    assert main([*ARGS, "--outdir", str(out), "--duckdb", str(path)]) == 0
    with duckdb.connect(str(path), read_only=True) as connection:
        assert connection.execute("SELECT count(*) FROM patients").fetchone() == (400,)


def test_bad_postgres_dsn_is_one_line_and_exit_2(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "run_sim.py"), *ARGS, "--outdir", str(tmp_path / "x"),
         "--postgres", "postgresql://nobody@127.0.0.1:1/none"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 2 and "cannot connect" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "x").exists()
