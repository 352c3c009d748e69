"""Table names and their exact column order."""

PATIENT_COLUMNS = (
    "patient_id",
    "prefix",
    "first_name",
    "last_name",
    "name",
    "date_of_birth",
    "age",
    "gender",
    "phone_number",
    "email",
    "address",
    "city",
    "state",
    "zipcode",
    "insurance_provider",
    "insurance_policy_number",
    "blood_type",
)
VISIT_COLUMNS = (
    "visit_id",
    "patient_id",
    "name",
    "age",
    "gender",
    "condition",
    "severity",
    "treatment",
    "medication",
    "dosage",
    "frequency",
    "test_results",
    "doctor_id",
    "doctor",
    "hospital_id",
    "hospital",
    "hospital_state",
    "hospital_zipcode",
    "room_number",
    "date_of_admission",
    "date_of_discharge",
    "follow_up_required",
)
BILLING_COLUMNS = (
    "billing_id",
    "visit_id",
    "patient_id",
    "billing_date",
    "insurance_coverage_amount",
    "patient_responsibility_amount",
    "payment_plan",
    "expected_payment_date",
    "actual_payment_date",
    "payment_status",
    "total_charge",
)
DOCTOR_COLUMNS = (
    "doctor_id", "name", "specialty", "hospital_id", "hospital_ids", "state", "start_date",
    "end_date", "replaces_doctor_id",
)  # fmt: skip
HOSPITAL_COLUMNS = (
    "hospital_id", "name", "city", "state", "zipcode", "rooms", "same_day_bias",
    "late_payment_multiplier", "charge_multiplier",
)  # fmt: skip
CONTINUITY_COLUMNS = (
    "patient_id", "level", "n_visits", "n_providers", "upc", "coc", "hhi", "secon", "mmci", "kpc",
)  # fmt: skip
CENSUS_COLUMNS = (
    "date", "hospital_id", "hospital", "rooms", "occupied_rooms", "admissions", "discharges",
    "diversions",
)  # fmt: skip
EVENT_COLUMNS = (
    "event_id", "day", "date", "event_type", "patient_id", "visit_id", "billing_id",
    "doctor_id", "doctor", "hospital_id", "hospital", "detail",
)  # fmt: skip
TABLE_COLUMNS = {
    "patients": PATIENT_COLUMNS,
    "visits": VISIT_COLUMNS,
    "billing": BILLING_COLUMNS,
    "doctors": DOCTOR_COLUMNS,
    "hospitals": HOSPITAL_COLUMNS,
    "continuity": CONTINUITY_COLUMNS,
    "census": CENSUS_COLUMNS,
    "events": EVENT_COLUMNS,
}
DATE_COLUMNS = {
    "census": ("date",),
    "events": ("date",),
    "patients": ("date_of_birth",),
    "visits": ("date_of_admission", "date_of_discharge"),
    "billing": ("billing_date", "expected_payment_date", "actual_payment_date"),
    "doctors": ("start_date", "end_date"),
}
PAYMENT_STATUSES = ("Paid", "Late-Paid", "In-progress", "Late-Unpaid")
