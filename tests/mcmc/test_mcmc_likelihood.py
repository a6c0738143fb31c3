"""The shared censored-normal likelihood (M3 log CDF) against scipy."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from blinapk.mcmc.likelihood import censored_normal_logp, log_ndtr, split_censored_logp

_z = pt.dvector("z")
_LOG_NDTR = pytensor.function([_z], log_ndtr(_z, pt))
_GRAD = pytensor.function([_z], pytensor.grad(log_ndtr(_z, pt).sum(), _z))


@settings(max_examples=200, deadline=None)
@given(st.floats(-60.0, 12.0, allow_nan=False))
def test_log_ndtr_matches_scipy(z):
    expected = stats.norm.logcdf(z)
    got = _LOG_NDTR(np.array([z]))[0]
    assert got == pytest.approx(expected, rel=2e-6, abs=1e-12)
    assert log_ndtr(np.array(z)) == pytest.approx(expected, rel=2e-6, abs=1e-12)


def test_log_ndtr_gradient_finite_and_correct():
    z = np.array([-200.0, -30.0, -8.0, -7.999, -1.0, 0.0, 3.0, 40.0])
    g = _GRAD(z)
    assert np.all(np.isfinite(g))
    # d/dz log Phi(z) = phi(z) / Phi(z) (inverse Mills ratio), ~ -z in the far tail
    ref = np.exp(stats.norm.logpdf(z) - stats.norm.logcdf(z))
    np.testing.assert_allclose(g, ref, rtol=1e-5)


def test_censored_normal_logp_m3_vs_scipy():
    value = np.array([5.0, 3.9, 3.9, 2.0])
    mu = np.array([5.2, 6.0, 3.0, 9.0])
    sigma = np.array([0.3, 0.3, 0.5, 0.2])
    cens = np.array([0, 1, 1, 1])
    lower = np.array([5.0, 3.9, 3.9, 2.0])
    got = censored_normal_logp(value, mu, sigma, cens, lower)
    expected = np.r_[stats.norm.logpdf(5.0, 5.2, 0.3), stats.norm.logcdf(3.9, 6.0, 0.3),
                     stats.norm.logcdf(3.9, 3.0, 0.5), stats.norm.logcdf(2.0, 9.0, 0.2)]
    np.testing.assert_allclose(got, expected, rtol=1e-10)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-3.0, 3.0), st.floats(-3.0, 3.0), st.floats(0.05, 2.0),
                          st.booleans()), min_size=1, max_size=12))
def test_split_logp_equals_full_logp_values_and_gradient(rows):
    """The split form (log CDF on censored rows only) is the same function, gradient included."""
    value, mu0, sigma, cens = (np.array(c) for c in zip(*rows, strict=True))
    cens = cens.astype(np.int64)
    lower = np.where(cens > 0, value + 0.5, value)
    mu = pt.dvector("mu")
    full = censored_normal_logp(value, mu, sigma, cens, lower, pt)
    split = split_censored_logp(pt.as_tensor(value), mu, pt.as_tensor(sigma),
                                np.flatnonzero(cens), pt.as_tensor(lower))
    f = pytensor.function([mu], [full, split, pytensor.grad(full.sum(), mu),
                                 pytensor.grad(split.sum(), mu)])
    lp_full, lp_split, g_full, g_split = f(mu0)
    np.testing.assert_allclose(lp_split, lp_full, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g_split, g_full, rtol=1e-12, atol=1e-12)


def test_one_likelihood_shared_by_poppk_and_er():
    """poppk and er use the mcmc function itself, not copies."""
    import blinapk.er.models as er_models
    import blinapk.poppk.likelihood as pk_lik

    assert pk_lik.censored_normal_logp is censored_normal_logp
    assert pk_lik.split_censored_logp is split_censored_logp
    assert er_models.censored_normal_logp is censored_normal_logp
