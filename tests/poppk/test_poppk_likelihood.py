"""Likelihood pieces against scipy (M3 log CDF, residual models)."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from blinapk.pk import predict_conc
from blinapk.poppk.build import build_model, model_info
from blinapk.poppk.likelihood import censored_normal_logp, log_ndtr, residual_sd
from blinapk.poppk.spec import PopPKSpec

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


def test_combined_sd_hand_calculation():
    # sd = sqrt(add^2 + (prop * f)^2) = sqrt(30^2 + (0.1 * 400)^2) = 50
    assert residual_sd(np.array(400.0), "combined", 0.1, 30.0) == pytest.approx(50.0)
    assert residual_sd(np.array(400.0), "additive", 0.1, 30.0) == 30.0
    assert residual_sd(np.array(400.0), "proportional", 0.1, 30.0) == 0.1
    # linear-scale proportional: sd = 0.1 * 400 = 40 (plus the 1e-9 pg/mL floor)
    assert residual_sd(np.array(400.0), "proportional_linear", 0.1) == pytest.approx(40.0,
                                                                                    abs=1e-9)
    assert residual_sd(np.array(0.0), "proportional_linear", 0.1) > 0.0


def test_proportional_linear_m3_by_hand():
    """Quantified: N(f, sigma f) density; BLQ: Phi((LLOQ - f) / (sigma f)), vs scipy."""
    f = np.array([400.0, 400.0, 60.0, 1e-30])
    sd = residual_sd(f, "proportional_linear", 0.2)
    value = np.array([460.0, 50.0, 50.0, 50.0])
    cens = np.array([0, 1, 1, 1])
    got = censored_normal_logp(value, f, sd, cens, value)
    # z = (460 - 400) / 80 = 0.75; (50 - 400) / 80 = -4.375; (50 - 60) / 12 = -0.8333
    expected = np.r_[stats.norm.logpdf(0.75) - np.log(80.0), stats.norm.logcdf(-4.375),
                     stats.norm.logcdf(-10.0 / 12.0), 0.0]
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("with_blq", [False, True])
def test_lloq_zero_rows_emit_no_runtime_warning(with_blq):
    """LLOQ = 0 ("no limit") on quantified rows: no log(0) is taken, the logp is finite."""
    import warnings

    from poppk_helpers import infusion_frame

    from blinapk.data import read_dataset

    frame = infusion_frame(4, sigma=0.2, obs_times=(2.0, 24.0, 48.0, 120.0))
    if not with_blq:
        frame = frame.assign(LLOQ=0.0, LOD=0.0, CENS=0)
    else:  # quantified rows without a limit, wash-out rows censored at 50 pg/mL
        frame = frame.assign(LLOQ=np.where(frame["CENS"] == 1, 50.0, 0.0), LOD=0.0)
    ds = read_dataset(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        model = build_model(ds, PopPKSpec(residual="proportional"))
        assert model_info(model).data.n_censored == (4 if with_blq else 0)
        logp = model.compile_logp()(model.initial_point())
    assert np.isfinite(logp)


@pytest.mark.parametrize("residual", ["proportional", "proportional_linear", "additive",
                                      "combined"])
def test_model_pointwise_loglik_matches_scipy(small_dataset, residual):
    """The model's log-likelihood of every row equals an independent scipy computation."""
    model = build_model(small_dataset, PopPKSpec(residual=residual))
    info = model_info(model)
    data = info.data
    assert data.n_censored > 0
    point = model.initial_point()
    rng = np.random.default_rng(5)
    for name in point:
        point[name] = point[name] + 0.1 * rng.standard_normal(np.shape(point[name]))
    values = model.compile_fn(model.unobserved_value_vars, inputs=model.value_vars,
                              on_unused_input="ignore")(point)
    names = [v.name for v in model.unobserved_value_vars]
    v = dict(zip(names, values, strict=True))
    indiv = v["indiv"]
    pred = predict_conc(data.time, data.subject_index, data.doses,
                        {"CL": indiv[:, 0], "V": indiv[:, 1]})
    s_prop, s_add = v.get("sigma_prop"), v.get("sigma_add")
    if residual == "proportional":
        y, mu, sd, lim = np.log(data.dv), np.log(pred), s_prop, np.log(data.lloq)
    elif residual == "proportional_linear":  # NONMEM Y = F + F*EPS: N(F, (sigma F)^2)
        y, mu, sd, lim = data.dv, pred, s_prop * pred, data.lloq
    else:
        sd = s_add if residual == "additive" else np.sqrt(s_add**2 + (s_prop * pred) ** 2)
        y, mu, lim = data.dv, pred, data.lloq
    expected = np.where(data.cens, stats.norm.logcdf(lim, mu, sd), stats.norm.logpdf(y, mu, sd))
    got = model.compile_fn(model.logp(vars=[model["conc"]], sum=False)[0],
                           inputs=model.value_vars, on_unused_input="ignore")(point)
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-3.0, 3.0), st.floats(-3.0, 3.0), st.floats(0.05, 2.0),
                          st.booleans()), min_size=1, max_size=12))
def test_split_logp_equals_full_logp_values_and_gradient(rows):
    """The split form (log CDF on censored rows only) is the same function, gradient included."""
    from blinapk.poppk.likelihood import split_censored_logp

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
