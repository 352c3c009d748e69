"""Building a region's world: its hospitals, doctors, patients and their illness plans.

A region is a state. It is built from its own random streams only, so regions can be built
and run in any order, or in parallel, with the same result.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import attrs
import numpy as np
import simpy

from entities import Doctor, Hospital, Patient, RoomPool
from sim.calendar import to_datetime64
from sim.capacity import bed_counts, beds_serving, hospital_sites, served_population, teaching
from sim.catchment import Population, draw_catchment
from sim.coverage import Coverage, PlanCatalog, coverage_rules, draw_coverage
from sim.epidemiology import DELIVERY_CONDITION
from sim.geography import ZipTable, miles_between
from sim.illness import Diagnoses, EpisodePlan
from sim.physicians import access_figures, load_physicians
from sim.placement import RegionSpec
from sim.population import PatientRegistry, build_patients
from sim.refdata import Catalog, NameLists, load_catalog, load_demography, load_names
from sim.rng import stream
from sim.scenario import Scenario

KIDNEY_FAILURE = "Kidney failure"  # on dialysis, a share has Medicare before 65
HOSPITAL_CHOICES = 5  # a patient ranks the nearest few hospitals of the state
CANDIDATE_HOSPITALS = 8


@attrs.define(eq=False)
class RegionWorld:
    """Everything a region's simulation acts on."""

    key: str  # the region's stable key: the state code
    number: int  # the region's position in the list of states (for policy numbers)
    env: simpy.Environment | None  # None once the region has finished
    zips: ZipTable
    registry: PatientRegistry
    patients: list[Patient]
    hospitals: list[Hospital]
    doctors: list[Doctor]
    plan: EpisodePlan | None
    diagnoses: Diagnoses  # the patients' chronic conditions and the days they are diagnosed
    population: Population  # the residents the patients were drawn from
    coverage: Coverage  # the patients' health coverage over time
    doctor_names_taken: set[str]  # names in use, so that new doctors get other ones


def build_region(scenario: Scenario, spec: RegionSpec, plans: PlanCatalog) -> RegionWorld:
    """Draw the region's patients, hospitals and doctors and the patients' illness plans."""
    catalog = load_catalog()
    demography = load_demography()
    names = load_names()
    env = simpy.Environment()
    key, zips, patient_count = spec.key, spec.zips, spec.patients
    residents, plan, diagnoses, population = draw_catchment(
        scenario, key, zips, spec.residence_weights, patient_count, catalog, demography
    )
    coverage = patient_coverage(scenario, key, zips, residents, plan, plans, catalog)
    today = coverage.on_day(scenario.horizon)
    registry = build_patients(
        seed=scenario.seed,
        region=key,
        region_number=spec.number,
        region_part=spec.part,
        residents=residents,
        zips=zips,
        payer=coverage.payer[today],
        insurer=coverage.plan[today],
        members=np.logical_or.reduceat(coverage.plan >= 0, coverage.offsets[:-1]),
        demography=demography,
        names=names,
    )
    providers = stream(scenario.seed, key, "providers")
    if spec.hospital_rows is None:
        count = round(patient_count / scenario.patients_per_hospital)
        hospital_rows = hospital_sites(providers, zips, count)
    else:
        hospital_rows = spec.hospital_rows
    preference = hospital_preferences(providers, zips, registry.zip_row, hospital_rows)
    sample_people = sample_residents(population, scenario, preference[:, 0], len(hospital_rows))
    hospitals = build_hospitals(env, providers, zips, hospital_rows, sample_people, scenario, names)
    if spec.hospital_name is not None:
        hospitals[0].name = spec.hospital_name
    taken: set[str] = set()
    doctors = build_doctors(providers, hospitals, scenario, names, taken)
    continuity = personal_preferences(providers, scenario.continuity_preference, patient_count)
    usual_source = stream(scenario.seed, key, "usual_source").random(patient_count)
    birth_days = (registry.birth - to_datetime64(scenario.clock_start)).astype(np.int64)
    within_reach = (preference >= 0).sum(axis=1)  # the hospitals out of reach come last
    patients = [
        Patient(
            index=i,
            birth_day=born,
            hospital_preference=tuple(ranked[:reach]),
            continuity_preference=taste,
            usual_source_draw=draw,
        )
        for i, (born, ranked, reach, taste, draw) in enumerate(
            zip(
                birth_days.tolist(),
                preference.tolist(),
                within_reach.tolist(),
                continuity.tolist(),
                usual_source.tolist(),
            )
        )
    ]
    return RegionWorld(
        key=key,
        number=spec.number,
        env=env,
        zips=zips,
        registry=registry,
        patients=patients,
        hospitals=hospitals,
        doctors=doctors,
        plan=plan,
        diagnoses=diagnoses,
        population=population,
        coverage=coverage,
        doctor_names_taken=taken,
    )


def patient_coverage(
    scenario: Scenario,
    key: str,
    zips: ZipTable,
    residents,
    plan: EpisodePlan,
    plans: PlanCatalog,
    catalog: Catalog,
) -> Coverage:
    """The patients' coverage spells, with their planned deliveries and kidney failures."""
    codes = {c.name: c.code for c in catalog.conditions}
    start = to_datetime64(scenario.clock_start)

    def planned(condition: str) -> tuple[np.ndarray, np.ndarray]:
        rows = plan.condition == codes[condition]
        return plan.patient[rows], plan.day[rows]

    return draw_coverage(
        scenario.seed,
        key,
        plans,
        coverage_rules(scenario.insured_rate, scenario.today),
        start=scenario.clock_start,
        horizon=scenario.horizon,
        birth_day=(np.asarray(residents.birth, dtype="datetime64[D]") - start).astype(np.int64),
        state=zips.state[residents.zip_row],
        income=residents.income,
        disabled=residents.disabled,
        deliveries=planned(DELIVERY_CONDITION),
        kidney_failure=planned(KIDNEY_FAILURE),
    )


PREFERENCE_CONCENTRATION = 50.0  # Beta(p k, (1 - p) k): sd about 0.04 around p = 0.9


def personal_preferences(rng: np.random.Generator, mean: float, count: int) -> np.ndarray:
    """Each patient's chance of going back to their usual source of care when they have one,
    varied around the scenario's value (a Beta distribution with that mean; exactly 0 or 1
    when the scenario says so)."""
    if mean <= 0.0 or mean >= 1.0:
        return np.full(count, float(mean))
    k = PREFERENCE_CONCENTRATION
    return rng.beta(mean * k, (1.0 - mean) * k, count)


def hospital_preferences(
    rng: np.random.Generator, zips: ZipTable, patient_rows: np.ndarray, hospital_rows: np.ndarray
) -> np.ndarray:
    """Each patient's hospitals within reach, nearest first (with some personal taste).

    Within reach are the hospitals within ``hospital_reach_miles`` (staffing/figures.csv) and
    always the nearest one, so that rural patients, far from hospitals, have fewer to choose
    from. Returns an array (patient, rank) of hospital indices, at most HOSPITAL_CHOICES wide,
    padded with -1 where a patient has fewer.
    """
    used, inverse = np.unique(patient_rows, return_inverse=True)
    miles = miles_between(
        zips.lat[used][:, None],
        zips.lon[used][:, None],
        zips.lat[hospital_rows][None, :],
        zips.lon[hospital_rows][None, :],
    )
    width = min(CANDIDATE_HOSPITALS, len(hospital_rows))
    nearest = np.argsort(miles, axis=1, kind="stable")[:, :width]
    candidates = nearest[inverse]
    distance = np.take_along_axis(miles, nearest, axis=1)[inverse]
    reach = distance <= access_figures()["hospital_reach_miles"]
    reach[:, 0] = True
    taste = (distance + 2.0) * np.exp(rng.normal(0.0, 0.35, candidates.shape))
    taste[~reach] = np.inf
    order = np.argsort(taste, axis=1, kind="stable")
    ranked = np.take_along_axis(np.where(reach, candidates, -1), order, axis=1)
    return ranked[:, : min(HOSPITAL_CHOICES, width)]


def sample_residents(
    population: Population, scenario: Scenario, home: np.ndarray, hospitals: int
) -> np.ndarray:
    """The dataset's residents (patients or not; the mean alive over the window) each hospital
    serves: the region's residents shared out as the patients' first-choice hospitals are."""
    window_days = scenario.horizon - scenario.first_day + 1
    residents = population.person_years.sum() / (window_days / 365.25)
    patients = np.bincount(home, minlength=hospitals).astype(float)
    return residents * patients / max(patients.sum(), 1.0)


def build_hospitals(
    env: simpy.Environment,
    rng: np.random.Generator,
    zips: ZipTable,
    rows: np.ndarray,
    sample_people: np.ndarray,
    scenario: Scenario,
    names: NameLists,
) -> list[Hospital]:
    """Hospitals with their profiles, names, sizes and rooms.

    Each has the beds of its size draw (``sim.capacity``) and serves the people those beds
    serve, of whom the dataset's residents who go there first are a part; a hospital whose
    sample alone is more than its size serves is enlarged to serve them. ``--room-scale``
    then multiplies the beds (not the people: fewer beds, fuller hospitals).
    ``--rooms-per-hospital`` fixes the beds instead of the size draw (the people served
    follow from them, at least the sample).
    """
    count = len(rows)
    same_day = np.clip(
        rng.normal(0, scenario.same_day_bias_sd, count),
        -scenario.same_day_bias_clip,
        scenario.same_day_bias_clip,
    )
    late = np.clip(
        rng.lognormal(0, scenario.late_payment_sigma, count), *scenario.late_payment_clip
    )
    charge = rng.uniform(*scenario.charge_multiplier_range, count)
    labels = hospital_names(
        rng, [zips.city[r] for r in rows], [zips.zipcode[r] for r in rows], names
    )
    fixed = scenario.rooms_per_hospital
    drawn = np.full(count, fixed) if fixed else bed_counts(rng, zips, rows)
    served = np.maximum(served_population(drawn), sample_people)
    sized = drawn if fixed else beds_serving(served)
    teaches = teaching(zips, rows, sized)
    hospitals = []
    for i, row in enumerate(rows.tolist()):
        rooms = fixed or max(1, round(int(sized[i]) * scenario.room_scale))
        hospitals.append(
            Hospital(
                index=i,
                name=labels[i][0],
                other_names=labels[i][1:],
                zipcode=zips.zipcode[row],
                city=zips.city[row],
                state=zips.state[row],
                lat=float(zips.lat[row]),
                lon=float(zips.lon[row]),
                same_day_bias=float(same_day[i]),
                late_payment_multiplier=float(late[i]),
                charge_multiplier=float(charge[i]),
                rooms=RoomPool(env, rooms),
                population=float(served[i]),
                sample_residents=float(sample_people[i]),
                area=int(zips.area[row]),
                teaching=bool(teaches[i]),
            )
        )
    return hospitals


def hospital_names(
    rng: np.random.Generator, cities: list[str], zipcodes: list[str], names: NameLists
) -> list[tuple[str, ...]]:
    """Each hospital's candidate names: first a name distinct within the region (from the
    name patterns), then the alternatives with the same city, saint and family, and last the
    one naming its ZIP code (no other hospital has it), for names an earlier region uses."""
    taken: set[str] = set()
    candidates = []
    for city, zipcode in zip(cities, zipcodes):
        for attempt in range(200):
            fill = {
                "city": city,
                "zipcode": zipcode,
                "saint": names.hospital_saints[rng.integers(len(names.hospital_saints))],
                "family": names.hospital_families[rng.integers(len(names.hospital_families))],
            }
            pattern = names.hospital_patterns[rng.integers(len(names.hospital_patterns))]
            label = pattern.format(**fill)
            if attempt > 100:
                label = f"{label} {attempt - 99}"
            if label not in taken:
                break
        taken.add(label)
        others = (*names.hospital_alternatives, names.hospital_last_resort)
        candidates.append((label, *(other.format(**fill) for other in others)))
    return candidates


def doctor_name_candidates(name: str, names: NameLists) -> Iterator[str]:
    """A doctor's name, then the same name with one middle initial, two, and so on: the
    dataset uses the first one no earlier region uses ("Dr. First Last" -> "Dr. First A. Last")."""
    yield name
    title, first, last = name.split(" ", 2)
    for count in itertools.count(1):
        for initials in itertools.product(names.middle_initials, repeat=count):
            yield " ".join([title, first, *(f"{i}." for i in initials), last])


def build_doctors(
    rng: np.random.Generator,
    hospitals: list[Hospital],
    scenario: Scenario,
    names: NameLists,
    taken: set[str],
) -> list[Doctor]:
    """Each hospital's roster (``doctor_specialties``), each doctor working there and at up to
    two of its nearest other hospitals."""
    home, specialty = doctor_specialties(hospitals)
    count = len(home)
    weights = np.asarray(scenario.affiliation_weights, dtype=float)
    extra = np.searchsorted(np.cumsum(weights / weights.sum()), rng.random(count), side="right")
    lat = np.array([h.lat for h in hospitals])
    lon = np.array([h.lon for h in hospitals])
    nearby = np.argsort(
        miles_between(lat[:, None], lon[:, None], lat[None, :], lon[None, :]), axis=1, kind="stable"
    )
    width = len(scenario.affiliation_weights)
    others = np.full((len(hospitals), width), -1)
    # each row without its own hospital, nearest first
    near = nearby[nearby != np.arange(len(hospitals))[:, None]].reshape(len(hospitals), -1)
    others[:, : near.shape[1]] = near[:, :width]
    # a random order of each doctor's candidate hospitals; missing ones (-1) go last
    keys = np.where(others[home] >= 0, rng.random((count, width)), 2.0)
    ranked = np.take_along_axis(others[home], np.argsort(keys, axis=1, kind="stable"), axis=1)
    # the first ``extra`` of them, in hospital order (-1: none)
    chosen = np.where((np.arange(width)[None, :] < extra[:, None]) & (ranked >= 0), ranked, -1)
    chosen = np.where(chosen >= 0, chosen, len(hospitals))
    chosen.sort(axis=1)
    chosen[chosen == len(hospitals)] = -1
    style = np.clip(
        rng.normal(0, scenario.doctor_style_sd, count),
        -scenario.doctor_style_clip,
        scenario.doctor_style_clip,
    )
    prescribing = np.clip(
        rng.normal(0, scenario.prescribing_bias_sd, count),
        -scenario.prescribing_bias_clip,
        scenario.prescribing_bias_clip,
    )
    labels = doctor_names(rng, count, names, taken)
    doctors = []
    for i, (h, picks, kind, s, p) in enumerate(
        zip(home.tolist(), chosen.tolist(), specialty, style.tolist(), prescribing.tolist())
    ):
        affiliations = (h, *(x for x in picks if x >= 0))
        doctors.append(Doctor(i, labels[i], affiliations, kind, s, p))
        for a in affiliations:
            hospitals[a].hire(i, kind)
    return doctors


def doctor_specialties(hospitals: list[Hospital]) -> tuple[np.ndarray, list[str]]:
    """The doctors of every hospital's roster: their home hospital and specialty, hospital by
    hospital. A roster is the hospital's population times the physicians per 100,000
    residents of each specialty (staffing/physicians.csv), rounded, with at least the
    specialty's minimum (an emergency physician, a hospitalist, a family physician), so small
    hospitals have few or no specialists."""
    physicians = load_physicians()
    population = np.array([h.population for h in hospitals], dtype=float)
    counts = np.floor(population[:, None] * physicians.per_100k[None, :] / 100_000.0 + 0.5)
    counts = np.maximum(counts.astype(np.int64), physicians.minimum[None, :])
    home = np.repeat(np.arange(len(hospitals)), counts.sum(axis=1))
    kinds = np.tile(np.arange(len(physicians.specialties)), len(hospitals))
    specialty = np.repeat(kinds, counts.ravel())
    return home, [physicians.specialties[k] for k in specialty.tolist()]


def doctor_names(
    rng: np.random.Generator, count: int, names: NameLists, taken: set[str]
) -> list[str]:
    """``count`` "Dr. First Last" names not in ``taken`` (which they are added to)."""
    labels = []
    while len(labels) < count:
        need = count - len(labels)
        female = rng.random(need) < 0.5
        first = np.where(
            female, names.first_female.draw(rng, need), names.first_male.draw(rng, need)
        )
        last = names.last.draw(rng, need)
        for f, s in zip(first.tolist(), last.tolist()):
            label = f"Dr. {f} {s}"
            if label not in taken:
                taken.add(label)
                labels.append(label)
    return labels
