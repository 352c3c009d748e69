"""The dataset's tables, declared once: columns in file order, kinds, meanings, constraints.

Everything else is rendered from these declarations: the SQL DDL (``reporting.sql``), the
Parquet schema (``Table.arrow_schema``), the dtypes of the readers (``reporting.readers``),
``docs/data_dictionary.md`` (``reporting.dictionary``) and ``datapackage.json``
(``reporting.datapackage``). Adding a column is one edit here (and a re-rendered dictionary:
``python scripts/render_data_dictionary.py``).
"""

from __future__ import annotations

from reporting.columns import (
    CATEGORY,
    CODE,
    DATE,
    FLAG,
    FLOAT,
    ID,
    INT,
    JSON,
    MONEY,
    TEXT,
    ZIP,
    Column,
    Table,
)
from sim.coverage import BASES, DESIGNS, PAYER_TYPES
from sim.events import (
    ADMISSION_TYPES,
    DISCHARGE_DISPOSITIONS,
    ENCOUNTER_TYPES,
    EVENT_TYPES,
    PLANS,
    SWITCH_REASONS,
)
from sim.geography import AREA_NAMES
from sim.population import GENDERS
from sim.refdata import SEVERITIES, load_catalog, load_demography, load_names

PAYMENT_STATUSES = ("Paid", "Late-Paid", "In-progress", "Late-Unpaid")
PROBLEM_STATUSES = ("Active", "Resolved")
VISIT_TYPES = ("Initial", "Follow-up")
CONTINUITY_LEVELS = ("doctor", "hospital", "doctor_hospital")
CONTINUITY_SETTINGS = ("All", "Outpatient")


def _conditions() -> list[str]:
    return [c.name for c in load_catalog().conditions]


def _treatments() -> tuple[str, ...]:
    return load_catalog().treatments


def _test_results() -> tuple[str, ...]:
    return load_catalog().test_results


def _categories() -> list[str]:
    return list(load_catalog().categories)


def _blood_types() -> list[str]:
    return list(load_demography().blood_types.labels)


def _prefixes() -> list[str]:
    return sorted(set(load_names().prefixes["prefix"]))


def _index(name: str, doc: str) -> Column:
    """A continuity index: a share between 0 and 1, empty when undefined (one visit)."""
    return Column(name, FLOAT, doc, nullable=True, check=f"{name} BETWEEN 0 AND 1")


HOSPITALS = Table(
    "hospitals",
    grain="One row per hospital, in region-key order.",
    doc="",
    key=("hospital_id",),
    columns=(
        Column("hospital_id", ID, "1-based", check="hospital_id >= 1"),
        Column("name", TEXT, "as in `visits.hospital`, unique", unique=True),
        Column("city", TEXT, "the city of its ZIP"),
        Column("state", CODE(2), "its state"),
        Column("zipcode", ZIP, "its one ZIP (no two hospitals share one)", unique=True),
        Column(
            "rooms",
            INT,
            "its rooms (beds): from the size mix of its kind of area "
            "(`sim/data/capacity/bed_sizes.csv`), the largest in the most populous places, "
            "times `--room-scale`, or `--rooms-per-hospital`",
            check="rooms > 0",
        ),
        Column(
            "rurality",
            CATEGORY,
            "its ZIP's OMB area: `Metropolitan`, `Micropolitan` or `Noncore` (the last two "
            "are rural)",
            allowed=AREA_NAMES,
        ),
        Column(
            "teaching",
            FLAG,
            "`Y` for a major teaching hospital: 400 beds or more in one of the 100 largest "
            "metropolitan areas",
        ),
        Column(
            "people_served",
            INT,
            "the people it serves: its beds over 2.4 beds per 1,000 residents (AHA), or the "
            "dataset's residents who go there first when they are more",
            check="people_served > 0",
        ),
        Column(
            "sampling_fraction",
            FLOAT,
            "the dataset's share of its used room-days over the run; the rest is its unwritten "
            "load, the stays of the people it serves who are not in the dataset",
            check="sampling_fraction BETWEEN 0 AND 1",
        ),
        Column("same_day_bias", FLOAT, "added to the same-day discharge chance of its cases"),
        Column(
            "late_payment_multiplier",
            FLOAT,
            "multiplies its patients' chance of paying late",
            check="late_payment_multiplier > 0",
        ),
        Column(
            "charge_multiplier",
            FLOAT,
            "multiplies its charges",
            check="charge_multiplier > 0",
        ),
    ),
)

DOCTORS = Table(
    "doctors",
    grain="One row per doctor who worked in the run (replacements included), in region-key "
    "order, then hiring order.",
    doc="",
    key=("doctor_id",),
    columns=(
        Column("doctor_id", ID, "1-based", check="doctor_id >= 1"),
        Column(
            "name",
            TEXT,
            "as in `visits.doctor`, unique",
            unique=True,
            check="name LIKE 'Dr. %'",
        ),
        Column(
            "specialty",
            TEXT,
            "from `sim/data/staffing/physicians.csv`: a hospital's roster is the population it "
            "serves times the physicians per 100,000 residents of each specialty",
        ),
        Column("hospital_id", ID, "the primary hospital", refs="hospitals.hospital_id"),
        Column(
            "hospital_ids",
            TEXT,
            "every hospital the doctor works at (1-3 of one state), primary first, separated "
            "by `;` (a list in one cell keeps one row per doctor)",
        ),
        Column("state", CODE(2), "the hospitals' state"),
        Column(
            "start_date",
            DATE,
            "the day the doctor started; `--start` for doctors on staff when the history begins",
        ),
        Column(
            "end_date",
            DATE,
            "the day the doctor left for good, empty while on staff",
            nullable=True,
            check="end_date >= start_date",
        ),
        Column(
            "replaces_doctor_id",
            ID,
            "for a replacement (or a locum who started at once), the `doctor_id` of the "
            "departed doctor it took over from; empty otherwise",
            nullable=True,
        ),
    ),
)

PATIENTS = Table(
    "patients",
    grain="One row per patient registered by the last day run (everyone alive at `--start`, "
    "and babies born later from their birth day).",
    doc="",
    key=("patient_id",),
    columns=(
        Column(
            "patient_id",
            ID,
            "1-based, in order of first encounter: the admission day of the patient's first "
            "visit, ties by region key (state) and registration order; patients without a "
            "visit come last. Any first rows are a fair sample",
            check="patient_id >= 1",
        ),
        Column(
            "prefix",
            CATEGORY,
            "courtesy prefix for some adults, consistent with gender; empty for minors and "
            "most adults",
            nullable=True,
            allowed=_prefixes,
        ),
        Column("first_name", TEXT, "given name (never with the prefix)"),
        Column("last_name", TEXT, "family name (US Census frequency list)"),
        Column("name", TEXT, "first and last name, without the prefix"),
        Column("date_of_birth", DATE, "drawn so that the age is exact on `--today`"),
        Column(
            "date_of_death",
            DATE,
            "the day the patient died: in hospital (the discharge day of the stay whose "
            "disposition is `Expired`) or elsewhere (at the US life table's rate, a `Died` "
            "event; a patient in a stay that day dies the day after the discharge); empty "
            "for the living. Nothing happens after it",
            nullable=True,
        ),
        Column(
            "age",
            INT,
            "whole years on `--today` (on the last day run, when stepping), or on the day of "
            "death, birthday-exact",
            check="age BETWEEN 0 AND 120",
        ),
        Column(
            "gender",
            CATEGORY,
            "the patient's sex, `Male` or `Female`; slightly more women at older ages",
            allowed=tuple(GENDERS),
        ),
        Column(
            "phone_number",
            TEXT,
            "a real area code of the patient's state with a fictional 555-0100..0199 line",
        ),
        Column(
            "email",
            TEXT,
            "first.last plus digits at `example.com`, `example.net` or `example.org` "
            "(reserved domains)",
        ),
        Column("address", TEXT, "house number, street and suffix, sometimes `Apt.`/`Suite`"),
        Column("city", TEXT, "the ZIP's city (from the ZIP pool)"),
        Column("state", CODE(2), "the ZIP's state"),
        Column(
            "zipcode",
            ZIP,
            "5-digit ZIP, leading zeros kept; drawn by population (or by distance to the "
            "hospital in locality mode)",
        ),
        Column(
            "rurality",
            CATEGORY,
            "the OMB statistical area the ZIP lies in (from the embedded ZIP data): "
            "`Metropolitan` (an urban core of 50,000 or more), `Micropolitan` "
            "(10,000-50,000) or `Noncore` (neither); the last two are rural in the federal "
            "sense (USDA ERS, HRSA)",
            allowed=AREA_NAMES,
        ),
        Column(
            "payer_type",
            CATEGORY,
            "coverage on `--today` (for a patient who died: the last coverage): `Medicare` "
            "(65 and over, or end-stage renal disease), `Medicaid` (Medicaid or CHIP), "
            "`Private` or `Self-pay` (uninsured); by age, income of the ZIP, state and "
            "pregnancy, changing over time (see `billing.payer_type` for each bill's, "
            "`coverage` for every spell): the patient's last `coverage` row",
            allowed=PAYER_TYPES,
        ),
        Column(
            "insurance_provider",
            TEXT,
            "the health plan on `--today` (or at death; the last `coverage` row's): `Original "
            "Medicare`, a Medicare Advantage plan, the "
            "state's Medicaid or a Medicaid managed-care plan, or a private carrier (national "
            "carriers, the state's Blue Cross Blue Shield plan, fictional regional plans); "
            "empty when self-pay",
            nullable=True,
        ),
        Column(
            "insurance_policy_number",
            TEXT,
            "fictional text member number for patients with a plan on `--today` (or at death), "
            "empty when self-pay",
            nullable=True,
            unique=True,
        ),
        Column(
            "blood_type",
            CATEGORY,
            "drawn by US frequency (O+ 37.4%, A+ 35.7%, ...)",
            allowed=_blood_types,
        ),
        Column(
            "mother_patient_id",
            ID,
            "for a patient born in the window, the `patient_id` of the mother (a patient "
            "too; no declared foreign key, as loaders insert a table at once): her "
            "`Childbirth` delivery is on the `date_of_birth`, at the hospital of the "
            "newborn's `Newborn` birth stay; the newborn has her surname and address. Empty "
            "for everyone else",
            nullable=True,
        ),
    ),
    checks=(
        "(insurance_provider IS NULL) = (insurance_policy_number IS NULL)",
        "(payer_type = 'Self-pay') = (insurance_provider IS NULL)",
    ),
)

VISITS = Table(
    "visits",
    grain="One row per encounter (an ED visit, a stay in a bed, or a clinic visit) that ended "
    "(and was billed) by the last day run.",
    doc="",
    key=("visit_id",),
    columns=(
        Column(
            "visit_id",
            ID,
            "1-based, in order of admission day, ties by region key (state) and the region's "
            "admission order",
            check="visit_id >= 1",
        ),
        Column("patient_id", ID, "the patient", refs="patients.patient_id"),
        Column("name", TEXT, "the patient's name (as in patients)"),
        Column("age", INT, "age on the day of admission, birthday-exact", check="age >= 0"),
        Column("gender", CATEGORY, "the patient's gender", allowed=tuple(GENDERS)),
        Column(
            "encounter_type",
            CATEGORY,
            "`Emergency`: an ED visit, treated and released the same day; `Inpatient`: an "
            "admission to a bed, one day or more; `Observation`: one night in a bed, not an "
            "inpatient admission; `Outpatient`: a clinic visit, same day, no bed",
            allowed=ENCOUNTER_TYPES,
        ),
        Column(
            "visit_type",
            CATEGORY,
            "`Initial`: the first encounter of an episode of illness; `Follow-up`: a planned "
            "clinic visit of the same episode (of an episode begun before the history's first "
            "day, the first rows are follow-ups)",
            allowed=VISIT_TYPES,
        ),
        Column(
            "episode_id",
            ID,
            "the episode: the `visit_id` of its initial encounter (equal to `visit_id` on an "
            "initial encounter); for an episode begun before the history's first day (its "
            "initial encounter is not in the tables), the `visit_id` of its first follow-up",
        ),
        Column(
            "admission_type",
            CATEGORY,
            "UB-04 type of admission or visit: `Emergency` (through the ED), `Trauma` (injuries "
            "through the ED), `Urgent`, `Elective` (planned ahead, mostly on weekdays; every "
            "clinic follow-up); `Newborn` is reserved for birth encounters",
            allowed=ADMISSION_TYPES,
        ),
        Column(
            "condition",
            CATEGORY,
            "gated by age and sex, prevalence by age band",
            allowed=_conditions,
        ),
        Column(
            "severity",
            CATEGORY,
            "drawn for the initial encounter from the condition's category, the patient's age "
            "(65+) and other conditions under treatment; a follow-up is one tier below the "
            "encounter before it; the length of stay follows from it",
            allowed=tuple(SEVERITIES),
        ),
        Column(
            "treatment",
            CATEGORY,
            "the condition's primary (70%) or secondary (26%) treatment or `Monitoring` "
            "(4%, Normal/Mild only) on a first visit; 50/20/30 on follow-ups; shifted by the "
            "doctor's prescribing habit; a bypass at most once per patient and never on a "
            "follow-up",
            allowed=_treatments,
        ),
        Column(
            "medication",
            TEXT,
            "the drug when the treatment is `Medication`, else empty",
            nullable=True,
        ),
        Column(
            "dosage",
            TEXT,
            "the drug's dose (mg, mcg or units), empty without a drug",
            nullable=True,
        ),
        Column(
            "frequency", TEXT, "how often the drug is taken, empty without a drug", nullable=True
        ),
        Column(
            "test_results",
            CATEGORY,
            "more often abnormal when severe",
            allowed=_test_results,
        ),
        Column("doctor_id", ID, "the doctor", refs="doctors.doctor_id"),
        Column(
            "doctor",
            CATEGORY,
            "`Dr. First Last` (a middle initial when the name is taken in an earlier state), "
            "unique in the dataset; the episode's doctor for follow-ups, the "
            "usual doctor of the specialty for new episodes, unless absent, departed, not "
            "chosen, or the patient was diverted",
            check="doctor LIKE 'Dr. %'",
        ),
        Column("hospital_id", ID, "the hospital", refs="hospitals.hospital_id"),
        Column(
            "hospital",
            CATEGORY,
            "the hospital, unique name in the dataset (an alternative name when an earlier "
            "state has it), in the patient's state (nationwide mode)",
        ),
        Column("hospital_state", CODE(2), "the state of the hospital's ZIP"),
        Column("hospital_zipcode", ZIP, "the hospital's one ZIP"),
        Column(
            "room_number",
            INT,
            "the room an inpatient or observation stay really occupied (101-140 first floor, "
            "201- second, ...; a room holds one patient at a time); empty for ED and clinic "
            "visits",
            nullable=True,
            check="room_number > 0",
        ),
        Column("date_of_admission", DATE, "the day the encounter began"),
        Column(
            "date_of_discharge",
            DATE,
            "admission + length of stay (log-normal around the condition's median, longer when "
            "more severe, within its bounds); the same day for ED and clinic visits",
        ),
        Column(
            "discharge_disposition",
            CATEGORY,
            "UB-04 discharge status in words: where the patient went (inpatients by age: home, "
            "home health, a skilled nursing facility, another hospital, against advice); "
            "`Home` after other encounters",
            allowed=DISCHARGE_DISPOSITIONS,
        ),
        Column(
            "follow_up_required",
            FLAG,
            "`Y` exactly when a clinic follow-up of this episode was booked at discharge "
            "(whether or not it falls before the last day run) and not missed (the patient "
            "still in hospital a month after its day, or dead)",
        ),
        Column(
            "follow_up_date",
            DATE,
            "the day the follow-up was booked for (it takes place then, or when the patient "
            "leaves another stay); empty without one",
            nullable=True,
        ),
    ),
    checks=(
        "date_of_discharge >= date_of_admission",
        "(room_number IS NULL) = (encounter_type IN ('Emergency', 'Outpatient'))",
        "encounter_type IN ('Inpatient', 'Observation') OR date_of_discharge = date_of_admission",
        "(follow_up_required = 'Y') = (follow_up_date IS NOT NULL)",
        "follow_up_date IS NULL OR follow_up_date > date_of_discharge",
        "(treatment = 'Medication') = (medication IS NOT NULL)",
        "(medication IS NULL) = (dosage IS NULL)",
        "(medication IS NULL) = (frequency IS NULL)",
    ),
)

BILLING = Table(
    "billing",
    grain="Exactly one row per visit.",
    doc="",
    key=("billing_id",),
    columns=(
        Column("billing_id", ID, "equal to the visit's `visit_id`", check="billing_id >= 1"),
        Column("visit_id", ID, "the visit", refs="visits.visit_id", unique=True),
        Column("patient_id", ID, "the patient", refs="patients.patient_id"),
        Column("billing_date", DATE, "0-5 days after discharge, never after `--today`"),
        Column(
            "insurance_coverage_amount",
            MONEY,
            "whole dollars the payer pays: the amount its contract allows (Medicare and "
            "Medicaid below cost, private plans about 2.5 times Medicare) minus what the "
            "patient owes; 0 when self-pay",
            check="insurance_coverage_amount >= 0",
        ),
        Column(
            "patient_responsibility_amount",
            MONEY,
            "whole dollars the patient owes: the plan's deductible, coinsurance and copays on "
            "the allowed amount, up to the yearly out-of-pocket limit (tracked per patient and "
            "calendar year); for self-pay, the charge after the uninsured discount and charity "
            "care",
            check="patient_responsibility_amount >= 0",
        ),
        Column(
            "payment_plan",
            CATEGORY,
            "`Incremental` (instalments) more often the larger the patient's balance (half "
            "of patients at about $2,500), else `Full`; `Full` when nothing is owed",
            allowed=tuple(PLANS),
        ),
        Column(
            "expected_payment_date",
            DATE,
            "billing date + 30 days (Full) or + 365 days (Incremental); may lie after `--today`",
            check="expected_payment_date > billing_date",
        ),
        Column(
            "actual_payment_date",
            DATE,
            "the day the patient paid (0-5 days early, or 1-120 days late; late more often "
            "when poorer), the billing date when nothing is owed, empty while unpaid (never "
            "paid more often for large balances, poorer and self-pay patients)",
            nullable=True,
            check="actual_payment_date >= billing_date",
        ),
        Column(
            "payment_status",
            CATEGORY,
            "as of `--today`: `Paid` (paid by the due date), `Late-Paid`, `In-progress` "
            "(unpaid, not yet due), `Late-Unpaid` (unpaid, overdue)",
            allowed=PAYMENT_STATUSES,
        ),
        Column(
            "total_charge",
            MONEY,
            "whole dollars of gross charges (the charge master): a stay's daily unit charge x "
            "days plus its treatment (and the ED when admitted through it), an ED visit by "
            "acuity, a clinic visit plus its treatment; x the hospital's factor and a "
            "log-normal tail; a follow-up is a clinic visit priced once per episode with "
            "occasional small bumps, below the first encounter's charge; at least 87",
        ),
        Column(
            "payer_type",
            CATEGORY,
            "who paid on the day of service: `Medicare`, `Medicaid`, `Private` or `Self-pay`",
            allowed=PAYER_TYPES,
        ),
        Column(
            "insurance_plan",
            TEXT,
            "the health plan on the day of service (see `patients.insurance_provider`), empty "
            "when self-pay",
            nullable=True,
        ),
        Column(
            "adjustment_amount",
            MONEY,
            "whole dollars written off by contract (charge minus the payer's allowed amount) "
            "or, for self-pay, the uninsured discount",
            check="adjustment_amount >= 0",
        ),
        Column(
            "charity_care_amount",
            MONEY,
            "whole dollars of a self-pay balance forgiven as charity care (income under 400% "
            "of the poverty line, free under 200%), 0 otherwise",
            check="charity_care_amount >= 0",
        ),
    ),
    checks=(
        "total_charge = adjustment_amount + charity_care_amount + insurance_coverage_amount"
        " + patient_responsibility_amount",
        "(payer_type = 'Self-pay') = (insurance_plan IS NULL)",
        "payer_type = 'Self-pay' OR charity_care_amount = 0",
        "(actual_payment_date IS NULL) = (payment_status IN ('In-progress', 'Late-Unpaid'))",
        "(payment_status = 'Paid') = (actual_payment_date <= expected_payment_date)"
        " OR actual_payment_date IS NULL",
    ),
)

CONDITIONS = Table(
    "conditions",
    grain="One row per condition on a patient's problem list: each chronic condition the "
    "patient has (once, for life), and each episode of any other condition.",
    doc="The patient's problem list as the EHR knows it on the last day run: chronic conditions "
    "diagnosed before `--start` included, whether or not a visit for them falls in the window; "
    "nothing diagnosed after the patient's death.",
    key=("condition_id",),
    columns=(
        Column(
            "condition_id",
            ID,
            "1-based, in order of `patient_id`, then diagnosis date, then condition (catalog "
            "order), then episode",
            check="condition_id >= 1",
        ),
        Column("patient_id", ID, "the patient", refs="patients.patient_id"),
        Column("condition", CATEGORY, "as in `visits.condition`", allowed=_conditions),
        Column(
            "category",
            CATEGORY,
            "the condition's category in `sim/data/conditions.toml`",
            allowed=_categories,
        ),
        Column(
            "chronic",
            FLAG,
            "`Y` for a condition held for life once diagnosed (those drawn from a prevalence: "
            "`sim/data/epidemiology/conditions.csv`), listed once and never resolved; `N` for "
            "an episode of illness, one row per episode",
        ),
        Column(
            "diagnosis_date",
            DATE,
            "chronic: drawn from the patient's own prevalence curve by age and sex (the age at "
            "which the prevalence rises), on or after the condition's minimum age, never after "
            "the patient's first encounter for it; may lie before `--start`. Otherwise the "
            "admission date of the episode's initial encounter (of its first visit in the "
            "tables for an episode begun before `--start`)",
        ),
        Column(
            "resolution_date",
            DATE,
            "the day the episode ended: the discharge of its last visit when no clinic "
            "follow-up is still booked, or the date of death; empty for chronic conditions "
            "and for episodes still under way",
            nullable=True,
            check="resolution_date >= diagnosis_date",
        ),
        Column(
            "status",
            CATEGORY,
            "as of the last day run: `Resolved` when it has a resolution date, else `Active`",
            allowed=PROBLEM_STATUSES,
        ),
        Column(
            "episode_id",
            ID,
            "the episode (`visits.episode_id`) of a non-chronic row; empty for chronic ones",
            nullable=True,
        ),
        Column(
            "n_visits",
            INT,
            "visits in `visits` for it: the episode's, or every visit for the chronic "
            "condition; 0 for a chronic condition without a visit in the window",
            check="n_visits >= 0",
        ),
    ),
    checks=(
        "(chronic = 'Y') = (episode_id IS NULL)",
        "chronic = 'N' OR resolution_date IS NULL",
        "(status = 'Resolved') = (resolution_date IS NOT NULL)",
        "chronic = 'Y' OR n_visits >= 1",
    ),
)

COVERAGE = Table(
    "coverage",
    grain="One row per coverage spell of a patient that overlaps `--start`..`--today` and "
    "begins on or before the patient's death: the enrollment table of claims data.",
    doc="A patient's rows follow each other without gap or overlap, from the registration "
    "(`--start`, or the birth date) to the last day run or the death. A new spell begins "
    "when the payer, the plan or the plan type changes (at 19 and 65, around a pregnancy, "
    "with end-stage renal disease, when the state expands Medicaid, at job and income "
    "changes and renewals). Every bill's `payer_type` and `insurance_plan` are those of the "
    "row holding the visit's admission date; `patients` holds the last row's.",
    key=("coverage_id",),
    columns=(
        Column(
            "coverage_id",
            ID,
            "1-based, in order of `patient_id`, then start date",
            check="coverage_id >= 1",
        ),
        Column("patient_id", ID, "the patient", refs="patients.patient_id"),
        Column(
            "payer_type",
            CATEGORY,
            "`Medicare`, `Medicaid` (Medicaid or CHIP), `Private` or `Self-pay` (uninsured)",
            allowed=PAYER_TYPES,
        ),
        Column(
            "insurance_plan",
            TEXT,
            "the health plan (as `billing.insurance_plan`), empty when self-pay",
            nullable=True,
        ),
        Column(
            "plan_type",
            CATEGORY,
            "the cost-sharing design, which sets what the patient owes on a bill: a private "
            "plan's `HMO`, `PPO`, `POS` or `HDHP` (KFF employer survey shares), Original "
            "Medicare with or without supplemental coverage, Medicare Advantage, Medicaid with "
            "nominal copays (adults) or none (children, pregnancy), `Uninsured` for self-pay",
            allowed=DESIGNS,
        ),
        Column(
            "coverage_basis",
            CATEGORY,
            "what the coverage rests on (Medicare's reason for entitlement, Medicaid's "
            "eligibility group): `Age 65 and over`, `Disability` (SSDI Medicare or SSI "
            "Medicaid, adults under 65), `End-stage renal disease` (Medicare before 65 on "
            "dialysis), `Child`, `Pregnancy` or `Low income` (Medicaid/CHIP), `Employer or "
            "individual plan` (private), `None` (self-pay)",
            allowed=BASES,
        ),
        Column(
            "start_date",
            DATE,
            "the spell's first day; `--start` or the birth date for a spell that began earlier",
        ),
        Column(
            "end_date",
            DATE,
            "the day before the patient's next spell, or the date of death; empty when the "
            "spell is ongoing on the last day run",
            nullable=True,
            check="end_date >= start_date",
        ),
    ),
    checks=(
        "(payer_type = 'Self-pay') = (insurance_plan IS NULL)",
        "(payer_type = 'Self-pay') = (plan_type = 'Uninsured')",
        "(payer_type = 'Self-pay') = (coverage_basis = 'None')",
        "(payer_type = 'Private') = (coverage_basis = 'Employer or individual plan')",
        "payer_type <> 'Medicare' OR coverage_basis IN ('Age 65 and over', 'Disability', "
        "'End-stage renal disease')",
    ),
)

CONTINUITY = Table(
    "continuity",
    grain="One row per patient, provider level and setting, for patients with at least "
    "`--continuity-min-visits` visits (2) in that setting; rows ordered by patient, level, "
    "setting.",
    doc="Written unless `--no-continuity`. Indices follow docs in the README.",
    key=("patient_id", "level", "setting"),
    columns=(
        Column("patient_id", ID, "the patient", refs="patients.patient_id"),
        Column(
            "level",
            CATEGORY,
            "the provider: the doctor, the hospital, or the pair (`doctor_hospital`)",
            allowed=CONTINUITY_LEVELS,
        ),
        Column(
            "setting",
            CATEGORY,
            "the visits measured: `All` (every encounter) or `Outpatient` (clinic visits "
            "only, as ambulatory continuity studies measure it)",
            allowed=CONTINUITY_SETTINGS,
        ),
        Column("n_visits", INT, "N, the patient's visits in the setting", check="n_visits >= 1"),
        Column(
            "n_providers",
            INT,
            "M, distinct providers at that level",
            check="n_providers BETWEEN 1 AND n_visits",
        ),
        _index("upc", "usual provider of care: max n_i / N"),
        _index("coc", "continuity of care index: (sum n_i^2 - N) / (N (N - 1))"),
        _index("hhi", "Herfindahl: sum (n_i / N)^2"),
        _index(
            "secon",
            "sequential continuity: consecutive visits with the same provider / (N - 1)",
        ),
        Column(
            "mmci",
            FLOAT,
            "modified modified continuity index: (1 - M/(N + 0.1)) / (1 - 1/(N + 0.1))",
            nullable=True,
        ),
        _index("kpc", "known provider continuity: (N - M) / (N - 1)"),
    ),
)

CENSUS = Table(
    "census",
    grain="One row per day and hospital, from `--start` to the last day run.",
    doc="Written with `--census`.",
    key=("date", "hospital_id"),
    columns=(
        Column("date", DATE, "the day"),
        Column(
            "hospital_id",
            ID,
            "the hospital; rows ordered by date, then this",
            refs="hospitals.hospital_id",
        ),
        Column("hospital", TEXT, "the hospital's name"),
        Column("rooms", INT, "its rooms (beds)", check="rooms > 0"),
        Column(
            "occupied_rooms",
            INT,
            "rooms in use at the end of the day: the dataset's stays and the hospital's "
            "unwritten load (the stays of the people it serves who are not in the dataset)",
            check="occupied_rooms BETWEEN 0 AND rooms",
        ),
        Column(
            "sample_occupied_rooms",
            INT,
            "of those, the rooms of the dataset's stays (visits in `visits.csv`)",
            check="sample_occupied_rooms BETWEEN 0 AND occupied_rooms",
        ),
        Column(
            "admissions", INT, "the dataset's stays that began that day", check="admissions >= 0"
        ),
        Column(
            "discharges", INT, "the dataset's stays that ended that day", check="discharges >= 0"
        ),
        Column(
            "diversions",
            INT,
            "patients who found no free room there that day and went to another hospital",
            check="diversions >= 0",
        ),
    ),
)

EVENTS = Table(
    "events",
    grain="One row per event of the simulation, ordered by day, then by kind.",
    doc="Written with `--event-log`. The patients, visits, billing, conditions and coverage "
    "tables can be rebuilt from this file alone (`reporting.eventlog.tables_from_events`).",
    key=("event_id",),
    date_format="iso",  # process-mining tools expect ISO dates
    columns=(
        Column("event_id", ID, "1-based, in event order"),
        Column("day", INT, "simulation day (0 = `--start`)", check="day >= 0"),
        Column("date", DATE, "the day as a date"),
        Column("event_type", CATEGORY, "what happened", allowed=lambda: list(EVENT_TYPES)),
        Column(
            "patient_id",
            ID,
            "the patient, when the event concerns one",
            nullable=True,
            refs="patients.patient_id",
        ),
        Column(
            "visit_id",
            ID,
            "the visit, when the event concerns one that is in the visits table",
            nullable=True,
            refs="visits.visit_id",
        ),
        Column(
            "billing_id",
            ID,
            "the bill, for `BillIssued` and `PaymentMade`",
            nullable=True,
            refs="billing.billing_id",
        ),
        Column(
            "doctor_id",
            ID,
            "the doctor concerned (for a switch, the new one)",
            nullable=True,
            refs="doctors.doctor_id",
        ),
        Column("doctor", TEXT, "the doctor's name", nullable=True),
        Column(
            "hospital_id",
            ID,
            "the hospital concerned (for a switch or diversion, the new one)",
            nullable=True,
            refs="hospitals.hospital_id",
        ),
        Column(
            "hospital",
            TEXT,
            "the hospital's name",
            nullable=True,
        ),
        Column(
            "condition",
            CATEGORY,
            "the condition: of the episode for `EpisodeStarted`, of the stay for `Admitted` "
            "(as `visits.condition`), the chronic condition for `ConditionDiagnosed`; empty "
            "for other events",
            nullable=True,
            allowed=_conditions,
        ),
        Column(
            "amount",
            MONEY,
            "whole dollars: the bill's total charge for `BillIssued` (`billing.total_charge`), "
            "the amount the patient paid for `PaymentMade` (the bill's "
            "`patient_responsibility_amount`); empty for other events",
            nullable=True,
            check="amount >= 0",
        ),
        Column(
            "reason",
            CATEGORY,
            "why a `ProviderSwitched` visit is not with the patient's previous doctor and "
            "hospital, by precedence: no free room, the doctor on leave or gone, the "
            "patient's choice, another specialty needed; `back_to_usual_doctor` for a return "
            "to the usual doctor; `readmitted_elsewhere` for an unplanned readmission at "
            "another hospital; `on_shift` for the ED physician on shift or the inpatient "
            "doctor on service; empty for other events",
            nullable=True,
            allowed=SWITCH_REASONS,
        ),
        Column(
            "due_date",
            DATE,
            "the day the clinic follow-up is booked for, for `FollowUpScheduled` (logged at "
            "the booking visit's discharge; `visits.follow_up_date`), the expected payment "
            "date for `BillIssued` (`billing.expected_payment_date`), the first day back for "
            "`DoctorAbsent`; empty for other events",
            nullable=True,
            check="due_date > date",
        ),
        Column(
            "previous_doctor_id",
            ID,
            "the doctor before: of the patient's previous visit for `ProviderSwitched`, the "
            "departed doctor replaced for `DoctorJoined` (`doctors.replaces_doctor_id`); "
            "empty for other events",
            nullable=True,
            refs="doctors.doctor_id",
        ),
        Column(
            "previous_hospital_id",
            ID,
            "the hospital before: of the patient's previous visit for `ProviderSwitched`, "
            "the hospital first chosen, which had no free room, for `Diverted`; empty for "
            "other events",
            nullable=True,
            refs="hospitals.hospital_id",
        ),
        Column(
            "detail",
            JSON,
            "JSON with the facts only one event type has: for `PatientRegistered` the patient's "
            "registration (prefix, given and last name, `date_of_birth` as `YYYY-MM-DD`, "
            "gender, contact, address, `rurality`, policy number, blood type, "
            "`mother_patient_id` or null), "
            "for `CoverageStarted` the spell's `payer_type`, `insurance_plan` (null when "
            "self-pay), `plan_type` and `coverage_basis`, for "
            "`ConditionDiagnosed` the "
            "`diagnosis_date` (`YYYY-MM-DD`, before the event's date for a condition diagnosed "
            "before `--start`), for `Admitted` the "
            "encounter's facts (encounter and admission type, severity, "
            "treatment, medication, dosage, frequency, test results, room number or null, "
            "hospital state and ZIP, `followup`: its number in its episode, 0 for the first), "
            "for `Discharged` the discharge disposition, for `BillIssued` the split and plan "
            "(insurance coverage, patient responsibility, payment plan); empty for other events",
            nullable=True,
        ),
    ),
    checks=(
        "(condition IS NOT NULL) = "
        "(event_type IN ('ConditionDiagnosed', 'EpisodeStarted', 'Admitted'))",
        "(amount IS NOT NULL) = (event_type IN ('BillIssued', 'PaymentMade'))",
        "(reason IS NOT NULL) = (event_type = 'ProviderSwitched')",
        "(due_date IS NOT NULL) = "
        "(event_type IN ('FollowUpScheduled', 'BillIssued', 'DoctorAbsent'))",
        "previous_doctor_id IS NULL OR event_type IN ('ProviderSwitched', 'DoctorJoined')",
        "(previous_hospital_id IS NOT NULL) = (event_type IN ('ProviderSwitched', 'Diverted'))",
        "event_type <> 'ProviderSwitched' OR previous_doctor_id IS NOT NULL",
        "(detail IS NOT NULL) = (event_type IN "
        "('PatientRegistered', 'CoverageStarted', 'ConditionDiagnosed', 'Admitted', "
        "'Discharged', 'BillIssued'))",
    ),
)

TABLES = {
    t.name: t
    for t in (
        HOSPITALS, DOCTORS, PATIENTS, VISITS, BILLING, CONDITIONS, COVERAGE, CONTINUITY, CENSUS,
        EVENTS,
    )
}  # fmt: skip
"""Every table, in load order (a table comes after those its foreign keys point to)."""

TABLE_COLUMNS = {name: table.column_names for name, table in TABLES.items()}
PATIENT_COLUMNS = PATIENTS.column_names
VISIT_COLUMNS = VISITS.column_names
BILLING_COLUMNS = BILLING.column_names
CONDITION_COLUMNS = CONDITIONS.column_names
COVERAGE_COLUMNS = COVERAGE.column_names
CONTINUITY_COLUMNS = CONTINUITY.column_names
CENSUS_COLUMNS = CENSUS.column_names
EVENT_COLUMNS = EVENTS.column_names
DOCTOR_COLUMNS = DOCTORS.column_names
HOSPITAL_COLUMNS = HOSPITALS.column_names
