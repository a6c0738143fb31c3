"""NUTS on small simulated populations with known truth (slow).

Each test simulates 48 subjects from known parameters with
:func:`poppk_helpers.simulated_population` (a 24-h infusion sampled 6 times
during it and 5 times in the 6 h after it, log-normal residual error 0.15,
LLOQ 50 pg/mL), fits the generating model by NUTS (2 chains x (300 warm-up +
300 draws), fixed seed) and checks that the truth lies in the 90 % credible
interval, the chains mixed (R-hat <= 1.05, bulk ESS >= 100 on the checked
parameters) and nothing diverged. Seeds were fixed before the first run.

"Truth" is the simulated sample's own value (``truth["realised"]``: typical
values at the geometric mean of the simulated random effects, their SD and
correlation, the realised female/male clearance ratio): 48 subjects identify
these, not the population values they were drawn from (the realised omega of
48 draws has a ~10 % SD around the population one). The population values
must lie in the interval too where the test says so.
"""

import warnings

import pytest
from poppk_helpers import simulated_population

from blinapk.data import read_dataset
from blinapk.poppk import PopPKSpec, fit

pytestmark = pytest.mark.slow

N_SUBJECTS = 48
NUTS = {"draws": 300, "tune": 300, "chains": 2, "progressbar": False}


def _fit(frame, spec, seed, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit(read_dataset(frame), spec, seed=seed, **NUTS, **kwargs)


def _table(result, names):
    table = result.summary(ci=0.9).set_index("PARAMETER")
    print("\n" + table.loc[names, ["MEDIAN", "LOWER", "UPPER", "ESS_BULK", "R_HAT"]].to_string())
    print({k: round(v, 1) for k, v in result.timings.items()})
    return table


def _assert_covered_and_mixed(table, truth):
    missed = {k: (v, table.loc[k, "LOWER"], table.loc[k, "UPPER"]) for k, v in truth.items()
              if not table.loc[k, "LOWER"] <= v <= table.loc[k, "UPPER"]}
    assert not missed
    checked = table.loc[list(truth)]
    assert (checked["R_HAT"] <= 1.05).all(), checked["R_HAT"]
    assert (checked["ESS_BULK"] >= 100).all(), checked["ESS_BULK"]


def test_two_compartment_recovers_cl_and_v():
    typical = {"CL": 2.2, "V": 4.0, "Q": 2.0, "V2": 8.0}
    frame, truth = simulated_population(N_SUBJECTS, 20240701, structure="2cmt", typical=typical)
    result = _fit(frame, PopPKSpec(structure="2cmt"), seed=1)
    table = _table(result, ["TV_CL", "TV_V", "TV_Q", "TV_V2", "OMEGA_CL", "OMEGA_V",
                            "SIGMA_PROP"])
    real = truth["realised"]
    _assert_covered_and_mixed(table, {k: real[k] for k in ("TV_CL", "TV_V", "OMEGA_CL",
                                                           "OMEGA_V")})
    # Q and V2 have no BSV: their population values are the sample's values
    _assert_covered_and_mixed(table, {"TV_CL": typical["CL"], "TV_V": typical["V"],
                                      "TV_Q": typical["Q"], "TV_V2": typical["V2"]})
    assert int(result.idata.sample_stats["diverging"].sum()) == 0


def test_correlated_random_effects_lkj():
    frame, truth = simulated_population(N_SUBJECTS, 20240702, omega=(0.4, 0.3), corr=0.6)
    result = _fit(frame, PopPKSpec(correlation=True), seed=2, target_accept=0.9)
    names = ["TV_CL", "TV_V", "OMEGA_CL", "OMEGA_V", "CORR_CL_V", "SIGMA_PROP"]
    table = _table(result, names)
    real = truth["realised"]
    _assert_covered_and_mixed(table, {k: real[k] for k in ("TV_CL", "TV_V", "OMEGA_CL",
                                                           "OMEGA_V", "CORR_CL_V")})
    assert table.loc["CORR_CL_V", "LOWER"] > 0.0  # the correlation is detected
    assert int(result.idata.sample_stats["diverging"].sum()) == 0
    assert "chol_eta" in result.idata.posterior


def test_categorical_covariate_recovers_known_effect():
    frame, truth = simulated_population(N_SUBJECTS, 20240703, female_cl_ratio=0.7)
    result = _fit(frame, PopPKSpec(covariates=("CL~SEX:categorical@M",)), seed=3)
    table = _table(result, ["TV_CL", "TV_V", "RATIO_CL_SEX[F]", "OMEGA_CL", "SIGMA_PROP"])
    real = truth["realised"]
    _assert_covered_and_mixed(table, {k: real[k] for k in ("TV_CL", "TV_V",
                                                           "RATIO_CL_SEX[F]")})
    _assert_covered_and_mixed(table, {"RATIO_CL_SEX[F]": 0.7})  # the population effect
    assert table.loc["RATIO_CL_SEX[F]", "UPPER"] < 1.0  # the effect is detected
    assert int(result.idata.sample_stats["diverging"].sum()) == 0
