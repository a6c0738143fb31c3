"""Published reference estimates for the external validation (numbers + sources).

Every number here is copied from a NONMEM output file of a public repository;
the file, commit and line are named next to it. Nothing in this module is
computed from blinapk. See docs/external_validation.md and
tests/validation/data/README.md.

NONMEM prints a final estimate and, from its covariance step, a standard
error (the ``-1000000000`` and ``-1000000001`` rows of the ``.ext`` file).
OMEGA and SIGMA are variances.
"""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "data"

#: Wald 95 % interval half-width in SEs (normal quantile).
Z95 = 1.959964
#: Relative tolerance on typical values (CL, V), in addition to the SE rule.
TV_REL_TOL = 0.10

# ---------------------------------------------------------------------------
# 1. Phenobarbital in neonates (Grasela & Donn 1985), IV bolus, real data.
#    Model "PHENOBARB SIMPLE MODEL" (ADVAN1 TRANS2, FOCE with interaction):
#      TVCL = THETA(1)*WGT;  TVV = THETA(2)*WGT;  IF (APGR < 5) TVV = TVV*(1+THETA(3))
#      CL = TVCL*EXP(ETA(1)); V = TVV*EXP(ETA(2)); Y = F + F*EPS(1)
#    Source of the estimates: pharmpy/pharmpy,
#    src/pharmpy/internals/example_models/pheno.ext (commit f16b61bc), rows
#    -1000000000 (estimates) and -1000000001 (SEs); identical to
#    tests/testdata/nonmem/pheno_real.ext / pheno_real.lst (NONMEM 7.4.2,
#    "MINIMIZATION SUCCESSFUL", OFV 586.276, 59 individuals, 155 observations,
#    744 records).
# ---------------------------------------------------------------------------
PHENO_N_RECORDS = 744
PHENO_N_OBS = 155
PHENO_N_ID = 59
PHENO_OFV = 586.27605628520962

PHENO = {
    # name: (estimate, standard error)
    "THETA_CL_PER_KG": (4.69555e-03, 2.09967e-04),   # L/h/kg
    "THETA_V_PER_KG": (9.84258e-01, 2.68946e-02),    # L/kg
    "THETA_APGR_LT5": (1.58920e-01, 8.37555e-02),    # fractional increase of V
    "OMEGA_CL": (2.93508e-02, 1.34156e-02),          # variance of ETA(1)
    "OMEGA_V": (2.79060e-02, 7.47591e-03),           # variance of ETA(2)
    "SIGMA": (1.32410e-02, 2.27991e-03),             # variance of EPS(1), proportional
}

#: NONMEM population predictions (PRED, mg/L, eta = 0, printed to 5 significant
#: digits) at the observation records of subjects 1-13, from pharmpy/pharmpy
#: src/pharmpy/internals/example_models/pheno.tab (commit f16b61bc), column PRED.
#: (ID, TIME h, PRED mg/L)
PHENO_PRED = (
    (1, 2.0, 17.970), (1, 112.5, 28.649),
    (2, 2.0, 10.063), (2, 63.5, 18.402), (2, 135.5, 25.783),
    (3, 1.5, 20.175), (3, 83.5, 26.024), (3, 134.3, 31.522),
    (4, 1.8, 20.818), (4, 59.3, 24.875), (4, 130.8, 30.558),
    (5, 2.0, 19.408), (5, 59.5, 23.344), (5, 132.0, 28.692),
    (6, 1.8, 20.146), (6, 59.3, 24.157), (6, 142.8, 30.525),
    (7, 2.0, 19.121), (7, 73.8, 23.786), (7, 165.3, 28.491),
    (8, 1.7, 20.156), (8, 73.7, 27.442), (8, 146.7, 32.454),
    (9, 1.1, 19.492), (9, 82.7, 24.665), (9, 142.1, 28.418), (9, 312.6, 13.631),
    (10, 1.2, 19.482), (10, 70.7, 24.742), (10, 142.2, 30.184),
    (11, 57.5, 38.629),
    (12, 2.0, 20.127), (12, 132.2, 32.097), (12, 302.5, 15.390),
    (13, 36.5, 20.024), (13, 169.0, 31.191),
)

# ---------------------------------------------------------------------------
# 2. Infusion_1CPT, single-dose part (SD == 1): simulated 1-h IV infusions of
#    10, 30, 60, 120 mg, 30 subjects per dose, 1-compartment, IIV 30 %,
#    proportional residual error 20 % (nlmixr2/nlmixr2data, man/Infusion_1CPT.Rd;
#    Schoemaker et al., ACOP 2016).
#    Reference fit: nlmixr2/nlmixr2test, nonmem/solved/runN012.ext
#    (commit c72caf1d): NONMEM FOCE-I, ADVAN1 TRANS2,
#      CL = EXP(THETA(1)+ETA(1)); V = EXP(THETA(2)+ETA(2));
#      Y = IPRED + IPRED*THETA(3)*EPS(1), SIGMA 1 FIX;
#    "$PROB INFUSION_1CPT_VCL SINGLE DOSE FOCE INTER (120 Ind/2276 Obs)".
#    The ODE version of the same run (nonmem/ode/runODE012.ext) gives
#    1.38639 / 4.27089 / 0.200317 / 0.0775621 / 0.0959978.
# ---------------------------------------------------------------------------
INF_N_OBS = 2276
INF_N_ID = 120
INF_OFV = 19553.2762000550

INFUSION = {
    "THETA_LOG_CL": (1.39335e00, 2.56942e-02),    # log(L/h)
    "THETA_LOG_V": (4.26940e00, 2.87167e-02),     # log(L)
    "THETA_RSV": (2.00449e-01, 3.33755e-03),      # proportional residual SD
    "OMEGA_CL": (7.74791e-02, 9.65249e-03),       # variance of ETA(1)
    "OMEGA_V": (9.59909e-02, 1.16011e-02),        # variance of ETA(2)
}

#: Simulation settings documented in nlmixr2data man/Infusion_1CPT.Rd.
INF_TRUE_CV = 30.0        # % IIV on CL and V
INF_TRUE_SIGMA = 0.20     # proportional residual error


def wald_interval(estimate: float, se: float) -> tuple[float, float]:
    """NONMEM's Wald 95 % interval ``estimate +- 1.96 SE``."""
    return estimate - Z95 * se, estimate + Z95 * se
