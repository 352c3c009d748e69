"""Treatments the agents know by name (the catalog in ``sim/data/conditions.toml`` uses the
same names): a doctor's prescribing habit shifts the weight of medication, and a patient who
cannot have a once-only treatment again is monitored instead."""

MEDICATION = "Medication"
MONITORING = "Monitoring"
