"""Parameter recovery on a simulated trial with known truth (slow).

Data: blinapk.simulate.simulate_trial (Zhu 2020 card: CL 2.22 L/h at BSA 1.88
m2, V 5.98 L, BSA exponent 0.61, omega CL 0.7 / V 0.4, combined residual error
0.25 + 10 pg/mL), fitted with the generating model (1-cmt, CL~BSA power,
combined error, M3). The truth is read from the trial's settings, not typed in.
"""

import warnings

import pytest

from blinapk.data import read_dataset
from blinapk.poppk import PopPKSpec, fit
from blinapk.simulate import simulate_trial

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trial_fit():
    trial = simulate_trial(150, seed=20240611, cytokines=False)
    ds = read_dataset(trial.data)
    spec = PopPKSpec(covariates=("CL~BSA:power@1.88",), residual="combined")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = fit(ds, spec, draws=500, tune=500, chains=2, seed=1, progressbar=False)
    return trial, result


def test_every_population_parameter_covered_by_90pct_interval(trial_fit):
    trial, result = trial_fit
    n = trial.settings["card_numbers"]
    truth = {"TV_CL": n["typical.CL"], "TV_V": n["typical.V"], "OMEGA_CL": n["omega.CL"],
             "OMEGA_V": n["omega.V"], "BETA_CL_BSA": n["covariates.CL.BSA.value"],
             "SIGMA_PROP": n["residual.prop"], "SIGMA_ADD": n["residual.add"]}
    table = result.summary(ci=0.9).set_index("PARAMETER")
    print("\n" + table.loc[list(truth), ["MEDIAN", "LOWER", "UPPER", "ESS_BULK",
                                         "R_HAT"]].to_string())
    print(result.timings)
    missed = {k: (v, table.loc[k, "LOWER"], table.loc[k, "UPPER"]) for k, v in truth.items()
              if not table.loc[k, "LOWER"] <= v <= table.loc[k, "UPPER"]}
    assert not missed


def test_recovery_fit_has_no_divergences(trial_fit):
    _, result = trial_fit
    assert result.convergence["divergences"].value == 0


def test_design_based_variances_are_near_the_posterior_ones(trial_fit):
    """The warm-up's first mass matrix (blinapk.poppk.variances) against the fitted posterior.

    Every unconstrained variable of the model but the folded additive SD
    (which keeps the identity) gets an estimate, and each is within a factor
    of 3 of the posterior SD (median over subjects for the per-subject
    effects): the identity it replaces is off by up to 60x here.
    """
    import numpy as np

    from blinapk.poppk import model_info
    from blinapk.poppk.variances import approximate_variances

    _, result = trial_fit
    model = result.model
    approx = approximate_variances(model_info(model))
    post = result.idata.posterior
    from blinapk.poppk.build import SIGMA_ADD_FOLDED

    assert sorted(approx) == sorted(v.name for v in model.value_vars
                                    if v.name != SIGMA_ADD_FOLDED)
    ratios = {}
    for name, var in approx.items():
        # the posterior keeps log-transformed variables on their natural scale
        values = (post[name].values if name in post
                  else np.log(post[name.removesuffix("_log__")].values))
        sd = values.reshape(-1, *values.shape[2:]).std(axis=0)
        ratios[name] = float(np.median(np.sqrt(var) / sd))
    print(ratios)
    assert all(1 / 3 < r < 3 for r in ratios.values()), ratios
