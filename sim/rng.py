"""Random streams: one root seed, one child per region, one named stream per purpose.

A stream is identified by (seed, region key, purpose), never by the order in which regions
are run, so regions can run in any order or in parallel and give the same draws. Separate
purposes keep unrelated draws apart: changing a billing figure does not move a single
clinical draw (common random numbers across scenarios).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
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


def normal_quantile(u: float) -> float:
    """The standard normal quantile of a uniform draw (0 maps to the lowest float's)."""
    return _STANDARD_NORMAL.inv_cdf(min(max(u, 1e-12), 1.0 - 1e-12))
