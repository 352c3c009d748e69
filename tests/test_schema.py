"""The table declarations (reporting.schema) agree with every file rendered from them: CSV
headers, Parquet schemas and metadata, the typed readers, SQL comments, datapackage.json."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reporting.app.cli import main
from reporting.readers import read_table, read_tables
from reporting.schema import TABLES
from reporting.sql import schema_sql
from reporting.writers import TableFiles, to_typed_arrow

# Massachusetts ZIPs start with 0: the readers must keep the leading zeros.
ARGS = ["--patients", "150", "--seed", "3", "--today", "2025-06-30", "--quiet"]
ARGS += ["--hospital-state", "MA", "--census", "--event-log", "--format", "both"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("schema") / "out"
    assert main([*ARGS, "--outdir", str(folder)]) == 0
    return folder


def csv_header(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()[0].replace('"', "").split(",")


@pytest.mark.parametrize("table", list(TABLES))
def test_csv_header_is_the_declared_column_order(dataset, table):
    assert csv_header(dataset / f"{table}.csv") == list(TABLES[table].column_names)


@pytest.mark.parametrize("table", list(TABLES))
def test_parquet_schema_is_the_declared_arrow_schema(dataset, table):
    schema = pq.read_schema(dataset / f"{table}.parquet")
    assert schema.remove_metadata().equals(TABLES[table].arrow_schema())
    assert schema.metadata[b"table"] == table.encode()


def test_declared_arrow_types(dataset):
    patients = TABLES["patients"].arrow_schema()
    assert patients.field("date_of_birth").type == pa.date32()
    assert pa.types.is_large_string(patients.field("zipcode").type)
    assert patients.field("blood_type").type == pa.dictionary(pa.int32(), pa.string())
    assert not patients.field("patient_id").nullable
    assert patients.field("insurance_policy_number").nullable
    assert TABLES["events"].arrow_schema().field("patient_id").nullable


def test_parquet_files_carry_the_runs_metadata_and_plain_pandas_keeps_zips_as_text(
    dataset, tmp_path
):
    patients = read_table(dataset / "patients.csv", "patients")
    path = tmp_path / "patients.parquet"
    files = TableFiles("patients", parquet_path=path, metadata={"seed": "3", "version": "0.1.0"})
    files.write(patients.iloc[:50])
    files.write(patients.iloc[50:])
    files.close()
    metadata = pq.read_schema(path).metadata
    assert metadata[b"seed"] == b"3" and metadata[b"version"] == b"0.1.0"
    assert metadata[b"table"] == b"patients"
    plain = pd.read_parquet(path)
    assert plain["zipcode"].tolist() == patients["zipcode"].tolist()
    assert plain["zipcode"].str.startswith("0").any()


def test_a_null_where_the_declaration_forbids_one_is_refused(dataset):
    patients = read_table(dataset / "patients.csv", "patients")
    patients.loc[3, "zipcode"] = pd.NA
    with pytest.raises(ValueError, match="zipcode"):
        to_typed_arrow(patients, "patients")
    with pytest.raises(KeyError):
        to_typed_arrow(patients.drop(columns="city"), "patients")


def assert_declared_dtypes(frame: pd.DataFrame, table: str) -> None:
    assert list(frame.columns) == list(TABLES[table].column_names)
    for column in TABLES[table].columns:
        dtype = frame[column.name].dtype
        if column.kind.is_category:
            assert isinstance(dtype, pd.CategoricalDtype), column.name
            if column.values is not None:
                assert list(dtype.categories) == list(column.values), column.name
        else:
            assert dtype == column.dtype, (column.name, dtype)


def test_csv_and_parquet_read_back_to_the_same_typed_tables(dataset):
    from_csv = read_tables(dataset)
    from_parquet = read_tables(dataset, format="parquet")
    for name, frame in from_csv.items():
        assert_declared_dtypes(frame, name)
        pd.testing.assert_frame_equal(frame, getattr(from_parquet, name))
    patients = from_csv.patients
    assert patients["zipcode"].str.fullmatch(r"\d{5}").all()
    assert patients["zipcode"].str.startswith("0").mean() > 0.5  # MA: leading zeros kept
    assert patients["date_of_birth"].dtype == "datetime64[s]"
    assert patients["phone_number"].dtype == "string"
    assert patients["insurance_policy_number"].isna().any()
    assert from_csv.visits["follow_up_required"].isin(["Y", "N"]).all()


@pytest.mark.parametrize("table", ["continuity", "census", "events"])
def test_the_other_tables_read_back_typed_from_either_format(dataset, table):
    from_csv = read_table(dataset / f"{table}.csv", table)
    assert_declared_dtypes(from_csv, table)
    pd.testing.assert_frame_equal(from_csv, read_table(dataset / f"{table}.parquet", table))


def test_events_have_nullable_integer_ids(dataset):
    events = read_table(dataset / "events.parquet", "events")
    assert events["patient_id"].dtype == "Int64" and events["patient_id"].isna().any()
    assert events["billing_id"].notna().any()


def test_a_folder_with_parquet_only_is_read_from_parquet(dataset, tmp_path):
    for name in ("patients", "visits", "billing"):
        (tmp_path / f"{name}.parquet").write_bytes((dataset / f"{name}.parquet").read_bytes())
    pd.testing.assert_frame_equal(read_tables(tmp_path).visits, read_tables(dataset).visits)


def test_an_undeclared_category_value_is_an_error(dataset, tmp_path):
    text = (dataset / "visits.csv").read_text(encoding="utf-8")
    broken = tmp_path / "visits.csv"
    broken.write_text(text.replace(',"Mild",', ',"Very mild",', 1), encoding="utf-8")
    with pytest.raises(ValueError, match="severity has undeclared values"):
        read_table(broken, "visits")


def test_the_ddl_carries_the_docs_as_comments():
    duckdb = pytest.importorskip("duckdb")
    sql = schema_sql(list(TABLES), dialect="duckdb")
    assert "the patient''s name" in sql  # quotes escaped
    with duckdb.connect() as connection:
        connection.execute(sql)
        comments = dict(
            connection.execute(
                "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = 'visits'"
            ).fetchall()
        )
        table = connection.execute(
            "SELECT comment FROM duckdb_tables() WHERE table_name = 'census'"
        ).fetchone()[0]
    visits = TABLES["visits"]
    assert comments == {c.name: c.doc for c in visits.columns}
    assert table == TABLES["census"].description


@pytest.mark.slow
def test_postgres_takes_the_ddl_and_its_comments(postgres_dsn):
    import psycopg

    with psycopg.connect(postgres_dsn) as connection:
        connection.execute("CREATE SCHEMA comments")
        connection.execute(schema_sql(list(TABLES), schema='"comments"'))
        position = TABLES["patients"].column_names.index("zipcode") + 1
        comment = connection.execute(
            "SELECT col_description('comments.patients'::regclass, %s)", (position,)
        ).fetchone()[0]
        connection.rollback()
    assert comment == TABLES["patients"].column("zipcode").doc


NEW_PATIENT = "INSERT INTO patients SELECT * REPLACE (patient_id + 100000 AS patient_id, {})"
NEW_PATIENT += " FROM patients WHERE insurance_provider IS NOT NULL LIMIT 1"
UNINSURED = "NULL AS insurance_provider, NULL AS insurance_policy_number"
VIOLATIONS = [  # (statement, what the error names)
    (NEW_PATIENT.format(f"'1234' AS zipcode, {UNINSURED}"), "regexp_full_match(zipcode"),
    (NEW_PATIENT.format(f"'C+' AS blood_type, {UNINSURED}"), "blood_type IN"),
    (NEW_PATIENT.format("NULL AS insurance_provider, 'X1' AS insurance_policy_number"), "IS NULL"),
    (NEW_PATIENT.format("insurance_provider AS insurance_provider"), "insurance_policy_number"),
    ("UPDATE visits SET date_of_discharge = date_of_admission - 1", "date_of_admission"),
    ("UPDATE visits SET dosage = NULL WHERE medication IS NOT NULL", "dosage IS NULL"),
    ("UPDATE visits SET treatment = 'Cure' WHERE visit_id = 1", "treatment IN"),
    ("UPDATE visits SET follow_up_required = 'y' WHERE visit_id = 1", "follow_up_required IN"),
    ("UPDATE billing SET payment_status = 'Paid' WHERE actual_payment_date IS NULL", "payment_"),
    ("UPDATE billing SET total_charge = total_charge + 1", "total_charge ="),
    ("UPDATE continuity SET n_providers = n_visits + 1", "n_providers BETWEEN"),
    ("UPDATE census SET occupied_rooms = rooms + 1", "occupied_rooms BETWEEN"),
    ("UPDATE events SET event_type = 'Nothing' WHERE event_id = 1", "event_type IN"),
    ("UPDATE events SET reason = 'no_room' WHERE event_type = 'Admitted'", "reason IS NOT NULL"),
    ("UPDATE events SET due_date = date WHERE event_type = 'BillIssued'", "due_date > date"),
    (
        "INSERT INTO events SELECT * REPLACE (event_id + 100000 AS event_id, 999999 AS patient_id)"
        " FROM events LIMIT 1",
        "foreign key",
    ),
]


@pytest.fixture(scope="module")
def duckdb_dataset(dataset):
    duckdb = pytest.importorskip("duckdb")
    with duckdb.connect() as connection:
        connection.execute(schema_sql(list(TABLES), dialect="duckdb"))
        for name in TABLES:
            data = to_typed_arrow(read_table(dataset / f"{name}.parquet", name), name)  # noqa: F841
            connection.execute(f"INSERT INTO {name} SELECT * FROM data")
        yield connection, duckdb.Error


@pytest.mark.parametrize(("statement", "named"), VIOLATIONS)
def test_the_rendered_constraints_refuse_broken_rows(duckdb_dataset, statement, named):
    connection, error = duckdb_dataset
    with pytest.raises(error, match=re.escape(named)):
        connection.execute(statement)


def test_datapackage_describes_the_written_csv_files(dataset):
    """The run's own datapackage.json (written by the command line)."""
    tables = list(TABLES)
    package = json.loads((dataset / "datapackage.json").read_text(encoding="utf-8"))
    assert package["profile"] == "tabular-data-package"
    assert package["run"]["seed"] == "3" and package["run"]["today"] == "2025-06-30"
    resources = {r["name"]: r for r in package["resources"]}
    assert list(resources) == tables
    for name, resource in resources.items():
        fields = resource["schema"]["fields"]
        assert [f["name"] for f in fields] == csv_header(dataset / resource["path"]), name
        for key in resource["schema"].get("foreignKeys", []):
            target = resources[key["reference"]["resource"]]
            assert set(key["reference"]["fields"]) <= {
                f["name"] for f in target["schema"]["fields"]
            }
    visits = {f["name"]: f for f in resources["visits"]["schema"]["fields"]}
    assert visits["date_of_admission"]["type"] == "date"
    assert visits["date_of_admission"]["format"] == "%Y/%m/%d"
    events = {f["name"]: f for f in resources["events"]["schema"]["fields"]}
    assert events["date"]["format"] == "default"  # ISO whatever --date-format
    assert "Pneumonia" in visits["condition"]["constraints"]["enum"]
    assert visits["medication"]["constraints"] == {"required": False}
    assert visits["visit_id"]["constraints"] == {"required": True, "unique": True}
    patients = read_table(dataset / "patients.csv", "patients")
    zipcode = next(f for f in resources["patients"]["schema"]["fields"] if f["name"] == "zipcode")
    assert patients["zipcode"].str.fullmatch(zipcode["constraints"]["pattern"]).all()
    assert resources["continuity"]["schema"]["primaryKey"] == ["patient_id", "level", "setting"]


def test_datapackage_of_fewer_tables_with_iso_dates():
    from reporting.datapackage import datapackage

    tables = ["patients", "visits", "billing", "events"]
    package = datapackage(tables, {t: f"run_{t}.csv" for t in tables}, "iso", {})
    resources = {r["name"]: r for r in package["resources"]}
    assert [r["path"] for r in package["resources"]] == [f"run_{t}.csv" for t in tables]
    events = resources["events"]["schema"]
    assert {f["name"]: f.get("format") for f in events["fields"]}["date"] == "default"
    assert [k["reference"]["resource"] for k in events["foreignKeys"]] == [
        "patients",
        "visits",
        "billing",
    ]
    with pytest.raises(ValueError, match="wards"):
        datapackage(["wards"], {}, "iso", {})
