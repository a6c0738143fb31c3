"""The population-PK builder, starting values and summary use the shared covariate forms."""

from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr
from poppk_helpers import infusion_frame

from blinapk.data import read_dataset
from blinapk.pk import covariates as forms
from blinapk.pk.covariates import LINEAR_FLOOR
from blinapk.poppk import PopPKSpec, build_model, model_info
from blinapk.poppk.summary import summarize_population

WT = np.array([12.0, 35.0, 58.0, 70.0, 84.0, 110.0])
AGE = np.array([4.0, 15.0, 30.0, 45.0, 60.0, 75.0])
SEX = np.array(["F", "M", "F", "M", "F", "M"])


@pytest.fixture(scope="module")
def cov_dataset():
    frame = infusion_frame(6, cl=2.0 * (WT / 70.0) ** 0.75, sigma=0.1,
                           obs_times=(1.0, 4.0, 24.0, 48.0))
    i = frame["ID"].to_numpy() - 1
    return read_dataset(frame.assign(WT=WT[i], AGE=AGE[i], SEX=SEX[i]))


def test_built_parameters_are_the_shared_factors(cov_dataset):
    # V~WT linear with slope 0.02 per kg at 70 kg: 1 + 0.02 * (12 - 70) < 0 -> floored
    spec = PopPKSpec(covariates=("CL~WT:power@70", "CL~AGE:exponential@45",
                                 "V~WT:linear@70=0.02", "CL~SEX:categorical@M"),
                     parameterisation="noncentered")
    model = build_model(cov_dataset, spec)
    info = model_info(model)
    point = model.initial_point()
    rng = np.random.default_rng(4)
    point = {k: v + 0.3 * rng.standard_normal(np.shape(v)) for k, v in point.items()}
    names = ["typical", "indiv", "eta", "beta_CL_WT", "beta_CL_AGE", "beta_CL_SEX"]
    fn = model.compile_fn([model[n] for n in names], inputs=model.value_vars,
                          on_unused_input="ignore")
    v = dict(zip(names, fn(point), strict=True))
    assert info.levels["CL_SEX"] == ("F",)
    cl = (v["typical"][0] * forms.factor("power", v["beta_CL_WT"], WT, 70.0)
          * forms.factor("exponential", v["beta_CL_AGE"], AGE, 45.0)
          * forms.factor("categorical", v["beta_CL_SEX"], SEX, "M", ("F",))
          * np.exp(v["eta"][:, 0]))
    vol = v["typical"][1] * forms.factor("linear", 0.02, WT, 70.0) * np.exp(v["eta"][:, 1])
    np.testing.assert_allclose(v["indiv"][:, 0], cl, rtol=1e-10)
    np.testing.assert_allclose(v["indiv"][:, 1], vol, rtol=1e-10)
    assert vol[0] == pytest.approx(v["typical"][1] * LINEAR_FLOOR * np.exp(v["eta"][0, 1]))


def test_starting_values_use_the_floored_linear_form(cov_dataset):
    spec = PopPKSpec(covariates=("V~WT:linear@70=0.02",), parameterisation="centered")
    info = model_info(build_model(cov_dataset, spec))
    # centered start = mu + the subject's conditional-mode eta, mu = log TV + covariate term
    start = info.initvals["phi_V"] - info.init.subject_eta["V"]
    term = forms.log_effect("linear", 0.02, forms.design("linear", WT, 70.0))
    np.testing.assert_allclose(start, np.log(info.init.typical["V"]) + term, rtol=1e-12)
    assert term[0] == np.log(LINEAR_FLOOR)


def _fake_fit(spec, betas):
    """A fit-like object with a hand-made posterior (2 chains x 50 draws)."""
    rng = np.random.default_rng(0)
    shape = (2, 50)
    post = {"typical": xr.DataArray(np.exp(rng.normal([0.7, 1.8], 0.05, (*shape, 2))),
                                    dims=("chain", "draw", "param"),
                                    coords={"param": list(spec.params)}),
            "sigma_prop": xr.DataArray(np.abs(rng.normal(0.2, 0.01, shape)),
                                       dims=("chain", "draw"))}
    for p in spec.bsv:
        post[f"omega_{p}"] = xr.DataArray(np.abs(rng.normal(0.3, 0.02, shape)),
                                          dims=("chain", "draw"))
    for name, draws in betas.items():
        post[f"beta_{name}"] = xr.DataArray(draws, dims=("chain", "draw"))
    idata = SimpleNamespace(posterior=xr.Dataset(post))
    return SimpleNamespace(idata=idata, spec=spec, method="nuts")


def test_summary_ratios_are_the_shared_factors():
    spec = PopPKSpec(covariates=(
        "CL~BSA:power@1.88", "CL~AGE:exponential@40", "V~CRCL:linear@100"))
    rng = np.random.default_rng(1)
    betas = {"CL_BSA": rng.normal(0.61, 0.1, (2, 50)),
             "CL_AGE": rng.normal(-0.01, 0.002, (2, 50)),
             "V_CRCL": rng.normal(0.02, 0.002, (2, 50))}
    at = {"AGE": (20.0, 80.0), "CRCL": (30.0, 150.0)}
    table = summarize_population(_fake_fit(spec, betas), effect_at=at).set_index("PARAMETER")
    assert table.loc["TV_CL", "UNIT"] == "L/h"
    assert table.loc["TV_V", "LABEL"] == "typical central volume"

    def median(name):
        return table.loc[name, "MEDIAN"]

    assert median("RATIO_CL_BSA@0.37") == np.median((0.37 / 1.88) ** betas["CL_BSA"])
    assert median("RATIO_CL_AGE@80") == np.median(np.exp(betas["CL_AGE"] * 40.0))
    # V~CRCL at 30: 1 + 0.02 * (30 - 100) < 0 for every draw -> the floor, as in the model
    assert median("RATIO_V_CRCL@30") == LINEAR_FLOOR
    assert median("RATIO_V_CRCL@150") == np.median(1.0 + betas["V_CRCL"] * 50.0)
