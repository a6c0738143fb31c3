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


def test_propagated_pools_the_imputations(crcrh_study):
    rng = np.random.default_rng(3)
    cl = crcrh_study.params["CL"].to_numpy() * np.exp(0.3 * rng.standard_normal((40, 150)))
    from blinapk.er import exposure_from_params

    expo = exposure_from_params(crcrh_study.dataset, {"CL": cl, "V": np.ones_like(cl)}, "css")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prop = fit_er(crcrh_study.clinical, expo, uncertainty="propagated", n_imputations=8,
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
