"""Fisher information and the automatic centered / non-centered choice."""

import numpy as np
import pytest
from poppk_helpers import infusion_frame

from blinapk.data import read_dataset
from blinapk.poppk.build import build_model, model_info
from blinapk.poppk.design import prepare_data
from blinapk.poppk.parameterisation import choose_parameterisation, fisher_information
from blinapk.poppk.spec import PopPKSpec


def _data(obs_times, n=5):
    f = infusion_frame(n, obs_times=obs_times, hours=400.0)
    return prepare_data(read_dataset(f), PopPKSpec())


def test_steady_state_information_hand_calculated():
    # At steady state C = 1000 R / CL: d log C / d log CL = -1 and d log C / d log V = 0, so
    # each sample adds 1 / sigma^2 to I_CL and nothing to I_V.
    data = _data((100.0, 200.0, 300.0))
    info = fisher_information(data, "1cmt", {"CL": 2.0, "V": 6.0}, "proportional", 0.25, 0.0)
    np.testing.assert_allclose(info["CL"], 3 / 0.25**2, rtol=1e-6)
    np.testing.assert_allclose(info["V"], 0.0, atol=1e-6)


def test_early_sample_information_on_v_hand_calculated():
    # During the rise C = Css (1 - exp(-k t)), k = CL/V:
    # d log C / d log V = -k t e^{-kt} / (1 - e^{-kt})
    data = _data((1.0,))
    k, t = 2.0 / 6.0, 1.0
    d = -k * t * np.exp(-k * t) / (1 - np.exp(-k * t))
    info = fisher_information(data, "1cmt", {"CL": 2.0, "V": 6.0}, "proportional", 0.2, 0.0)
    np.testing.assert_allclose(info["V"], d**2 / 0.04, rtol=1e-6)


def test_choice_follows_information():
    data = _data((100.0, 200.0))
    spec = PopPKSpec()
    ch = choose_parameterisation(data, spec, {"CL": 2.0, "V": 6.0}, {"CL": 0.7, "V": 0.4},
                                 0.25, 0.0)
    assert ch["CL"].chosen == "centered" and ch["CL"].fraction_data_dominated == 1.0
    assert ch["CL"].median_ratio == pytest.approx(2 * 0.49 / 0.0625, rel=1e-4)
    assert ch["V"].chosen == "noncentered"
    # very noisy data: the prior dominates CL too
    noisy = choose_parameterisation(data, spec, {"CL": 2.0, "V": 6.0}, {"CL": 0.1, "V": 0.4},
                                    1.0, 0.0)
    assert noisy["CL"].chosen == "noncentered"
    # rich early sampling with small error: V is data-dominated
    rich = choose_parameterisation(_data((0.5, 1.0, 2.0, 3.0, 4.0)), spec,
                                   {"CL": 2.0, "V": 6.0}, {"CL": 0.7, "V": 0.7}, 0.05, 0.0)
    assert rich["V"].chosen == "centered"


def test_user_choice_and_correlated_block():
    data = _data((100.0, 200.0))
    spec = PopPKSpec(parameterisation={"CL": "noncentered"})
    ch = choose_parameterisation(data, spec, {"CL": 2.0, "V": 6.0}, {"CL": 0.7, "V": 0.4},
                                 0.25, 0.0)
    assert ch["CL"].requested == "noncentered" and ch["CL"].chosen == "noncentered"
    corr = choose_parameterisation(data, PopPKSpec(correlation=True), {"CL": 2.0, "V": 6.0},
                                   {"CL": 0.7, "V": 0.4}, 0.25, 0.0)
    assert {c.chosen for c in corr.values()} == {"noncentered"}


def test_build_reports_choice_and_variables():
    f = infusion_frame(5, obs_times=(50.0, 100.0), hours=400.0, sigma=0.1)
    model = build_model(read_dataset(f))
    info = model_info(model)
    assert info.chosen == {"CL": "centered", "V": "noncentered"}
    names = {rv.name for rv in model.free_RVs}
    assert {"phi_CL", "z_V", "omega_CL", "omega_V", "log_CL", "log_V", "sigma_prop"} <= names
    assert model.coords["obs"] == tuple(info.data.obs_row.tolist())
    forced = model_info(build_model(read_dataset(f), PopPKSpec(parameterisation="centered")))
    assert forced.chosen == {"CL": "centered", "V": "centered"}


@pytest.mark.slow
@pytest.mark.parametrize("spec", [
    PopPKSpec(correlation=True),
    PopPKSpec(correlation=True, parameterisation="centered"),
    PopPKSpec(covariates=("CL~SEX:categorical", "V~WT:exponential", "CL~AGE:linear")),
    PopPKSpec(covariates=("CL~WT:power",)),  # WT is time-varying in this frame
    PopPKSpec(structure="2cmt", bsv=("CL", "V", "Q"), residual="additive", blq="M1"),
], ids=["lkj-nc", "lkj-c", "cov-forms", "time-varying", "2cmt"])
def test_model_variants_have_finite_logp_and_gradient(spec):
    f = infusion_frame(6, obs_times=(1.0, 4.0, 24.0, 48.0), sigma=0.2, seed=3)
    f = f.assign(SEX=np.where(f["ID"] % 2 == 0, "F", "M"), AGE=30.0 + 5 * f["ID"],
                 WT=np.where(f["TIME"] >= 24.0, 72.0, 70.0) + f["ID"])
    model = build_model(read_dataset(f), spec)
    info = model_info(model)
    from pymc.initial_point import make_initial_point_fn

    point = make_initial_point_fn(model=model, overrides=dict(info.initvals),
                                  return_transformed=True, jitter_rvs=set())(0)
    assert np.isfinite(model.compile_logp()(point))
    assert np.all(np.isfinite(model.compile_dlogp()(point)))
    if spec.correlation:
        assert "corr_eta" in model.named_vars and len(set(info.chosen.values())) == 1
    if spec.covariates and spec.covariates[0].covariate == "WT":
        assert info.data.time_varying == ("WT",)
    if spec.covariates and spec.covariates[0].form == "categorical":
        # 3 F / 3 M: the tie goes to the first level seen (ID 1, "M"), the reference
        assert model.coords["level_CL_SEX"] == ("F",)
