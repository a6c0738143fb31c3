"""Residual models and the model's pointwise likelihood against scipy."""

import numpy as np
import pytest
from scipy import stats

from blinapk.pk import predict_conc
from blinapk.poppk.build import build_model, model_info
from blinapk.poppk.likelihood import censored_normal_logp, residual_sd
from blinapk.poppk.spec import PopPKSpec


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
