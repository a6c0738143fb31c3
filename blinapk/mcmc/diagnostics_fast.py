"""Vectorised rank-normalised R-hat and bulk/tail ESS, equal to ArviZ's.

ArviZ (0.2x) computes ``az.rhat(..., method="rank")`` and
``az.ess(..., method="bulk"/"tail")`` with a Python loop over every scalar
element of the posterior; a population-PK posterior has hundreds to thousands
of them (one random effect per subject), which costs seconds per fit. The
functions here compute the same statistics (Vehtari et al. 2021,
"Rank-normalization, folding, and localization: an improved R-hat for
assessing convergence of MCMC", Bayesian Analysis 16(2):667-718) for all
elements at once with NumPy, following ArviZ's ``arviz.stats.diagnostics``
step by step (same operations in the same order, so the numbers agree bit for
bit in the tests of this module, and to rounding error at worst):

* chains are split in two halves; with an odd number of draws the middle
  draw is dropped (``_split_chains``);
* ranks are average ranks of ties over all split chains (as
  ``scipy.stats.rankdata(method="average")``), back-transformed with Blom's
  offset 3/8 and mapped to normal scores (``_z_scale``);
* R-hat is the larger of the split R-hat of the normal scores and that of the
  normal scores of the draws folded about their median (``_rhat_rank``);
* ESS uses the FFT autocovariance of each split chain, Geyer's initial
  positive sequence truncated at the first negative pair sum, Geyer's
  monotone sequence, and caps the autocorrelation time from below at
  ``1 / log10(n_chain * n_draw)`` (``_ess``); bulk ESS is the ESS of the normal
  scores, tail ESS the smaller ESS of the indicators ``x <= q`` at the 5 %
  and 95 % quantiles (R's type 7, ``mquantiles(alphap=1, betap=1)``) of the
  unsplit draws (``_ess_tail``);
* an element with a NaN draw, fewer than 4 draws (or fewer than 2 chains for
  R-hat) gets NaN; a constant element gets R-hat NaN and ESS equal to the
  number of split draws (``n_chain * 2 * (n_draw // 2)``).

Variances use the formula ArviZ uses: with numba installed ArviZ computes
them as ``sum(x**2)/n - (sum(x)/n)**2`` with left-to-right sums
(``stats_variance_2d``), otherwise with :func:`numpy.var`; this module does
the same (decided once on import, as ArviZ does), so that even degenerate
elements (e.g. every half-chain stuck at one value) give ArviZ's value.

:func:`ebfmi` is ArviZ's ``az.bfmi`` with the same variance: ArviZ's first
call compiles its numba variance kernel (0.2 s in every new process).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=(4, 500, 3))  # (chain, draw, element)
>>> rhat_rank(x).shape, ess_bulk(x).shape, ess_tail(x).shape
((3,), (3,), (3,))
>>> bool(np.all(rhat_rank(x) < 1.01))
True
"""

from __future__ import annotations

import importlib.util

import numpy as np
from scipy.fftpack import next_fast_len
from scipy.special import ndtri

__all__ = ["ebfmi", "ess_bulk", "ess_tail", "rank_diagnostics", "rhat_rank"]

#: ArviZ computes variances with its numba kernel when numba is importable
#: (``arviz.utils.Numba.numba_flag``'s default); mirror that choice.
_SEQUENTIAL_VARIANCE: bool = importlib.util.find_spec("numba") is not None
#: Elements processed together: about this many draws per chunk bound memory.
_CHUNK_DRAWS = 2**21
#: Quantiles of the tail ESS (ArviZ's default ``prob=(0.05, 0.95)``).
_TAIL_PROBS = (0.05, 0.95)


def _elements(x: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
    """Return ``x`` as a C-contiguous ``(element, chain, draw)`` array and the element shape."""
    a = np.asarray(x)
    if a.ndim < 2:
        raise ValueError(f"expected an array of shape (chain, draw, ...), got shape {a.shape}")
    if a.dtype.kind != "f":
        a = a.astype(np.float64)
    n_chain, n_draw = a.shape[:2]
    shape = a.shape[2:]
    a = a.reshape(n_chain, n_draw, -1)
    return np.ascontiguousarray(np.moveaxis(a, -1, 0)), shape


def _chunks(n_elem: int, n_chain: int, n_draw: int) -> list[slice]:
    step = max(1, _CHUNK_DRAWS // max(1, n_chain * n_draw))
    return [slice(i, min(i + step, n_elem)) for i in range(0, n_elem, step)]


def _split_chains(a: np.ndarray) -> np.ndarray:
    """Split every chain in two halves: ``(k, c, d) -> (k, 2c, d // 2)``.

    As ArviZ: the first ``d // 2`` and the last ``d // 2`` draws, so an odd
    number of draws drops the middle one.
    """
    half = a.shape[-1] // 2
    return np.concatenate((a[..., :half], a[..., a.shape[-1] - half:]), axis=1)


def _tie_ranks(s: np.ndarray) -> np.ndarray:
    """Twice the 0-based average rank of each entry of rows sorted ascending.

    A run of equal values at sorted positions ``i..j`` gets ``i + j`` (an
    integer); its average rank in ``scipy.stats.rankdata(method="average")``
    is ``(i + j) / 2 + 1``.
    """
    n = s.shape[-1]
    idx = np.arange(n)
    starts = np.ones(s.shape, dtype=bool)
    starts[:, 1:] = s[:, 1:] != s[:, :-1]
    twice = np.broadcast_to(2 * idx, s.shape).copy()  # rows without ties
    tied = ~starts.all(axis=1)
    if tied.any():
        starts = starts[tied]
        ends = np.ones(starts.shape, dtype=bool)
        ends[:, :-1] = starts[:, 1:]
        first = np.maximum.accumulate(np.where(starts, idx, 0), axis=-1)
        last = (n - 1) - np.maximum.accumulate(np.where(ends[:, ::-1], idx, 0), axis=-1)[:, ::-1]
        twice[tied] = first + last
    return twice


def _z_scale(a: np.ndarray) -> np.ndarray:
    """Rank-normalise each element over all its (split) chains (ArviZ's ``_z_scale``).

    Average ranks of ties, Blom's back-transformation ``(r - 3/8) / (n + 1/4)``
    and the normal quantile function, as ArviZ; the normal scores of the
    ``2n - 1`` possible average ranks are tabulated once.
    """
    k = a.shape[0]
    flat = a.reshape(k, -1)
    size = flat.shape[-1]
    c = 3 / 8
    rank = (np.arange(2 * size - 1) + 2) * 0.5  # every possible average rank
    table = ndtri((rank - c) / (size - 2 * c + 1))
    order = np.argsort(flat, axis=-1)
    z = np.empty(flat.shape, dtype=np.float64)
    np.put_along_axis(z, order, table[_tie_ranks(np.take_along_axis(flat, order, axis=-1))],
                      axis=-1)
    return z.reshape(a.shape)


def _var(x: np.ndarray, ddof: int) -> np.ndarray:
    """Variance along the last axis with the formula ArviZ uses (see the module docstring)."""
    if not _SEQUENTIAL_VARIANCE:
        return np.var(x, axis=-1, ddof=ddof)
    n = x.shape[-1]
    sum_x = np.cumsum(x, axis=-1)[..., -1]
    sum_x2 = np.cumsum(x * x, axis=-1)[..., -1]
    var = sum_x2 / n - (sum_x / n) ** 2
    return var * (n / (n - ddof))


def _rhat(z: np.ndarray) -> np.ndarray:
    """Split R-hat of ``(k, chain, draw)`` values (ArviZ's ``_rhat``)."""
    n = z.shape[-1]
    chain_mean = np.mean(z, axis=-1)
    chain_var = _var(z, ddof=1)
    between = n * _var(chain_mean, ddof=1)
    within = np.mean(chain_var, axis=-1)
    rhat = np.sqrt((between / within + n - 1) / n)
    return np.where(np.isnan(z).any(axis=(1, 2)), np.nan, rhat)


def _autocov(z: np.ndarray) -> np.ndarray:
    """FFT autocovariance along the last axis, every lag (ArviZ's ``autocov``)."""
    n = z.shape[-1]
    m = next_fast_len(2 * n)
    z = z - z.mean(axis=-1, keepdims=True)
    f = np.fft.rfft(z, n=m, axis=-1)
    f *= np.conjugate(f)
    cov = np.fft.irfft(f, n=m, axis=-1)[..., :n]
    cov /= n
    return cov


def _ess(z: np.ndarray) -> np.ndarray:
    """ESS of ``(k, chain, draw)`` values (ArviZ's ``_ess``, ``relative=False``)."""
    k, n_chain, n_draw = z.shape
    size = n_chain * n_draw
    out = np.full(k, np.nan)
    nan = np.isnan(z).any(axis=(1, 2))
    const = ~nan & ((z.max(axis=(1, 2)) - z.min(axis=(1, 2))) < np.finfo(float).resolution)
    out[const] = size
    todo = ~nan & ~const
    if not todo.any():
        return out
    z = z[todo]
    kk = z.shape[0]
    acov = _autocov(z)
    chain_mean = np.mean(z, axis=-1)
    mean_var = np.mean(acov[..., 0], axis=-1) * n_draw / (n_draw - 1.0)
    var_plus = mean_var * (n_draw - 1.0) / n_draw
    if n_chain > 1:
        var_plus += _var(chain_mean, ddof=1)
    # rho_hat at every lag; ArviZ computes the same expression lag by lag
    acov_mean = np.mean(np.ascontiguousarray(np.moveaxis(acov, 1, -1)), axis=-1)
    rho = 1.0 - (mean_var[:, None] - acov_mean) / var_plus[:, None]
    rho[:, 0] = 1.0

    # Geyer's initial positive sequence: ArviZ's loop runs t = 1, 3, ... while
    # t < n_draw - 3 and the previous pair sum is > 0; iteration j (t = 2j - 1)
    # computes the pair (2j, 2j + 1). n_it iterations at most.
    n_it = len(range(1, n_draw - 3, 2))
    pair_sum = rho[:, 0:2 * n_it + 2:2] + rho[:, 1:2 * n_it + 2:2]  # pairs 0..n_it
    positive = pair_sum[:, :n_it] > 0
    first_bad = np.argmax(~positive, axis=1) if n_it else np.zeros(kk, dtype=np.intp)
    done = np.where(positive.all(axis=1), n_it, first_bad)  # iterations ArviZ runs
    rows = np.arange(kk)
    lag = np.arange(n_draw)
    last_even = 2 * done  # max_t + 1 in ArviZ
    # every lag below max_t + 1 was stored; the last pair only if its sum >= 0
    rho_t = np.where(lag < last_even[:, None], rho, 0.0)
    last_stored = (done == 0) | (pair_sum[rows, done] >= 0)
    even = rho[rows, last_even]
    rho_t[rows, last_even] = np.where(last_stored | (even > 0), even, 0.0)
    rho_t[rows, last_even + 1] = np.where(last_stored, rho[rows, last_even + 1], 0.0)

    # Geyer's initial monotone sequence: a pair whose sum exceeds the running
    # minimum of the previous pair sums is replaced by half that minimum
    if n_it > 1:
        run_min = np.minimum.accumulate(pair_sum, axis=1)
        j = np.arange(1, n_it + 1)
        fix = (pair_sum[:, 1:] > run_min[:, :-1]) & (j < done[:, None])
        half = run_min[:, :-1] / 2.0
        rho_t[:, 2 * j] = np.where(fix, half, rho_t[:, 2 * j])
        rho_t[:, 2 * j + 1] = np.where(fix, half, rho_t[:, 2 * j + 1])

    # sum over lags < max_t + 1 of exactly that many terms, as ArviZ sums them
    # (one reduction per distinct truncation point, so the rounding is the same)
    head = np.empty(kk)
    for stop in np.unique(last_even):
        sel = last_even == stop
        head[sel] = np.sum(rho_t[sel, :stop], axis=-1)
    tau = -1.0 + 2.0 * head + rho_t[rows, last_even]
    floor = 1 / np.log10(size)
    tau = np.where(floor > tau, floor, tau)
    ess = size / tau
    out[todo] = np.where(np.isnan(rho_t).any(axis=-1), np.nan, ess)
    return out


def _tail_indicator_ess(a: np.ndarray) -> np.ndarray:
    """Tail ESS of ``(k, chain, draw)`` draws without NaN (ArviZ's ``_ess_tail``)."""
    k = a.shape[0]
    xs = np.sort(a.reshape(k, -1), axis=-1)
    n = xs.shape[-1]
    ess = []
    for prob in _TAIL_PROBS:
        # scipy.stats.mstats.mquantiles(alphap=1, betap=1), as arviz.stats.stats_utils.quantile
        p = np.float64(prob)
        aleph = n * p + (1 + p * (1.0 - 1 - 1))
        j = int(np.floor(np.clip(aleph, 1, n - 1)))
        gamma = np.clip(aleph - j, 0, 1)
        q = (1.0 - gamma) * xs[:, j - 1] + gamma * xs[:, j]
        indicator = (a <= q[:, None, None]).astype(np.float64)
        ess.append(_ess(_split_chains(indicator)))
    low, high = ess
    return np.where(high < low, high, low)


def _rhat_from_split(split: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Rank R-hat from split draws and their normal scores (ArviZ's ``_rhat_rank``)."""
    rhat_bulk = _rhat(z)
    med = np.median(split.reshape(split.shape[0], -1), axis=-1)
    folded = np.abs(split - med[:, None, None])
    rhat_tail = _rhat(_z_scale(folded))
    rhat_tail[np.isnan(folded).any(axis=(1, 2))] = np.nan  # inf - inf: ArviZ gives NaN
    return np.where(rhat_tail > rhat_bulk, rhat_tail, rhat_bulk)


def _run(x: np.ndarray, which: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Compute the statistics named in ``which`` for every element of ``x``."""
    a, shape = _elements(x)
    n_elem, n_chain, n_draw = a.shape
    out = {w: np.full(n_elem, np.nan) for w in which}
    if n_draw < 4 or n_chain < 1:  # ArviZ's shape validation: NaN
        return {w: v.reshape(shape) for w, v in out.items()}
    valid = ~np.isnan(a).any(axis=(1, 2))  # a NaN draw: NaN
    with np.errstate(divide="ignore", invalid="ignore"):  # NaN/inf results are documented
        for sl in _chunks(n_elem, n_chain, n_draw):
            idx = np.arange(sl.start, sl.stop)[valid[sl]]
            if idx.size:
                _run_chunk(a[idx], idx, which, out)
    return {w: v.reshape(shape) for w, v in out.items()}


def _run_chunk(chunk: np.ndarray, idx: np.ndarray, which: tuple[str, ...],
               out: dict[str, np.ndarray]) -> None:
    """Fill ``out[w][idx]`` from the ``(k, chain, draw)`` draws ``chunk`` (no NaN)."""
    split = _split_chains(chunk)
    z = _z_scale(split) if ("ess_bulk" in which or "rhat" in which) else None
    if "rhat" in which and chunk.shape[1] >= 2:
        out["rhat"][idx] = _rhat_from_split(split, z)
    if "ess_bulk" in which:
        out["ess_bulk"][idx] = _ess(z)
    if "ess_tail" in which:
        out["ess_tail"][idx] = _tail_indicator_ess(chunk)


def rhat_rank(x: np.ndarray) -> np.ndarray:
    """Rank-normalised split R-hat of every element, as ``az.rhat(method="rank")``.

    Parameters
    ----------
    x : array_like, shape (chain, draw, k) or (chain, draw, ...)
        Draws; integer and boolean draws are converted to float64.

    Returns
    -------
    numpy.ndarray, shape (k,) or x.shape[2:]
        The larger of the rank-normalised split R-hat and the rank-normalised
        folded split R-hat (Vehtari et al. 2021); NaN for an element with a
        NaN draw, a constant element, fewer than 2 chains or fewer than 4 draws.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(1).normal(size=(2, 200, 2))
    >>> x[0, :, 1] += 3.0  # chain 0 of element 1 elsewhere
    >>> r = rhat_rank(x)
    >>> bool(r[0] < 1.05), bool(r[1] > 1.5)
    (True, True)
    """
    return _run(x, ("rhat",))["rhat"]


def ess_bulk(x: np.ndarray) -> np.ndarray:
    """Bulk effective sample size of every element, as ``az.ess(method="bulk")``.

    Parameters
    ----------
    x : array_like, shape (chain, draw, k) or (chain, draw, ...)
        Draws; integer and boolean draws are converted to float64.

    Returns
    -------
    numpy.ndarray, shape (k,) or x.shape[2:]
        ESS of the rank-normalised split chains; NaN for an element with a NaN
        draw or fewer than 4 draws.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(2).normal(size=(4, 500, 1))
    >>> bool(1500 < ess_bulk(x)[0] < 2500)
    True
    """
    return _run(x, ("ess_bulk",))["ess_bulk"]


def ess_tail(x: np.ndarray) -> np.ndarray:
    """Tail effective sample size of every element, as ``az.ess(method="tail")``.

    Parameters
    ----------
    x : array_like, shape (chain, draw, k) or (chain, draw, ...)
        Draws; integer and boolean draws are converted to float64.

    Returns
    -------
    numpy.ndarray, shape (k,) or x.shape[2:]
        The smaller of the split-chain ESS of the indicators ``x <= q05`` and
        ``x <= q95`` (quantiles of all draws of the element); NaN for an
        element with a NaN draw or fewer than 4 draws.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(3).normal(size=(4, 500, 1))
    >>> bool(1000 < ess_tail(x)[0] < 3000)
    True
    """
    return _run(x, ("ess_tail",))["ess_tail"]


def rank_diagnostics(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """R-hat, bulk ESS and tail ESS at once, sharing the rank normalisation.

    Parameters
    ----------
    x : array_like, shape (chain, draw, k) or (chain, draw, ...)
        Draws.

    Returns
    -------
    rhat, ess_bulk, ess_tail : numpy.ndarray
        As :func:`rhat_rank`, :func:`ess_bulk` and :func:`ess_tail`.
    """
    out = _run(x, ("rhat", "ess_bulk", "ess_tail"))
    return out["rhat"], out["ess_bulk"], out["ess_tail"]


def ebfmi(energy: np.ndarray) -> np.ndarray:
    """Energy Bayesian fraction of missing information of each chain, as ``az.bfmi``.

    E-BFMI = mean of the squared energy changes between successive draws over
    the variance of the energy (Betancourt 2016, "Diagnosing suboptimal
    cotangent disintegrations in Hamiltonian Monte Carlo", arXiv:1604.00695);
    values below 0.3 point to heavy-tailed energy (funnels).

    Parameters
    ----------
    energy : array_like, shape (chain, draw) or (draw,)
        The sampler's Hamiltonian energy (``sample_stats.energy``).

    Returns
    -------
    numpy.ndarray, shape (chain,)
        One value per chain.

    Examples
    --------
    >>> e = np.array([[1.0, 3.0, 2.0, 4.0]])  # diffs 2, -1, 2; variance 5/3
    >>> ebfmi(e)
    array([1.8])
    """
    e = np.atleast_2d(np.asarray(energy, dtype=float))
    num = np.square(np.diff(e, axis=1)).mean(axis=1)
    return num / _var(e, ddof=1)
