"""Per-chain random keys computed with NumPy (blinapk.mcmc.threefry) against JAX itself."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blinapk.mcmc.threefry import numpy_chain_keys, threefry2x32


def _jax_keys(seed, n):
    key = jax.random.PRNGKey(seed)
    return np.asarray(jax.random.split(key, n) if n > 1 else key[None])


@pytest.mark.parametrize(("key", "count", "want"), [
    # Random123 known-answer vectors for threefry2x32_20
    ((0, 0), (0, 0), (0x6B200159, 0x99BA4EFE)),
    ((0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF), (0x1CB996FC, 0xBB002BE7)),
    ((0x13198A2E, 0x03707344), (0x243F6A88, 0x85A308D3), (0xC4923A9C, 0x483DF7A0)),
])
def test_threefry_known_answers(key, count, want):
    x1, x2 = (np.array([c], dtype=np.uint32) for c in count)
    got = threefry2x32(key, x1, x2)
    assert (int(got[0][0]), int(got[1][0])) == want


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**63 - 1), n=st.integers(1, 9))
def test_chain_keys_equal_jax_in_64_bit_mode(seed, n):
    with jax.enable_x64(True):
        np.testing.assert_array_equal(numpy_chain_keys(seed, n), _jax_keys(seed, n))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 5))
def test_chain_keys_equal_jax_in_32_bit_mode(seed, n):
    with jax.enable_x64(False):
        np.testing.assert_array_equal(numpy_chain_keys(seed, n), _jax_keys(seed, n))


def test_other_key_splitting_and_seeds_are_left_to_jax():
    from blinapk.mcmc.jaxnuts import _chain_keys

    with jax.enable_x64(False):
        assert numpy_chain_keys(2**31, 2) is None  # JAX makes it a 32-bit integer first
    assert numpy_chain_keys(-1, 2) is None
    with jax.threefry_partitionable(False):
        assert numpy_chain_keys(1, 3) is None
        np.testing.assert_array_equal(_chain_keys(1, 3), _jax_keys(1, 3))


def test_sampler_keys_are_jaxs():
    from blinapk.mcmc.jaxnuts import _chain_keys

    with jax.enable_x64(True):
        np.testing.assert_array_equal(_chain_keys(7, 4), _jax_keys(7, 4))
        np.testing.assert_array_equal(_chain_keys(7, 1), _jax_keys(7, 1))
