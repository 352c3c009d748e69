"""Random streams (sim.rng): the uniform pool hands out its stream's numbers in order."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.rng import UniformPool, normal_quantile, normal_quantiles, stream


@settings(max_examples=50, deadline=None)
@given(
    block=st.integers(min_value=1, max_value=9),
    requests=st.lists(st.integers(min_value=0, max_value=12), max_size=40),
)
def test_pool_gives_the_streams_numbers_in_order_across_blocks(block, requests):
    """Whatever the mix of ``one`` (0 in ``requests``) and ``take(count)``, and however the
    requests straddle the blocks, the numbers are the stream's own, in order, each once."""
    pool = UniformPool(stream(7, "region", "purpose"), block=block)
    given_out: list[float] = []
    for count in requests:
        if count == 0:
            given_out.append(pool.one())
        else:
            numbers = pool.take(count)
            assert len(numbers) == count
            given_out.extend(numbers)
    reference = stream(7, "region", "purpose")
    blocks = -(-len(given_out) // block)
    expected = [x for _ in range(blocks) for x in reference.random(block).tolist()]
    assert given_out == expected[: len(given_out)]


def test_normal_quantiles_of_an_array_are_the_scalar_quantiles():
    u = np.concatenate(
        [stream(3, "region", "normal").random(20_000), [0.0, 1e-300, 1e-12, 0.075, 0.5, 1.0]]
    )
    assert normal_quantiles(u).tolist() == [normal_quantile(x) for x in u]
