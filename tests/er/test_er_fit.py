"""fit_er: the three uncertainty modes, every model family, summaries, curves, saving, gates."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import FAST, truth_exposure

from blinapk.er import ERFit, fit_er, interval_covers, load_er
from blinapk.errors import ModelSpecError


def test_logistic_summary_names_and_recovers_the_slope(crcrh_fit):
    s = crcrh_fit.summary()
    assert s["PARAMETER"].tolist() == ["INTERCEPT", "BETA_LOGCSS", "OR_DOUBLING",
                                       "BETA_AGEGROUP[child]", "OR_AGEGROUP[child]"]
    assert {"MEDIAN", "LOWER", "UPPER", "ESS_BULK", "ESS_TAIL", "R_HAT"} <= set(s.columns)
    row = s.set_index("PARAMETER")
    np.testing.assert_allclose(row.loc["OR_DOUBLING", "MEDIAN"],
                               2 ** row.loc["BETA_LOGCSS", "MEDIAN"], rtol=1e-6)
    assert interval_covers(s, "BETA_LOGCSS", 1.5)
    assert not interval_covers(s, "BETA_LOGCSS", 0.0)
    assert crcrh_fit.converged is not None
    assert (s["ESS_BULK"] > 100).all() and (s["R_HAT"] < 1.05).all()


def test_curve_quartiles_and_regimens(crcrh_fit):
    c = crcrh_fit.curve(n_points=20)
    x = crcrh_fit.units["EXPOSURE"]
    assert c["EXPOSURE"].min() == pytest.approx(x.min()) and c["EXPOSURE"].max() == \
        pytest.approx(x.max())
    assert (c["LOWER"] <= c["MEDIAN"]).all() and (c["MEDIAN"] <= c["UPPER"]).all()
    assert c["MEDIAN"].is_monotonic_increasing  # a positive slope
    q = crcrh_fit.quartiles()
    assert q["N"].sum() == len(crcrh_fit.units) and q["QUARTILE"].tolist() == [1, 2, 3, 4]
    assert (q["LOWER"] <= q["VALUE"]).all() and (q["VALUE"] <= q["UPPER"]).all()
    assert q["N_EVENTS"].sum() == crcrh_fit.units["Y"].sum()
    r = crcrh_fit.regimens.set_index("REGIMEN")
    assert r["N_SUBJECTS"].sum() == len(crcrh_fit.units)
    # children get a lower exposure from the label regimen, hence a lower predicted response
    assert r.loc["paediatric_rr", "EXPOSURE_MEDIAN"] < r.loc["adult_rr", "EXPOSURE_MEDIAN"]
    assert (r["LOWER"] <= r["MEDIAN"]).all() and (r["MEDIAN"] <= r["UPPER"]).all()


def test_save_and_load_give_the_same_tables(crcrh_fit, tmp_path):
    path = crcrh_fit.save(tmp_path / "er.nc")
    back = load_er(path)
    assert isinstance(back, ERFit) and back.model is None
    pd.testing.assert_frame_equal(back.summary(), crcrh_fit.summary())
    pd.testing.assert_frame_equal(back.curve(n_points=10), crcrh_fit.curve(n_points=10))
    pd.testing.assert_frame_equal(back.regimens, crcrh_fit.regimens, check_dtype=False)
    assert back.terms == crcrh_fit.terms and back.converged == crcrh_fit.converged


def test_loading_a_popPK_file_is_refused(tmp_path):
    import arviz as az

    from blinapk.errors import BlinapkError

    az.from_dict(posterior={"x": np.zeros((1, 4))}).to_netcdf(str(tmp_path / "x.nc"))
    with pytest.raises(BlinapkError, match="not a blinapk exposure-response fit"):
        load_er(tmp_path / "x.nc")


def test_zero_slope_interval_covers_zero_and_the_figure_says_so():
    import matplotlib

    matplotlib.use("Agg")
    from er_truth import er_study

    from blinapk.plotting.er import effect_note, plot_er

    study = er_study(120, 7, endpoint="crcrh", slope=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_er(study.clinical, truth_exposure(study), uncertainty="plugin",
                     dataset=study.dataset, **FAST)
    s = fit.summary()
    assert interval_covers(s, "BETA_LOGCSS", 0.0)
    assert "interval covers 0" in effect_note(fit, s)
    fig = plot_er(fit)
    assert any("interval covers 0" in t.get_text() for t in fig.axes[0].texts)


def test_weibull_survival_versus_exposure():
    from er_truth import er_study

    study = er_study(120, 6, endpoint="os", slope=-1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_er(study.clinical, truth_exposure(study), endpoint="os",
                     uncertainty="plugin", dataset=study.dataset, landmark_months=6.0, **FAST)
    s = fit.summary()
    assert s["PARAMETER"].tolist() == ["INTERCEPT", "BETA_LOGCSS", "HR_DOUBLING",
                                       "WEIBULL_SHAPE"]
    assert interval_covers(s, "BETA_LOGCSS", -1.0)
    c = fit.curve(n_points=10)
    assert c["MEDIAN"].is_monotonic_increasing  # survival improves with exposure
    q = fit.quartiles()
    assert {"VALUE", "LOWER", "UPPER"} <= set(q.columns) and q["VALUE"].between(0, 1).all()


def test_cytokine_emax_with_censoring_and_episodes(il6_fit):
    s = il6_fit.summary().set_index("PARAMETER")
    assert list(s.index) == ["EMAX", "EC50", "EPISODE_RATIO", "OMEGA", "SIGMA"]
    assert s.loc["EPISODE_RATIO", "UPPER"] < 1.0  # step-up peaks are lower
    assert s.loc["EPISODE_RATIO", "LOWER"] <= 0.1 <= s.loc["EPISODE_RATIO", "UPPER"]
    assert s.loc["EC50", "UNIT"] == "pg/mL"
    units = il6_fit.units
    assert units["CENS"].sum() > 0  # step-up peaks below LLOQ enter as censored
    c = il6_fit.curve(n_points=10)
    first, step = (c[c["EPISODE"] == e]["MEDIAN"].to_numpy() for e in ("first start", "step-up"))
    np.testing.assert_allclose(step / first, s.loc["EPISODE_RATIO", "MEDIAN"], rtol=0.05)
    assert set(il6_fit.regimens["EPISODE"]) == {"start", "step-up"}


def test_imputation_mode_pools_the_imputations(crcrh_study):
    rng = np.random.default_rng(3)
    cl = crcrh_study.params["CL"].to_numpy() * np.exp(0.3 * rng.standard_normal((40, 150)))
    from blinapk.er import exposure_from_params

    expo = exposure_from_params(crcrh_study.dataset, {"CL": cl, "V": np.ones_like(cl)}, "css")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prop = fit_er(crcrh_study.clinical, expo, uncertainty="imputation", n_imputations=8,
                      dataset=crcrh_study.dataset, regimens=False, **FAST)
    assert prop.n_imputations == 8 and prop.idata.posterior.sizes["imputation"] == 8
    assert prop.convergence["rhat_group"].threshold == 1.05  # every copy gated
    slope = prop.idata.posterior["er_slope"].transpose("imputation", "chain", "draw").values
    slope = slope.reshape(8, -1)
    row = prop.summary().set_index("PARAMETER").loc["BETA_LOGCSS"]
    # the pooled posterior is the mixture of the imputations' posteriors: its variance is the
    # mean within-imputation variance plus the variance between the imputations' means
    within, between = slope.var(axis=1).mean(), slope.mean(axis=1).var()
    assert row["SD"] ** 2 == pytest.approx(within + between, rel=1e-3)
    assert between > 0.05 * within
    assert row["MEDIAN"] == pytest.approx(np.median(slope))
    assert (prop.units["EXPOSURE_UPPER"] > prop.units["EXPOSURE_LOWER"]).all()


def test_joint_model_samples_pk_and_er_together():
    from er_truth import er_study

    from blinapk.poppk import PopPKSpec

    study = er_study(30, 8, endpoint="crcrh", pk_samples=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_er(study.clinical, study.dataset, uncertainty="joint",
                     pk_spec=PopPKSpec(bsv=("CL",)), pk_options={"seed": 1}, draws=200,
                     tune=200, seed=2)
    post = fit.idata.posterior
    assert {"log_CL", "omega_CL", "er_slope", "er_exposure"} <= set(post.data_vars)
    assert fit.exposure_source == "joint" and fit.uncertainty == "joint"
    gated = fit.settings["gated"]
    assert "log_CL" in gated and "er_slope" in gated
    assert fit.regimens["MEDIAN"].notna().all()


def test_bad_requests_are_refused(crcrh_study):
    expo = truth_exposure(crcrh_study)
    with pytest.raises(ModelSpecError, match="uncertainty"):
        fit_er(crcrh_study.clinical, expo, uncertainty="bootstrap")
    with pytest.raises(ModelSpecError, match="not available for binary"):
        fit_er(crcrh_study.clinical, expo, model="weibull")
    with pytest.raises(ModelSpecError, match="joint"):
        fit_er(crcrh_study.clinical, expo, uncertainty="joint")
    with pytest.raises(ModelSpecError, match="single draw"):
        fit_er(crcrh_study.clinical, expo, uncertainty="propagated")
    with pytest.raises(ModelSpecError, match="needs event-level exposures"):
        fit_er(None, expo, endpoint="il6", dataset=crcrh_study.dataset)


def _noisy_posterior_exposure(study, noise_sd, n_draws, seed):
    """Exposure draws from the exact normal posterior of log Css given one noisy measurement.

    Prior of log Css: N(mean, sd) of the true values; measurement w = log Css + N(0, noise_sd);
    posterior N(m, v) in closed form (conjugate normal), as a PK posterior would give.
    """
    from blinapk.er import exposure_from_params

    rng = np.random.default_rng(seed)
    lx = np.log(study.params["CSS"].to_numpy())
    mu0, s0 = lx.mean(), lx.std()
    w = lx + noise_sd * rng.standard_normal(lx.size)
    v = 1.0 / (1.0 / s0**2 + 1.0 / noise_sd**2)
    m = v * (mu0 / s0**2 + w / noise_sd**2)
    draws = m + np.sqrt(v) * rng.standard_normal((n_draws, lx.size))
    cl = study.params["CL"].to_numpy() * np.exp(lx - draws)  # Css = rate / CL
    return exposure_from_params(study.dataset, {"CL": cl, "V": np.ones_like(cl)}, "css"), m, v


def test_latent_prior_is_the_normal_fit_of_the_draws(crcrh_study):
    from blinapk.er.latent import latent_prior

    expo, m, v = _noisy_posterior_exposure(crcrh_study, 0.4, 400, 4)
    prior = latent_prior(expo.draws)
    np.testing.assert_allclose(prior.mean, m, atol=4 * np.sqrt(v / 400))
    np.testing.assert_allclose(prior.sd, np.sqrt(v), rtol=0.25)
    # shrunk toward the diagonal with weight n_units / (n_units + n_draws)
    assert prior.shrinkage == pytest.approx(150 / 550)
    cov = prior.loading @ prior.loading.T
    np.testing.assert_allclose(np.diag(cov), prior.sd**2, rtol=1e-8)
    assert prior.max_abs_skew < 0.5  # normal draws


def _exact_slope_quantiles(y, m, v, ref, log_sd, qs=(0.05, 0.5, 0.95)):
    """Marginal posterior of the slope by quadrature: x_i ~ N(m_i, v) integrated out.

    Gauss-Hermite over each subject's latent log exposure, a grid over the intercept
    and the slope, the priors of ERPriors (N(0, 2.5), N(0, 2.5 / log_sd)).
    """
    gx, gw = np.polynomial.hermite_e.hermegauss(24)
    gw = gw / gw.sum()
    a_grid, b_grid = np.linspace(-3.0, 3.0, 61), np.linspace(-4.0, 12.0, 321)
    x = m[None, :, None] + np.sqrt(v) * gx[None, None, :] - ref
    lp = np.empty((a_grid.size, b_grid.size))
    for k, a in enumerate(a_grid):
        p = ((1.0 / (1.0 + np.exp(-(a + b_grid[:, None, None] * x)))) * gw).sum(-1)
        lp[k] = np.where(y == 1, np.log(p), np.log1p(-p)).sum(-1) - 0.5 * (a / 2.5) ** 2
    lp -= 0.5 * (b_grid / (2.5 / log_sd)) ** 2
    pb = np.exp(lp - lp.max()).sum(0)
    cdf = np.cumsum(pb) / pb.sum()
    return np.interp(qs, cdf, b_grid)


@pytest.mark.slow
def test_propagated_latent_exposure_matches_the_exact_posterior(crcrh_study, tmp_path):
    """Measurement-error model: the slope's posterior equals quadrature, imputation is attenuated.

    The PK posterior is an exact normal N(m_i, v) per subject (2000 draws); the latent
    exposure model must then give the marginal posterior of the slope that integrating
    the exposures out numerically gives; naive imputation gives a smaller slope.
    """
    expo, m, v = _noisy_posterior_exposure(crcrh_study, 0.3, 2000, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kw = dict(dataset=crcrh_study.dataset, regimens=False, chains=2, seed=11)
        prop = fit_er(crcrh_study.clinical, expo, uncertainty="propagated", draws=600,
                      tune=600, **kw)
        imp = fit_er(crcrh_study.clinical, expo, uncertainty="imputation", n_imputations=10,
                     draws=300, tune=300, **kw)
    assert prop.n_imputations == 1 and "er_exposure_z" in prop.settings["gated"]
    row = pd.Index(expo.units["ID"]).get_indexer(prop.units["ID"])
    y = prop.units["Y"].to_numpy()
    q05, q50, q95 = _exact_slope_quantiles(y, m[row], v, prop.log_ref, prop.log_sd)
    s_prop = prop.summary().set_index("PARAMETER").loc["BETA_LOGCSS"]
    assert s_prop["MEDIAN"] == pytest.approx(q50, abs=0.15)
    assert s_prop["LOWER"] == pytest.approx(q05, abs=0.25)
    assert s_prop["UPPER"] == pytest.approx(q95, abs=0.35)
    # the outcomes inform the exposures: responders' move up, non-responders' down
    post = np.log(prop.idata.posterior["er_exposure"].mean(("chain", "draw")).values[0])
    shift = post - m[row]
    assert shift[y == 1].mean() > 0.01 and shift[y == 0].mean() < -0.01
    # naive imputation: classical measurement error, attenuated toward 0
    s_imp = imp.summary().set_index("PARAMETER").loc["BETA_LOGCSS"]
    assert s_imp["MEDIAN"] < 0.75 * q50
    back = load_er(prop.save(tmp_path / "latent.nc"))
    assert back.uncertainty == "propagated" and back.convergence.passed == prop.converged
    pd.testing.assert_frame_equal(back.summary(), prop.summary())
