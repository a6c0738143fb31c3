"""JAX's default random keys computed with NumPy: a seed's per-chain keys without XLA.

``numpy_chain_keys(seed, n)`` equals ``jax.random.split(jax.random.PRNGKey(seed), n)``
for JAX's default generator (Threefry-2x32, "partitionable" key splitting, the
default since JAX 0.5). Computed by JAX, these few numbers cost two small XLA
compilations, 0.1-0.2 s at the start of every fresh process; here they cost
microseconds. The Threefry-2x32 hash (20 rounds) follows Salmon et al., "Parallel
random numbers: as easy as 1, 2, 3" (SC 2011), as JAX implements it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["numpy_chain_keys", "threefry2x32"]

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = np.uint32(0x1BD11BDA)


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def threefry2x32(key: tuple[int, int], x1: np.ndarray, x2: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Hash the counter pairs ``(x1, x2)`` under ``key`` with Threefry-2x32 (20 rounds).

    Parameters
    ----------
    key : pair of int
        The two 32-bit key words.
    x1, x2 : array_like of uint32
        Counter words (same shape).

    Returns
    -------
    tuple of numpy.ndarray
        The two hashed words, uint32.

    Examples
    --------
    Known-answer test of the Random123 suite (key and counter all ones bits):

    >>> ones = np.array([0xFFFFFFFF], dtype=np.uint32)
    >>> [hex(int(w[0])) for w in threefry2x32((0xFFFFFFFF, 0xFFFFFFFF), ones, ones)]
    ['0x1cb996fc', '0xbb002be7']
    """
    ks = [np.uint32(key[0]), np.uint32(key[1])]
    ks.append(ks[0] ^ ks[1] ^ _PARITY)
    x = [np.asarray(x1, dtype=np.uint32) + ks[0], np.asarray(x2, dtype=np.uint32) + ks[1]]
    with np.errstate(over="ignore"):
        for i in range(5):
            for r in _ROTATIONS[i % 2]:
                x[0] = x[0] + x[1]
                x[1] = _rotl(x[1], r) ^ x[0]
            x[0] = x[0] + ks[(i + 1) % 3]
            x[1] = x[1] + ks[(i + 2) % 3] + np.uint32(i + 1)
    return x[0], x[1]


def numpy_chain_keys(seed: int, n: int) -> np.ndarray | None:
    """``jax.random.split(jax.random.PRNGKey(seed), n)`` (``n`` > 1) or the key itself.

    Parameters
    ----------
    seed : int
        Seed in ``[0, 2**63)`` (``[0, 2**31)`` without JAX's 64-bit mode).
    n : int
        Number of keys.

    Returns
    -------
    numpy.ndarray or None
        ``(n, 2)`` uint32 raw keys (for ``n == 1`` the seed's own key, as
        ``numpyro.infer.MCMC`` uses it for a single chain); None when JAX is
        configured for another generator or key splitting, or the seed is out
        of range (then ask JAX).

    Examples
    --------
    >>> numpy_chain_keys(1, 2)
    array([[ 507451445, 1853169794],
           [1948878966, 4237131848]], dtype=uint32)
    """
    import jax

    # without 64-bit mode JAX first makes the seed a 32-bit integer
    top = 2**63 if jax.config.jax_enable_x64 else 2**31
    if (not 0 <= int(seed) < top
            or jax.config.jax_default_prng_impl != "threefry2x32"
            or not jax.config.jax_threefry_partitionable):
        return None
    key = (int(seed) >> 32, int(seed) & 0xFFFFFFFF)
    if n == 1:
        return np.array([key], dtype=np.uint32)
    counts = np.arange(n, dtype=np.uint32)
    words = threefry2x32(key, np.zeros(n, dtype=np.uint32), counts)
    return np.stack(words, axis=-1)
