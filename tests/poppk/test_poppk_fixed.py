"""Fixed covariate effects (``CovariateSpec(fixed=...)``, CLI ``CL~WT:power@70=0.75``)."""

import warnings

import numpy as np
import pytest
from poppk_helpers import infusion_frame

from blinapk.data import read_dataset
from blinapk.errors import ModelSpecError
from blinapk.poppk import PopPKSpec, build_model, fit, model_info

WT = np.array([12.0, 35.0, 58.0, 70.0, 84.0, 110.0])


@pytest.fixture(scope="module")
def wt_dataset():
    cl = 2.0 * (WT / 70.0) ** 0.75 * np.exp([0.1, -0.2, 0.3, 0.0, -0.1, 0.2])
    frame = infusion_frame(6, cl=cl, sigma=0.15, obs_times=(1.0, 4.0, 24.0, 48.0, 100.0))
    return read_dataset(frame.assign(WT=WT[frame["ID"].to_numpy() - 1]))


def _evaluate(model, names, point):
    fn = model.compile_fn([model[n] for n in names], inputs=model.value_vars,
                          on_unused_input="ignore")
    return dict(zip(names, fn(point), strict=True))


def test_fixed_effect_is_a_constant_not_a_parameter(wt_dataset):
    model = build_model(wt_dataset, PopPKSpec(covariates=("CL~WT:power@70=0.75",)))
    info = model_info(model)
    assert "beta_CL_WT" not in [rv.name for rv in model.free_RVs]
    assert "beta_CL_WT" not in info.priors  # nothing to put a prior on
    assert "beta_CL_WT" not in info.initvals
    point = model.initial_point()
    rng = np.random.default_rng(3)
    point = {k: v + 0.2 * rng.standard_normal(np.shape(v)) for k, v in point.items()}
    v = _evaluate(model, ["beta_CL_WT", "typical", "indiv", "eta"], point)
    assert float(v["beta_CL_WT"]) == 0.75
    # CL_i = TV_CL * (WT_i / 70)^0.75 * exp(eta_i), by hand
    expected = v["typical"][0] * (WT / 70.0) ** 0.75 * np.exp(v["eta"][:, 0])
    np.testing.assert_allclose(v["indiv"][:, 0], expected, rtol=1e-10)


def test_fixed_model_likelihood_equals_estimated_model_at_that_value(wt_dataset):
    """Fixing beta = b gives the estimated model's likelihood with beta set to b."""
    fixed = build_model(wt_dataset, PopPKSpec(covariates=("CL~WT:power@70=0.75",),
                                              parameterisation="noncentered"))
    free = build_model(wt_dataset, PopPKSpec(covariates=("CL~WT:power@70",),
                                             parameterisation="noncentered"))
    point = fixed.initial_point()
    rng = np.random.default_rng(7)
    point = {k: v + 0.2 * rng.standard_normal(np.shape(v)) for k, v in point.items()}
    free_point = dict(point, beta_CL_WT=np.array(0.75))

    def loglik(model, pt_):
        fn = model.compile_fn(model.logp(vars=[model["conc"]], sum=False)[0],
                              inputs=model.value_vars, on_unused_input="ignore")
        return fn(pt_)

    np.testing.assert_allclose(loglik(fixed, point), loglik(free, free_point), rtol=1e-12)


def test_prior_on_a_fixed_effect_is_rejected(wt_dataset):
    spec = PopPKSpec(covariates=("CL~WT:power@70=1",))
    with pytest.raises(ModelSpecError, match="^beta_CL_WT: prior key not used"):
        build_model(wt_dataset, spec, priors={"beta_CL_WT": {"dist": "Normal", "mu": 1,
                                                             "sigma": 0.1}})


def test_card_does_not_override_a_fixed_effect(wt_dataset):
    """The Zhu card has CL~BSA power 0.61; fixing it at 1 keeps 1 and gets no card prior."""
    spec = PopPKSpec(covariates=("CL~BSA:power@1.88=1",))
    info = model_info(build_model(wt_dataset, spec, card="blinatumomab_zhu2020"))
    assert "beta_CL_BSA" not in info.priors
    assert info.init.beta["CL_BSA"] == 1.0


@pytest.mark.slow
def test_map_fit_reports_the_fixed_value(wt_dataset):
    spec = PopPKSpec(covariates=("CL~WT:power@70=0.75", "V~WT:power@70"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = fit(wt_dataset, spec, method="map", seed=1)
    s = result.summary().set_index("PARAMETER")
    assert s.loc["BETA_CL_WT", "MEDIAN"] == 0.75 and s.loc["BETA_CL_WT", "SD"] == 0.0
    assert "fixed" in s.loc["BETA_CL_WT", "LABEL"]
    assert "fixed" not in s.loc["BETA_V_WT", "LABEL"]
    # ratio at 20 kg vs 70 kg is (20/70)^0.75 exactly
    assert s.loc["RATIO_CL_WT@20", "MEDIAN"] == pytest.approx((20 / 70) ** 0.75, rel=1e-12)
    assert result.spec.covariates[0].fixed == 0.75
    assert PopPKSpec.from_json(result.idata.posterior.attrs["blinapk_spec"]) == result.spec
