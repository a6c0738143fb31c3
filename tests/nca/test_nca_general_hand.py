"""Hand-calculable cases for every registered parameter (arithmetic written out)."""

import math

import numpy as np
import pandas as pd
import pytest

from blinapk.nca.general import DEFAULT_REGISTRY, compute_nca
from blinapk.nca.intervals import Interval

INF = math.inf
LN2 = math.log(2.0)
MG = {"amt": "mg", "dv": "mg/L"}  # amount / concentration is already litres

# Profile A (extravascular): after tmax = 1 h the samples lie exactly on
# C = 12 * 2**(-t/2), so lambda_z = ln2/2 and the half-life is 2 h.
A_T = [0.0, 1.0, 2.0, 4.0, 8.0]
A_C = [0.0, 8.0, 6.0, 3.0, 0.75]
LAM_A = LN2 / 2


def run(t, c, params, *, start=0.0, end=INF, units=MG, **kw):
    frame = pd.DataFrame({"ID": 1, "TIME": t, "CONC": c})
    res = compute_nca(frame, Interval(start, end, tuple(params)), units=units, **kw)
    tab = res.to_frame().set_index("parameter")
    return tab


def val(tab, name):
    return tab.loc[name, "value"]


ALL_A = ("cmax", "tmax", "cmin", "clast", "tlast", "c0", "auclast", "aucall", "aucinf_obs",
         "aucinf_pred", "aucpext_obs", "aucpext_pred", "aumclast", "aumcinf_obs",
         "aumcinf_pred", "lambda_z", "lambda_z_r2", "lambda_z_adj_r2", "lambda_z_corrxy",
         "lambda_z_n", "lambda_z_time_first", "lambda_z_time_last", "clast_pred", "half_life",
         "span_ratio", "mrt_last", "mrt_inf_obs", "mrt_inf_pred", "cl_obs", "cl_pred",
         "vz_obs", "vz_pred")


@pytest.fixture(scope="module")
def lin():
    return run(A_T, A_C, ALL_A, auc_method="linear", dose=100.0)


def test_observed_parameters(lin):
    assert val(lin, "cmax") == 8.0
    assert val(lin, "tmax") == 1.0
    assert val(lin, "cmin") == 0.0
    assert val(lin, "clast") == 0.75
    assert val(lin, "tlast") == 8.0
    assert val(lin, "c0") == 0.0  # observed at the interval start


def test_linear_auc_aumc(lin):
    # AUC: 1*(0+8)/2 + 1*(8+6)/2 + 2*(6+3)/2 + 4*(3+0.75)/2 = 4 + 7 + 9 + 7.5
    assert val(lin, "auclast") == pytest.approx(27.5, rel=1e-14)
    assert val(lin, "aucall") == pytest.approx(27.5, rel=1e-14)
    # AUMC: 1*(0*0+1*8)/2 + 1*(1*8+2*6)/2 + 2*(2*6+4*3)/2 + 4*(4*3+8*0.75)/2 = 4+10+24+36
    assert val(lin, "aumclast") == pytest.approx(74.0, rel=1e-14)


def test_lambda_z_family(lin):
    # candidates after tmax: (2, 6), (4, 3), (8, 0.75) -> one fit, exact
    assert val(lin, "lambda_z") == pytest.approx(LAM_A, rel=1e-12)
    assert val(lin, "half_life") == pytest.approx(2.0, rel=1e-12)
    assert val(lin, "lambda_z_n") == 3
    assert val(lin, "lambda_z_time_first") == 2.0
    assert val(lin, "lambda_z_time_last") == 8.0
    assert val(lin, "lambda_z_r2") == pytest.approx(1.0, abs=1e-12)
    assert val(lin, "lambda_z_adj_r2") == pytest.approx(1.0, abs=1e-12)
    assert val(lin, "lambda_z_corrxy") == pytest.approx(-1.0, abs=1e-12)
    assert val(lin, "clast_pred") == pytest.approx(0.75, rel=1e-12)  # 12 * 2**-4
    assert val(lin, "span_ratio") == pytest.approx((8 - 2) / 2.0, rel=1e-12)


def test_extrapolated_and_dose_parameters(lin):
    aucinf = 27.5 + 0.75 / LAM_A  # 27.5 + 1.5/ln2 = 29.66404...
    assert val(lin, "aucinf_obs") == pytest.approx(aucinf, rel=1e-12)
    assert val(lin, "aucinf_pred") == pytest.approx(aucinf, rel=1e-12)  # Clast,pred = Clast
    assert val(lin, "aucpext_obs") == pytest.approx(100 * (aucinf - 27.5) / aucinf, rel=1e-12)
    assert val(lin, "aucpext_pred") == pytest.approx(100 * (aucinf - 27.5) / aucinf, rel=1e-12)
    aumcinf = 74.0 + 8 * 0.75 / LAM_A + 0.75 / LAM_A**2
    assert val(lin, "aumcinf_obs") == pytest.approx(aumcinf, rel=1e-12)
    assert val(lin, "aumcinf_pred") == pytest.approx(aumcinf, rel=1e-12)
    assert val(lin, "mrt_last") == pytest.approx(74.0 / 27.5, rel=1e-12)
    assert val(lin, "mrt_inf_obs") == pytest.approx(aumcinf / aucinf, rel=1e-12)
    assert val(lin, "mrt_inf_pred") == pytest.approx(aumcinf / aucinf, rel=1e-12)
    # mg and mg/L: CL/F = 100/AUCinf L/h; Vz/F = 100/(lambda_z AUCinf) L
    assert val(lin, "cl_obs") == pytest.approx(100 / aucinf, rel=1e-12)
    assert val(lin, "cl_pred") == pytest.approx(100 / aucinf, rel=1e-12)
    assert val(lin, "vz_obs") == pytest.approx(100 / (LAM_A * aucinf), rel=1e-12)
    assert val(lin, "vz_pred") == pytest.approx(100 / (LAM_A * aucinf), rel=1e-12)
    assert lin.loc["cl_obs", "PPTESTCD"] == "CLFO"
    assert lin.loc["vz_obs", "PPTESTCD"] == "VZFO"
    assert lin.loc["mrt_last", "PPTESTCD"] == "MRTEVLST"
    assert lin.loc["cl_obs", "unit"] == "L/h"
    assert lin.loc["auclast", "unit"] == "h*mg/L"
    assert lin.loc["aumclast", "unit"] == "h^2*mg/L"
    assert lin.loc["lambda_z", "unit"] == "1/h"
    assert (lin["reason"] == "").all()


def test_lin_up_log_down_auc():
    tab = run(A_T, A_C, ("auclast", "aumclast"), auc_method="lin-up/log-down")
    # up: 1*(0+8)/2 = 4; down (log): (8-6)/ln(8/6) + 2*(6-3)/ln(2) + 4*(3-0.75)/ln(4)
    expected = 4 + 2 / math.log(8 / 6) + 6 / LN2 + 9 / math.log(4)
    assert val(tab, "auclast") == pytest.approx(expected, rel=1e-13)
    # AUMC log segment: (t1 c1 - t2 c2)/k + (c1 - c2)/k**2 with k = ln(c1/c2)/(t2 - t1)
    aumc = 4.0
    for (t1, c1), (t2, c2) in [((1, 8), (2, 6)), ((2, 6), (4, 3)), ((4, 3), (8, 0.75))]:
        k = math.log(c1 / c2) / (t2 - t1)
        aumc += (t1 * c1 - t2 * c2) / k + (c1 - c2) / k**2
    assert val(tab, "aumclast") == pytest.approx(aumc, rel=1e-13)


def test_lin_log_differs_from_log_down_after_tmax_rise():
    t, c = [0.0, 1.0, 2.0, 3.0], [0.0, 10.0, 5.0, 8.0]
    # segments: 0-1 up (linear 5), 1-2 down (log 5/ln2), 2-3 up after tmax:
    #   lin-up/log-down -> linear (5+8)/2 = 6.5; lin-log -> log (5-8)/ln(5/8)
    down = run(t, c, ("auclast",), auc_method="lin-up/log-down")
    linlog = run(t, c, ("auclast",), auc_method="lin-log")
    assert val(down, "auclast") == pytest.approx(5 + 5 / LN2 + 6.5, rel=1e-13)
    assert val(linlog, "auclast") == pytest.approx(5 + 5 / LN2 - 3 / math.log(5 / 8), rel=1e-13)


def test_aucall_counts_the_triangle_to_the_first_zero():
    tab = run([*A_T, 16.0], [*A_C, 0.0], ("auclast", "aucall", "tlast", "clast"),
              auc_method="linear")
    assert val(tab, "auclast") == pytest.approx(27.5)
    assert val(tab, "aucall") == pytest.approx(27.5 + 8 * (0.75 + 0) / 2)  # + 3
    assert val(tab, "tlast") == 8.0 and val(tab, "clast") == 0.75


def test_interval_parameters_tau_cav_ctrough():
    tab = run(A_T, A_C, ("auctau", "cav", "ctrough", "aucint_last", "cmax"), end=4.0,
              auc_method="linear")
    # [0, 4]: 4 + 7 + 9 = 20; Cav = 20/4; trough = C(4) = 3
    assert val(tab, "auctau") == pytest.approx(20.0)
    assert val(tab, "aucint_last") == pytest.approx(20.0)
    assert val(tab, "cav") == pytest.approx(5.0)
    assert val(tab, "ctrough") == 3.0
    assert val(tab, "cmax") == 8.0


def test_aucint_interpolates_inside_the_profile():
    # [0, 3]: C(3) interpolated between (2, 6) and (4, 3)
    lin = run(A_T, A_C, ("aucint_last",), end=3.0, auc_method="linear")
    # linear: C(3) = 4.5; 4 + 7 + 1*(6+4.5)/2
    assert val(lin, "aucint_last") == pytest.approx(4 + 7 + 5.25)
    log = run(A_T, A_C, ("aucint_last",), end=3.0, auc_method="lin-up/log-down")
    c3 = 6 * 2 ** -0.5  # log interpolation on a log-down segment
    expected = 4 + 2 / math.log(8 / 6) + (6 - c3) / math.log(6 / c3)
    assert val(log, "aucint_last") == pytest.approx(expected, rel=1e-13)


def test_aucint_extrapolates_after_tlast():
    tab = run(A_T, A_C, ("aucint_last", "aucint_inf_obs", "aucint_inf_pred", "auctau"),
              end=12.0, auc_method="linear")
    # after tlast = 8: Clast/lambda_z * (1 - exp(-lambda_z * 4)) = (1.5/ln2) * (1 - 1/4)
    tail = 0.75 / LAM_A * (1 - math.exp(-LAM_A * 4))
    assert val(tab, "aucint_last") == pytest.approx(27.5)
    assert val(tab, "aucint_inf_obs") == pytest.approx(27.5 + tail, rel=1e-13)
    assert val(tab, "aucint_inf_pred") == pytest.approx(27.5 + tail, rel=1e-12)
    assert math.isnan(val(tab, "auctau"))
    assert tab.loc["auctau", "reason"] == "interval end is after the last measurable concentration"


def test_second_interval_uses_interval_relative_times():
    # interval [2, 8]: tmax relative to the start is 0; AUC 2*(6+3)/2 + 4*(3+0.75)/2 = 9 + 7.5
    tab = run(A_T, A_C, ("tmax", "tlast", "auclast", "ctrough"), start=2.0, end=8.0,
              auc_method="linear")
    assert val(tab, "tmax") == 0.0
    assert val(tab, "tlast") == 6.0
    assert val(tab, "auclast") == pytest.approx(16.5)
    assert val(tab, "ctrough") == 0.75


# Profile B (IV bolus): C = 8 * 2**-(t-1) at t = 1, 2, 4 -> lambda_z = ln2, C0 = 16.
B_T, B_C = [1.0, 2.0, 4.0], [8.0, 4.0, 1.0]


def test_iv_bolus_back_extrapolation_and_volumes():
    params = ("c0", "auclast", "aumclast", "lambda_z", "lambda_z_n", "aucinf_obs",
              "mrt_inf_obs", "cl_obs", "vz_obs", "vss_obs", "vss_pred")
    tab = run(B_T, B_C, params, route="iv_bolus", auc_method="linear", dose=10.0)
    # C0 = C1 * (C1/C2)**(t1/(t2-t1)) = 8 * 2 = 16
    assert val(tab, "c0") == pytest.approx(16.0, rel=1e-14)
    # AUC: 1*(16+8)/2 + 1*(8+4)/2 + 2*(4+1)/2 = 12 + 6 + 5
    assert val(tab, "auclast") == pytest.approx(23.0, rel=1e-14)
    # AUMC: 1*(0*16+1*8)/2 + 1*(1*8+2*4)/2 + 2*(2*4+4*1)/2 = 4 + 8 + 12
    assert val(tab, "aumclast") == pytest.approx(24.0, rel=1e-14)
    # the Cmax sample is a candidate for an IV bolus -> all 3 points, lambda_z = ln2
    assert val(tab, "lambda_z_n") == 3
    assert val(tab, "lambda_z") == pytest.approx(LN2, rel=1e-12)
    aucinf = 23 + 1 / LN2
    aumcinf = 24 + 4 * 1 / LN2 + 1 / LN2**2
    cl = 10 / aucinf
    assert val(tab, "aucinf_obs") == pytest.approx(aucinf, rel=1e-12)
    assert val(tab, "cl_obs") == pytest.approx(cl, rel=1e-12)
    assert val(tab, "vz_obs") == pytest.approx(cl / LN2, rel=1e-12)
    assert val(tab, "mrt_inf_obs") == pytest.approx(aumcinf / aucinf, rel=1e-12)
    assert val(tab, "vss_obs") == pytest.approx(aumcinf / aucinf * cl, rel=1e-12)
    assert val(tab, "vss_pred") == pytest.approx(aumcinf / aucinf * cl, rel=1e-12)
    assert tab.loc["cl_obs", "PPTESTCD"] == "CLO"
    assert tab.loc["vss_obs", "PPTESTCD"] == "VSSO"


def test_iv_bolus_c0_falls_back_to_first_sample_when_not_decreasing():
    tab = run([1.0, 2.0, 3.0], [4.0, 4.0, 2.0], ("c0",), route="iv_bolus")
    assert val(tab, "c0") == 4.0


def test_infusion_mrt_subtracts_half_the_duration():
    t, c = [0.0, 1.0, 2.0, 4.0, 6.0, 8.0], [0.0, 5.0, 8.0, 4.0, 2.0, 1.0]
    doses = pd.DataFrame({"ID": [1], "TIME": [0.0], "AMT": [10.0], "RATE": [5.0]})
    inf = run(t, c, ("mrt_last", "aumclast", "auclast"), route="iv_infusion", dose=doses,
              auc_method="linear")
    # duration = AMT/RATE = 2 h -> MRT = AUMC/AUC - 1
    assert val(inf, "mrt_last") == pytest.approx(
        val(inf, "aumclast") / val(inf, "auclast") - 1.0, rel=1e-14)
    assert inf.loc["mrt_last", "PPTESTCD"] == "MRTIVLST"


def test_internal_units_give_litres():
    # default units: dose ug, conc pg/mL -> CL [L/h] = 1000 * dose / AUC
    tab = run(A_T, A_C, ("cl_obs", "aucinf_obs"), units=None, dose=100.0,
              auc_method="linear")
    assert val(tab, "cl_obs") == pytest.approx(1000 * 100 / val(tab, "aucinf_obs"), rel=1e-14)
    assert tab.loc["aucinf_obs", "unit"] == "h*pg/mL"


def test_not_estimable_reasons():
    # only two samples after tmax -> lambda_z and everything after it is NaN with a reason
    tab = run([0.0, 1.0, 2.0, 3.0], [0.0, 5.0, 4.0, 3.0],
              ("lambda_z", "half_life", "aucinf_obs", "cl_obs", "auclast"), dose=1.0)
    reason = "lambda_z: fewer than 3 points after tmax with concentration > 0 (2)"
    assert math.isnan(val(tab, "lambda_z"))
    assert tab.loc["lambda_z", "reason"] == reason
    assert tab.loc["half_life", "reason"] == reason
    assert tab.loc["aucinf_obs", "reason"] == reason
    assert tab.loc["cl_obs", "reason"] == "aucinf_obs: " + reason
    assert tab.loc["auclast", "reason"] == ""


def test_not_estimable_rising_terminal_phase_and_missing_dose():
    tab = run([0.0, 1.0, 2.0, 3.0, 4.0], [0.0, 9.0, 4.0, 5.0, 6.0], ("lambda_z", "cl_obs"))
    assert tab.loc["lambda_z", "reason"] == (
        "lambda_z: no terminal fit with lambda_z > 0 near the best adjusted R2")
    tab = run(A_T, A_C, ("cl_obs", "vss_obs"))
    assert tab.loc["cl_obs", "reason"] == "no dose in the interval"
    assert tab.loc["vss_obs", "reason"] == "Vss is defined for intravascular dosing only"


def test_zero_profile():
    tab = run([0.0, 1.0, 2.0], [0.0, 0.0, 0.0], ("auclast", "clast", "mrt_last", "cmax"))
    assert val(tab, "auclast") == 0.0
    assert val(tab, "cmax") == 0.0
    assert tab.loc["clast", "reason"] == "no concentration > 0 in the interval"
    assert tab.loc["mrt_last", "reason"] == "AUC is 0"


def test_empty_interval_is_not_estimable():
    tab = run(A_T, A_C, ("cmax", "auclast"), start=20.0, end=30.0)
    assert tab["value"].isna().all()
    assert (tab["reason"] == "no samples in the interval").all()


def test_lambda_z_tie_rule_prefers_more_points():
    # exact exponential over 5 points after tmax: every candidate has adj R2 = 1,
    # so the fit with the most points (5) is chosen
    t = [0.0, 0.5, 1, 2, 3, 5, 7]
    c = [0.0, 20.0] + [16 * math.exp(-0.3 * x) for x in t[2:]]
    tab = run(t, c, ("lambda_z_n", "lambda_z", "lambda_z_time_first"))
    assert val(tab, "lambda_z_n") == 5
    assert val(tab, "lambda_z_time_first") == 1.0
    assert val(tab, "lambda_z") == pytest.approx(0.3, rel=1e-12)


def test_every_default_parameter_is_covered_here():
    covered = set(ALL_A) | {"aucint_last", "aucint_inf_obs", "aucint_inf_pred", "auctau",
                            "cav", "ctrough", "vss_obs", "vss_pred"}
    assert set(DEFAULT_REGISTRY.names) == covered
    assert np.all([DEFAULT_REGISTRY[n].cdisc_code("extravascular") for n in covered])
