"""External validation of :mod:`blinapk.poppk` against published NONMEM fits (slow).

Two public data sets, each fitted with the blinapk model closest to the
published NONMEM model (NUTS, 2 chains x (1000 + 1000), fixed seed):

* phenobarbital in 59 neonates (IV bolus, real data) vs NONMEM FOCE-I
  (Pharmpy's ``pheno`` example);
* Infusion_1CPT single-dose part (120 simulated subjects, 1-h IV infusions)
  vs NONMEM FOCE-I (nlmixr2test ``runN012``) and the documented simulation
  settings.

Pre-declared acceptance rule (docs/external_validation.md), for every
parameter NONMEM estimates: the blinapk posterior median, mapped to NONMEM's
parameter, lies inside NONMEM's Wald 95 % interval (estimate +- 1.96 SE from
its covariance step); for the typical values (CL, V) it is also within 10 %
of the NONMEM estimate. The priors are the same for both data sets and are not
informed by the reference values: Normal(0, 5) on log CL and log V (a factor
~150 either way at 1 SD; the blinapk defaults are centred on blinatumomab),
blinapk defaults for everything else.

The pheno model's weight exponent 1 is fixed as in NONMEM
(``CL~WT:power@1=1``: not estimated, no prior). Pheno is fitted twice: with
blinapk's log-normal ``proportional`` error (the model of the pre-declared
comparison) and with ``proportional_linear``, NONMEM's own ``Y = F + F*EPS``;
both must pass the same rule. FOCE-I point estimates are compared with
posterior medians.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from validation_references import (
    DATA,
    INF_TRUE_CV,
    INF_TRUE_SIGMA,
    INFUSION,
    PHENO,
    TV_REL_TOL,
    wald_interval,
)

from blinapk.data import read_dataset
from blinapk.poppk import PopPKSpec, fit, parse_covariate

pytestmark = [
    pytest.mark.slow,
    # LLOQ = 0 ("no limit reported") on every row: no log(0) may be taken any more
    pytest.mark.filterwarnings("error:divide by zero encountered in log:RuntimeWarning"),
]

#: Weak location priors shared by both data sets (not centred on any reference).
WEAK_LOCATION = {"dist": "Normal", "mu": 0.0, "sigma": 5.0}
NUTS = {"draws": 1000, "tune": 1000, "chains": 2, "seed": 20240620, "progressbar": False}


def _median(summary: pd.DataFrame, name: str) -> float:
    return float(summary.set_index("PARAMETER").loc[name, "MEDIAN"])


def _check(label: str, value: float, reference: tuple[float, float], typical: bool = False):
    estimate, se = reference
    low, high = wald_interval(estimate, se)
    assert low <= value <= high, (
        f"{label}: blinapk {value:.6g} outside NONMEM {estimate:.6g} "
        f"95% CI [{low:.6g}, {high:.6g}]")
    if typical:
        assert abs(value / estimate - 1.0) <= TV_REL_TOL, (
            f"{label}: blinapk {value:.6g} differs from NONMEM {estimate:.6g} by more than 10 %")


def _converged(summary: pd.DataFrame, names: list[str]) -> None:
    table = summary.set_index("PARAMETER").loc[names]
    assert (table["R_HAT"] <= 1.02).all(), table[["R_HAT"]]
    assert (table["ESS_BULK"] >= 200).all(), table[["ESS_BULK"]]


@pytest.fixture(scope="module", params=["proportional", "proportional_linear"])
def pheno_fit(request):
    raw = pd.read_csv(DATA / "pheno.csv", na_values=".")
    raw = raw.assign(APGRLT5=(raw["APGR"] < 5).astype(int))  # NONMEM: IF (APGR.LT.5)
    units = {"amt": "mg", "dv": "mg/L", "time": "h"}  # = tests/validation/data/pheno.units.toml
    ds = read_dataset(raw, units=units)
    # TVCL = THETA(1)*WGT: exponent 1 FIXED, reference 1 kg (so TV_CL = THETA(1))
    spec = PopPKSpec(
        covariates=(parse_covariate("CL~WT:power@1=1"), parse_covariate("V~WT:power@1=1"),
                    parse_covariate("V~APGRLT5:categorical@0")),
        residual=request.param)
    priors = {"log_CL": WEAK_LOCATION, "log_V": WEAK_LOCATION}
    return fit(ds, spec, priors=priors, **NUTS)


@pytest.fixture(scope="module")
def infusion_fit():
    ds = read_dataset(DATA / "infusion_1cpt_sd.csv")
    priors = {"log_CL": WEAK_LOCATION, "log_V": WEAK_LOCATION}
    return ds, fit(ds, PopPKSpec(residual="proportional"), priors=priors, **NUTS)


def test_pheno_matches_nonmem_foce(pheno_fit):
    s = pheno_fit.summary()
    _converged(s, ["TV_CL", "TV_V", "OMEGA_CL", "OMEGA_V", "SIGMA_PROP", "RATIO_V_APGRLT5[1]"])
    assert int(pheno_fit.idata.sample_stats["diverging"].sum()) == 0
    # references at WT = 1 kg, so TV_CL = THETA(1) (L/h/kg) and TV_V = THETA(2) (L/kg)
    _check("CL per kg", _median(s, "TV_CL"), PHENO["THETA_CL_PER_KG"], typical=True)
    _check("V per kg", _median(s, "TV_V"), PHENO["THETA_V_PER_KG"], typical=True)
    _check("Apgar<5 effect on V", _median(s, "RATIO_V_APGRLT5[1]") - 1.0, PHENO["THETA_APGR_LT5"])
    _check("omega^2 CL", _median(s, "OMEGA_CL") ** 2, PHENO["OMEGA_CL"])
    _check("omega^2 V", _median(s, "OMEGA_V") ** 2, PHENO["OMEGA_V"])
    _check("sigma^2 prop", _median(s, "SIGMA_PROP") ** 2, PHENO["SIGMA"])
    # the exponents are fixed, not estimated: constants in the posterior, no prior
    assert "beta_CL_WT" not in [rv.name for rv in pheno_fit.model.free_RVs]
    assert "beta_CL_WT" not in pheno_fit.priors
    assert _median(s, "BETA_CL_WT") == 1.0 and _median(s, "BETA_V_WT") == 1.0
    print(f"\n{pheno_fit.spec.residual}:\n" + s.set_index("PARAMETER").loc[
        ["TV_CL", "TV_V", "RATIO_V_APGRLT5[1]", "OMEGA_CL", "OMEGA_V", "SIGMA_PROP"],
        ["MEDIAN", "LOWER", "UPPER", "ESS_BULK", "R_HAT"]].to_string())
    print(pheno_fit.timings)


def test_infusion_matches_nonmem_foce(infusion_fit):
    _, result = infusion_fit
    s = result.summary()
    _converged(s, ["TV_CL", "TV_V", "OMEGA_CL", "OMEGA_V", "SIGMA_PROP"])
    assert int(result.idata.sample_stats["diverging"].sum()) == 0
    print("\n" + s.set_index("PARAMETER").loc[
        ["TV_CL", "TV_V", "OMEGA_CL", "OMEGA_V", "SIGMA_PROP"],
        ["MEDIAN", "LOWER", "UPPER", "ESS_BULK", "R_HAT"]].to_string())
    print(result.timings)
    _check("log CL", math.log(_median(s, "TV_CL")), INFUSION["THETA_LOG_CL"])
    _check("log V", math.log(_median(s, "TV_V")), INFUSION["THETA_LOG_V"])
    _check("CL", _median(s, "TV_CL"), (math.exp(INFUSION["THETA_LOG_CL"][0]), math.inf),
           typical=True)
    _check("V", _median(s, "TV_V"), (math.exp(INFUSION["THETA_LOG_V"][0]), math.inf),
           typical=True)
    _check("omega^2 CL", _median(s, "OMEGA_CL") ** 2, INFUSION["OMEGA_CL"])
    _check("omega^2 V", _median(s, "OMEGA_V") ** 2, INFUSION["OMEGA_V"])
    _check("residual SD", _median(s, "SIGMA_PROP"), INFUSION["THETA_RSV"])


def test_infusion_recovers_simulation_settings(infusion_fit):
    """The 90 % CrI covers the documented IIV (30 %) and residual error (20 %)."""
    ds, result = infusion_fit
    s = result.summary().set_index("PARAMETER")
    for name in ("CV_CL", "CV_V"):
        assert s.loc[name, "LOWER"] <= INF_TRUE_CV <= s.loc[name, "UPPER"], s.loc[name]
    assert s.loc["SIGMA_PROP", "LOWER"] <= INF_TRUE_SIGMA <= s.loc["SIGMA_PROP", "UPPER"]
    # individual estimates vs the simulated individual parameters shipped in the data
    truth = ds.covariates(["CL_TRUE", "V_TRUE"])
    ind = result.individual().merge(truth, on="ID")
    for p in ("CL", "V"):
        log_ratio = np.log(ind[f"{p}_MEDIAN"] / ind[f"{p}_TRUE"])
        assert abs(float(np.exp(log_ratio.mean())) - 1.0) <= 0.10  # geometric-mean ratio
        r = np.corrcoef(np.log(ind[f"{p}_MEDIAN"]), np.log(ind[f"{p}_TRUE"]))[0, 1]
        print(f"\n{p}: geometric-mean ratio {np.exp(log_ratio.mean()):.4f}, r {r:.4f}")
        assert r >= 0.9, (p, r)
