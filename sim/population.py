"""Who the patients of a region are: place, age, sex, names, contacts, insurance, blood type.

Everything is drawn in blocks with numpy from the region's ``demographics`` stream; word
lists come from the package data. Nothing here can reach a real person: phone numbers are
555-01XX lines and e-mail domains are the reserved example domains.
"""

from __future__ import annotations

import datetime as dt
import re

import attrs
import numpy as np

from sim.calendar import years_before
from sim.geography import ZipTable
from sim.refdata import Demography, NameLists, weekday_factors
from sim.rng import stream

MALE, FEMALE = 0, 1
NO_DEATH = np.datetime64("NaT", "D")
NO_MOTHER = -1
GENDERS = ("Male", "Female")
BIRTH_SERIES = "births"  # demography/weekdays.csv: the weekday pattern of birthdays
POLICY_DIGITS = 10_000_000  # seven digits, unique within a region
POLICY_PART_BLOCK = 100_000  # serials of one part of a split state (at most 100 parts)


@attrs.frozen
class PatientRegistry:
    """The demographics of a region's patients, one array element per patient."""

    zip_row: np.ndarray  # row in the region's ZipTable
    age: np.ndarray  # at --today
    birth: np.ndarray  # datetime64[D]
    death: np.ndarray  # datetime64[D]: the day of death outside hospital, NaT when none
    mother: np.ndarray  # the mother's index among the region's patients, -1 when none
    gender: np.ndarray  # MALE / FEMALE
    prefix: np.ndarray  # courtesy prefix ("Mr.", ...) or ""
    given_name: np.ndarray
    last_name: np.ndarray
    phone: np.ndarray
    email: np.ndarray
    address: np.ndarray
    payer: np.ndarray  # payer type on --today (sim.coverage.PAYER_TYPES)
    insurer: np.ndarray  # plan on --today: index into PlanCatalog.names, -1 when self-pay
    policy: np.ndarray  # text, None for those never with a plan through --today
    blood_type: np.ndarray  # index into Demography.blood_types

    def __len__(self) -> int:
        return len(self.age)


def draw_ages(
    rng: np.random.Generator, zips: ZipTable, rows: np.ndarray, demography: Demography
) -> np.ndarray:
    """Ages 0-90 shaped by each ZIP's shares of under-18s, 18-24s and 65+s.

    Within those bands (and 25-64) ages follow the national pyramid.
    """
    national = demography.single_year_weights
    bands = [(0, 17), (18, 24), (25, 64), (65, 90)]
    within = []
    for lo, hi in bands:
        weights = national[lo : hi + 1]
        within.append(np.cumsum(weights / weights.sum()))
    under, young, senior = (
        zips.share_under_18[rows],
        zips.share_18_24[rows],
        zips.share_65_plus[rows],
    )
    middle = np.clip(1.0 - under - young - senior, 0.0, 1.0)
    shares = np.stack([under, young, middle, senior], axis=1)
    shares /= shares.sum(axis=1, keepdims=True)
    band = (rng.random(len(rows))[:, None] > np.cumsum(shares, axis=1)).sum(axis=1)
    band = np.minimum(band, len(bands) - 1)
    u = rng.random(len(rows))
    ages = np.empty(len(rows), dtype=np.int64)
    for b, (lo, _hi) in enumerate(bands):
        mask = band == b
        ages[mask] = lo + np.searchsorted(within[b], u[mask], side="right")
    return np.minimum(ages, 90)


def birth_dates(rng: np.random.Generator, ages: np.ndarray, today: dt.date) -> np.ndarray:
    """A birth date for each age such that the age at ``today`` is exact, its weekday drawn by
    the pattern of US births (``demography/weekdays.csv``, series ``births``: scheduled
    cesareans and inductions avoid weekends)."""
    latest = years_before(today, ages).astype(np.int64)  # the last birthday was at most today
    earliest = (years_before(today, ages + 1) + np.timedelta64(1, "D")).astype(np.int64)
    factors = weekday_factors(BIRTH_SERIES)
    # the weight of all days before day d (days since 1970-01-01, a Thursday): whole weeks, then
    # the days of d's week before it
    before = np.concatenate([[0.0], np.cumsum([factors[(k + 3) % 7] for k in range(7)])])
    week = before[-1]

    def weight_before(day: np.ndarray) -> np.ndarray:
        return (day // 7) * week + before[day % 7]

    low = weight_before(earliest)
    target = low + rng.random(len(ages)) * (weight_before(latest + 1) - low)
    weeks = np.floor(target / week)
    within = np.searchsorted(before[1:], target - weeks * week, side="right")
    day = weeks.astype(np.int64) * 7 + np.minimum(within, 6)
    return np.clip(day, earliest, latest).astype("datetime64[D]")


def courtesy_prefixes(
    rng: np.random.Generator, gender: np.ndarray, adult: np.ndarray, names: NameLists
) -> np.ndarray:
    """A prefix ("Mr.", "Ms.", ...) consistent with gender for some adults; "" otherwise."""
    prefixes = np.full(len(gender), "", dtype=object)
    u = rng.random(len(gender))
    genders = names.prefixes["gender"].to_numpy()
    shares = names.prefixes["share"].to_numpy(dtype=float)
    labels = names.prefixes["prefix"].to_numpy(dtype=object)
    for code, label in enumerate(GENDERS):
        rows = genders == label
        edges = np.cumsum(shares[rows])
        choice = np.searchsorted(edges, u, side="right")
        mask = (gender == code) & adult & (choice < len(edges))
        prefixes[mask] = labels[rows][choice[mask]]
    return prefixes


_NOT_EMAIL = re.compile(r"[^a-z0-9]")


@attrs.frozen
class Residents:
    """Where residents live, when they were born and their sex: all the simulation needs to
    know of a resident until they become a patient."""

    zip_row: np.ndarray  # row in the region's ZipTable
    age: np.ndarray  # at --today
    birth: np.ndarray  # datetime64[D]
    gender: np.ndarray  # MALE / FEMALE
    # the day of death outside hospital in the window (sim.catchment draws it), NaT when none
    death: np.ndarray
    # the position of the resident's mother in the same record, -1 when none is linked
    # (sim.catchment links each patient born in the window to the mother who delivered them)
    mother: np.ndarray
    income: np.ndarray | None = None  # family income / poverty line (sim.coverage.draw_incomes)
    disabled: np.ndarray | None = None  # a disability recognised by Social Security

    def __len__(self) -> int:
        return len(self.age)

    def subset(self, rows: np.ndarray) -> Residents:
        return Residents(
            *(
                None if getattr(self, f.name) is None else getattr(self, f.name)[rows]
                for f in attrs.fields(Residents)
            )
        )


def draw_residents(
    rng: np.random.Generator,
    count: int,
    zips: ZipTable,
    residence_weights: np.ndarray,
    today: dt.date,
    demography: Demography,
) -> Residents:
    """``count`` residents of the ZIPs of ``zips`` (by ``residence_weights``), with the ages
    and sexes of each ZIP's population (none dies: ``sim.catchment`` draws the deaths)."""
    zip_row = rng.choice(len(zips), size=count, p=residence_weights)
    ages = draw_ages(rng, zips, zip_row, demography)
    birth = birth_dates(rng, ages, today)
    gender = (rng.random(count) < demography.female_share_by_age[ages]).astype(np.int8)
    return Residents(
        zip_row, ages, birth, gender, np.full(count, NO_DEATH), np.full(count, NO_MOTHER)
    )


def build_patients(
    *,
    seed: int,
    region: str,
    region_number: int,
    region_part: int | None,
    residents: Residents,
    zips: ZipTable,
    payer: np.ndarray,
    insurer: np.ndarray,
    demography: Demography,
    names: NameLists,
    members: np.ndarray | None = None,
) -> PatientRegistry:
    """The patients among a region's residents: names, contacts, insurance, blood type.
    ``payer`` and ``insurer`` are each patient's coverage on --today (``sim.coverage``);
    ``members`` (default: those with a plan on --today) get a policy number, shown while
    their coverage has a plan. A newborn linked to its mother takes her surname and address
    (the ZIP is hers already)."""
    rng = stream(seed, region, "demographics")
    count = len(residents)
    zip_row, ages, birth, gender = (
        residents.zip_row,
        residents.age,
        residents.birth,
        residents.gender,
    )

    birth_year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    first = names.first_by_birth.draw(rng.random(count), birth_year, gender == FEMALE)
    last = names.last.draw(rng, count)
    child = np.flatnonzero(residents.mother >= 0)
    last[child] = last[residents.mother[child]]
    prefix = courtesy_prefixes(rng, gender, ages >= 18, names)

    area = area_codes_for(rng, zips.state[zip_row], demography)
    line = rng.integers(0, 100, count)
    phone = np.array(
        [f"{a}-{names.phone_line_prefix}{n:02d}" for a, n in zip(area.tolist(), line.tolist())],
        dtype=object,
    )
    domain = np.array(names.email_domains, dtype=object)[
        rng.integers(0, len(names.email_domains), count)
    ]
    number = rng.integers(1, 1000, count)
    email = np.array(
        [
            f"{_NOT_EMAIL.sub('', f.lower())}.{_NOT_EMAIL.sub('', s.lower())}{n}@{d}"
            for f, s, n, d in zip(first.tolist(), last.tolist(), number.tolist(), domain.tolist())
        ],
        dtype=object,
    )
    address = street_addresses(rng, count, names)
    address[child] = address[residents.mother[child]]

    policy = policy_numbers(
        rng, insurer >= 0 if members is None else members, region_number, region_part
    )
    blood = rng.choice(
        len(demography.blood_types.labels), size=count, p=demography.blood_types.probabilities
    )
    return PatientRegistry(
        zip_row=zip_row,
        age=ages,
        birth=birth,
        death=residents.death,
        mother=residents.mother,
        gender=gender,
        prefix=prefix,
        given_name=first,
        last_name=last,
        phone=phone,
        email=email,
        address=address,
        payer=payer,
        insurer=insurer,
        policy=policy,
        blood_type=blood,
    )


def area_codes_for(
    rng: np.random.Generator, states: np.ndarray, demography: Demography
) -> np.ndarray:
    """A real area code of each patient's state (the line number is fictional)."""
    codes = dict(zip(demography.states["state"], demography.states["area_codes"]))
    u = rng.random(len(states))
    result = np.empty(len(states), dtype=object)
    for state in np.unique(states):
        mask = states == state
        options = np.array(codes[str(state)], dtype=object)
        result[mask] = options[(u[mask] * len(options)).astype(np.int64)]
    return result


def street_addresses(rng: np.random.Generator, count: int, names: NameLists) -> np.ndarray:
    """House number, street and suffix, sometimes with an apartment or suite."""
    digits = rng.integers(1, 5, count)
    house = np.floor(10.0 ** (digits - 1 + rng.random(count))).astype(np.int64)
    street = names.street_names.draw(rng, count)
    suffix = names.street_suffixes.draw(rng, count)
    second = rng.random(count) < names.secondary_address_share
    kind = np.array(names.secondary_address_kinds, dtype=object)[
        rng.integers(0, len(names.secondary_address_kinds), count)
    ]
    unit = rng.integers(1, 400, count)
    return np.array(
        [
            f"{h} {s} {x}, {k} {u}" if extra else f"{h} {s} {x}"
            for h, s, x, extra, k, u in zip(
                house.tolist(),
                street.tolist(),
                suffix.tolist(),
                second.tolist(),
                kind.tolist(),
                unit.tolist(),
            )
        ],
        dtype=object,
    )


def policy_numbers(
    rng: np.random.Generator, insured: np.ndarray, region_number: int, part: int | None = None
) -> np.ndarray:
    """Text policy numbers, unique in the dataset: three letters, the region's two digits and
    seven digits that are a random permutation of the insured patients' order. The parts of a
    split state share its two digits, so part ``k`` permutes within the block of serials
    ``k * 100,000 ...`` instead."""
    count = int(insured.sum())
    block = POLICY_DIGITS if part is None else POLICY_PART_BLOCK
    if count > block:
        raise ValueError(f"more than {block:,} insured patients in one region")
    multiplier = int(rng.integers(1, block // 10)) * 10 + int(rng.choice([1, 3, 7, 9]))
    offset = int(rng.integers(0, block))
    serial = (np.arange(count, dtype=np.int64) * multiplier + offset) % block
    if part is not None:
        serial += part * block
    letters = rng.integers(0, 26, (count, 3)) + ord("A")
    text = [
        f"{chr(a)}{chr(b)}{chr(c)}{region_number:02d}{s:07d}"
        for (a, b, c), s in zip(letters.tolist(), serial.tolist())
    ]
    policy = np.full(len(insured), None, dtype=object)
    policy[insured] = text
    return policy
