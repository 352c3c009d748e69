"""Random streams: one root seed, one child per region, one named stream per purpose.

A stream is identified by (seed, region key, purpose), never by the order in which regions
are run, so regions can run in any order or in parallel and give the same draws. Separate
purposes keep unrelated draws apart: changing a billing figure does not move a single
clinical draw (common random numbers across scenarios).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterator, Sequence
from itertools import chain, islice
from statistics import NormalDist

import numpy as np


def stable_key(text: str) -> int:
    """A 32-bit integer for a text key, the same on every machine and Python version."""
    return zlib.crc32(text.encode("utf-8"))


def stream(seed: int, region: str, purpose: str) -> np.random.Generator:
    """The generator for one purpose within one region."""
    sequence = np.random.SeedSequence(seed, spawn_key=(stable_key(region), stable_key(purpose)))
    return np.random.Generator(np.random.PCG64(sequence))


class UniformPool:
    """Uniform [0, 1) numbers drawn from a stream in blocks and handed out in order.

    The simulation makes a few scalar decisions per visit; drawing them one by one from numpy
    costs far more than the decision itself, so they come from blocks drawn at once (the next
    block when the last is used up). ``one`` is the chained blocks' own ``__next__``, a call
    that runs no Python code.
    """

    __slots__ = ("_numbers", "one")

    one: Callable[[], float]  # the next number

    def __init__(self, generator: np.random.Generator, block: int = 8192) -> None:
        self._numbers = chain.from_iterable(_blocks(generator, block))
        self.one = self._numbers.__next__

    def take(self, count: int) -> list[float]:
        """The next ``count`` numbers."""
        return list(islice(self._numbers, count))


def _blocks(generator: np.random.Generator, size: int) -> Iterator[list[float]]:
    while True:
        yield generator.random(size).tolist()


_STANDARD_NORMAL = NormalDist()


def normalised(weights: Sequence[float]) -> tuple[float, ...]:
    """Weights scaled to sum to 1 (the chances of a draw)."""
    total = float(sum(weights))
    return tuple(w / total for w in weights)


def normal_quantile(u: float) -> float:
    """The standard normal quantile of a uniform draw (0 maps to the lowest float's)."""
    return _STANDARD_NORMAL.inv_cdf(min(max(u, 1e-12), 1.0 - 1e-12))


# Wichura's rational approximations (Algorithm AS241, PPND16; Applied Statistics 37(3),
# 477-484, 1988), the algorithm ``statistics.NormalDist.inv_cdf`` uses: numerator and
# denominator coefficients, highest power first, for the centre (|u - 0.5| <= 0.425), the near
# tails (r = sqrt(-log(min(u, 1 - u))) <= 5) and the far tails.
_AS241 = (
    (
        (2.5090809287301226727e3, 3.3430575583588128105e4, 6.7265770927008700853e4,
         4.5921953931549871457e4, 1.3731693765509461125e4, 1.9715909503065514427e3,
         1.3314166789178437745e2, 3.3871328727963666080e0),
        (5.2264952788528545610e3, 2.8729085735721942674e4, 3.9307895800092710610e4,
         2.1213794301586595867e4, 5.3941960214247511077e3, 6.8718700749205790830e2,
         4.2313330701600911252e1, 1.0),
    ),
    (
        (7.74545014278341407640e-4, 2.27238449892691845833e-2, 2.41780725177450611770e-1,
         1.27045825245236838258e0, 3.64784832476320460504e0, 5.76949722146069140550e0,
         4.63033784615654529590e0, 1.42343711074968357734e0),
        (1.05075007164441684324e-9, 5.47593808499534494600e-4, 1.51986665636164571966e-2,
         1.48103976427480074590e-1, 6.89767334985100004550e-1, 1.67638483018380384940e0,
         2.05319162663775882187e0, 1.0),
    ),
    (
        (2.01033439929228813265e-7, 2.71155556874348757815e-5, 1.24266094738807843860e-3,
         2.65321895265761230930e-2, 2.96560571828504891230e-1, 1.78482653991729133580e0,
         5.46378491116411436990e0, 6.65790464350110377720e0),
        (2.04426310338993978564e-15, 1.42151175831644588870e-7, 1.84631831751005468180e-5,
         7.86869131145613259100e-4, 1.48753612908506148525e-2, 1.36929880922735805310e-1,
         5.99832206555887937690e-1, 1.0),
    ),
)  # fmt: skip


def normal_quantiles(u: np.ndarray) -> np.ndarray:
    """``normal_quantile`` of each of an array's uniform draws, computed at once."""
    u = np.clip(np.asarray(u, dtype=float), 1e-12, 1.0 - 1e-12)
    q = u - 0.5
    centre = np.abs(q) <= 0.425
    (centre_num, centre_den), (near_num, near_den), (far_num, far_den) = _AS241
    x = np.empty_like(u)
    r = 0.180625 - q[centre] ** 2
    x[centre] = q[centre] * np.polyval(centre_num, r) / np.polyval(centre_den, r)
    tail = ~centre
    # math.log, not np.log: numpy's AVX-512 logarithm can be 1 ulp off the C library's, and the
    # quantiles must be the scalar ones (and the same) on every processor
    smaller = np.minimum(u[tail], 1.0 - u[tail])
    r = np.sqrt(-np.fromiter(map(math.log, smaller.tolist()), float, len(smaller)))
    near = r <= 5.0
    r = np.where(near, r - 1.6, r - 5.0)
    num = np.where(near, np.polyval(near_num, r), np.polyval(far_num, r))
    den = np.where(near, np.polyval(near_den, r), np.polyval(far_den, r))
    x[tail] = np.copysign(num / den, q[tail])
    return x
