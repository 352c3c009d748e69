"""SQL schemas of the dataset: PostgreSQL DDL (``schema.sql``) and its DuckDB twin.

Keys, foreign keys, NOT NULL where a column is never empty, and CHECK constraints for the
rules SQL can express within a row (amounts add up, discharge on or after admission, status
in its four values, insured means a policy number, ...). Loading a dataset therefore proves
those rules hold.
"""

from __future__ import annotations

from reporting.schema import PAYMENT_STATUSES
from sim.events import EVENT_TYPES
from sim.refdata import SEVERITIES, load_catalog, load_demography


def _values(values) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


def table_definitions(dialect: str = "postgresql") -> dict[str, str]:
    """CREATE TABLE bodies (column and constraint lines) per table, in load order."""
    if dialect not in ("postgresql", "duckdb"):
        raise ValueError(f"unknown SQL dialect {dialect!r}")
    zip_check = (
        "zipcode ~ '^[0-9]{5}$'"
        if dialect == "postgresql"
        else "regexp_full_match(zipcode, '[0-9]{5}')"
    )
    hospital_zip_check = zip_check.replace("zipcode", "hospital_zipcode")
    json_type = "jsonb" if dialect == "postgresql" else "VARCHAR"
    # DuckDB cannot check a key into the table being loaded (a replacement's predecessor)
    predecessor = " REFERENCES doctors (doctor_id)" if dialect == "postgresql" else ""
    blood = _values(load_demography().blood_types.labels)
    catalog = load_catalog()
    return {
        "hospitals": f"""
    hospital_id integer PRIMARY KEY CHECK (hospital_id >= 1),
    name text NOT NULL UNIQUE,
    city text NOT NULL,
    state char(2) NOT NULL,
    zipcode char(5) NOT NULL UNIQUE CHECK ({zip_check}),
    rooms integer NOT NULL CHECK (rooms > 0),
    same_day_bias double precision NOT NULL,
    late_payment_multiplier double precision NOT NULL CHECK (late_payment_multiplier > 0),
    charge_multiplier double precision NOT NULL CHECK (charge_multiplier > 0)""",
        "doctors": f"""
    doctor_id integer PRIMARY KEY CHECK (doctor_id >= 1),
    name text NOT NULL UNIQUE CHECK (name LIKE 'Dr. %'),
    specialty text NOT NULL,
    hospital_id integer NOT NULL REFERENCES hospitals (hospital_id),
    hospital_ids text NOT NULL,
    state char(2) NOT NULL,
    start_date date NOT NULL,
    end_date date CHECK (end_date >= start_date),
    replaces_doctor_id integer{predecessor}""",
        "patients": f"""
    patient_id integer PRIMARY KEY CHECK (patient_id >= 1),
    prefix text CHECK (prefix IN ('Mr.', 'Mrs.', 'Ms.', 'Dr.')),
    first_name text NOT NULL,
    last_name text NOT NULL,
    name text NOT NULL,
    date_of_birth date NOT NULL,
    age integer NOT NULL CHECK (age BETWEEN 0 AND 120),
    gender text NOT NULL CHECK (gender IN ('Male', 'Female')),
    phone_number text NOT NULL,
    email text NOT NULL,
    address text NOT NULL,
    city text NOT NULL,
    state char(2) NOT NULL,
    zipcode char(5) NOT NULL CHECK ({zip_check}),
    insurance_provider text,
    insurance_policy_number text UNIQUE,
    blood_type text NOT NULL CHECK (blood_type IN ({blood})),
    CHECK ((insurance_provider IS NULL) = (insurance_policy_number IS NULL))""",
        "visits": f"""
    visit_id integer PRIMARY KEY CHECK (visit_id >= 1),
    patient_id integer NOT NULL REFERENCES patients (patient_id),
    name text NOT NULL,
    age integer NOT NULL CHECK (age >= 0),
    gender text NOT NULL CHECK (gender IN ('Male', 'Female')),
    condition text NOT NULL CHECK (condition IN ({_values(c.name for c in catalog.conditions)})),
    severity text NOT NULL CHECK (severity IN ({_values(SEVERITIES)})),
    treatment text NOT NULL,
    medication text,
    dosage text,
    frequency text,
    test_results text NOT NULL,
    doctor_id integer NOT NULL REFERENCES doctors (doctor_id),
    doctor text NOT NULL CHECK (doctor LIKE 'Dr. %'),
    hospital_id integer NOT NULL REFERENCES hospitals (hospital_id),
    hospital text NOT NULL,
    hospital_state char(2) NOT NULL,
    hospital_zipcode char(5) NOT NULL CHECK ({hospital_zip_check}),
    room_number integer NOT NULL CHECK (room_number > 0),
    date_of_admission date NOT NULL,
    date_of_discharge date NOT NULL,
    follow_up_required char(1) NOT NULL CHECK (follow_up_required IN ('Y', 'N')),
    CHECK (date_of_discharge >= date_of_admission),
    CHECK ((treatment = 'Medication') = (medication IS NOT NULL)),
    CHECK ((medication IS NULL) = (dosage IS NULL)),
    CHECK ((medication IS NULL) = (frequency IS NULL))""",
        "billing": f"""
    billing_id integer PRIMARY KEY CHECK (billing_id >= 1),
    visit_id integer NOT NULL UNIQUE REFERENCES visits (visit_id),
    patient_id integer NOT NULL REFERENCES patients (patient_id),
    billing_date date NOT NULL,
    insurance_coverage_amount integer NOT NULL CHECK (insurance_coverage_amount >= 0),
    patient_responsibility_amount integer NOT NULL CHECK (patient_responsibility_amount >= 0),
    payment_plan text NOT NULL CHECK (payment_plan IN ('Full', 'Incremental')),
    expected_payment_date date NOT NULL CHECK (expected_payment_date > billing_date),
    actual_payment_date date CHECK (actual_payment_date >= billing_date),
    payment_status text NOT NULL CHECK (payment_status IN ({_values(PAYMENT_STATUSES)})),
    total_charge integer NOT NULL,
    CHECK (total_charge = insurance_coverage_amount + patient_responsibility_amount),
    CHECK ((actual_payment_date IS NULL) = (payment_status IN ('In-progress', 'Late-Unpaid'))),
    CHECK ((payment_status = 'Paid') = (actual_payment_date <= expected_payment_date)
           OR actual_payment_date IS NULL)""",
        "continuity": """
    patient_id integer NOT NULL REFERENCES patients (patient_id),
    level text NOT NULL CHECK (level IN ('doctor', 'hospital', 'doctor_hospital')),
    n_visits integer NOT NULL CHECK (n_visits >= 1),
    n_providers integer NOT NULL CHECK (n_providers BETWEEN 1 AND n_visits),
    upc double precision CHECK (upc BETWEEN 0 AND 1),
    coc double precision CHECK (coc BETWEEN 0 AND 1),
    hhi double precision CHECK (hhi BETWEEN 0 AND 1),
    secon double precision CHECK (secon BETWEEN 0 AND 1),
    mmci double precision,
    kpc double precision CHECK (kpc BETWEEN 0 AND 1),
    PRIMARY KEY (patient_id, level)""",
        "census": """
    date date NOT NULL,
    hospital_id integer NOT NULL REFERENCES hospitals (hospital_id),
    hospital text NOT NULL,
    rooms integer NOT NULL CHECK (rooms > 0),
    occupied_rooms integer NOT NULL CHECK (occupied_rooms BETWEEN 0 AND rooms),
    admissions integer NOT NULL CHECK (admissions >= 0),
    discharges integer NOT NULL CHECK (discharges >= 0),
    diversions integer NOT NULL CHECK (diversions >= 0),
    PRIMARY KEY (date, hospital_id)""",
        "events": f"""
    event_id integer PRIMARY KEY,
    day integer NOT NULL CHECK (day >= 0),
    date date NOT NULL,
    event_type text NOT NULL CHECK (event_type IN ({_values(EVENT_TYPES)})),
    patient_id integer REFERENCES patients (patient_id),
    visit_id integer REFERENCES visits (visit_id),
    billing_id integer REFERENCES billing (billing_id),
    doctor_id integer REFERENCES doctors (doctor_id),
    doctor text,
    hospital_id integer REFERENCES hospitals (hospital_id),
    hospital text,
    detail {json_type} NOT NULL""",
    }


def schema_sql(tables: list[str], dialect: str = "postgresql", schema: str | None = None) -> str:
    """The DDL creating ``tables`` (a subset of the known ones, in any order)."""
    definitions = table_definitions(dialect)
    unknown = set(tables) - set(definitions)
    if unknown:
        raise ValueError(f"no SQL definition for {sorted(unknown)}")
    prefix = f"{schema}." if schema else ""
    parts = ["-- Synthetic hospital dataset (hospital-sim). All data are synthetic.", ""]
    for name in definitions:  # load order: referenced tables first
        if name in tables:
            body = definitions[name]
            if schema:
                for other in definitions:
                    body = body.replace(f"REFERENCES {other} (", f"REFERENCES {prefix}{other} (")
            parts.append(f"CREATE TABLE {prefix}{name} ({body}\n);\n")
    return "\n".join(parts)
