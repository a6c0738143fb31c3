"""External reference values: Phoenix WinNonlin NCA of R's Theoph and Indometh data.

SOURCE of every number below: the "WinNonlin" column of the side-by-side tables
in "Validation of Noncompartmental Analysis Performed by NonCompart R package"
(Sungpil Han, 2018), https://github.com/asancpt/NonCompart-tests, file
``validation.md`` (Appendix A), WinNonlin 6.3/7.0 output:

* Test 1: Theoph (n=12), "Linear" (linear trapezoid), extravascular, dose 320 (mg, same
  for every subject), concentration mg/L.
* Test 2: Theoph (n=12), "Log" (linear-up/log-down), extravascular, dose 320.
* Test 3: Indometh (n=6), "Linear", IV bolus, dose 25.
* Test 4: Indometh (n=6), "Log" (linear-up/log-down), IV bolus, dose 25.

The data are R ``datasets::Theoph`` and ``datasets::Indometh`` (transcribed from
R's source, see tests/nca/data/README.md). Numbers are printed rounded to 7
decimals (and ~10 significant digits for the AUMCs), so the tolerance is half a
unit of the last printed digit; every comparison is also within 1e-6 relative.
WinNonlin's "best fit" lambda_z rule is the adjusted-R2 rule with the 1e-4
tie factor we implement; for the IV bolus it considers the Cmax sample too.
"""

import math

import numpy as np
import pandas as pd
import pytest

from blinapk.nca.general import compute_nca
from blinapk.nca.intervals import Interval

DATA = __import__("pathlib").Path(__file__).parent / "data"

THEOPH_COMMON = {  # identical in tests 1 and 2 (independent of the AUC method)
    "lambda_z_r2": [0.9999997, 0.9971954, 0.9993250, 0.9989241, 0.9986472, 0.9982413,
                    0.9986702, 0.9910124, 0.9994437, 0.9995087, 0.9999983, 0.9993968],
    "lambda_z_adj_r2": [0.9999995, 0.9957931, 0.9986499, 0.9978483, 0.9979708, 0.9978896,
                        0.9980053, 0.9887655, 0.9988873, 0.9990174, 0.9999965, 0.9987936],
    "lambda_z_corrxy": [-0.9999999, -0.9985967, -0.9996624, -0.9994619, -0.9993234,
                        -0.9991203, -0.9993349, -0.9954961, -0.9997218, -0.9997543,
                        -0.9999991, -0.9996984],
    "lambda_z_n": [3, 4, 3, 3, 4, 7, 4, 6, 3, 3, 3, 3],
    "lambda_z": [0.0484570, 0.1040864, 0.1024443, 0.0992870, 0.0866189, 0.0877957,
                 0.0883365, 0.0814505, 0.0824586, 0.0749598, 0.0954586, 0.1102595],
    "lambda_z_time_first": [9.05, 7.03, 9.00, 9.02, 7.02, 2.03, 6.98, 3.53, 8.80, 9.38,
                            9.03, 9.03],
    "lambda_z_time_last": [24.37, 24.30, 24.17, 24.65, 24.35, 23.85, 24.22, 24.12, 24.43,
                           23.70, 24.08, 24.15],
    "half_life": [14.3043776, 6.6593416, 6.7660874, 6.9812467, 8.0022640, 7.8949979,
                  7.8466683, 8.5100379, 8.4059988, 9.2469158, 7.2612365, 6.2865082],
    "tmax": [1.12, 1.92, 1.02, 1.07, 1.00, 1.15, 3.48, 2.02, 0.63, 3.55, 0.98, 3.52],
    "cmax": [10.50, 8.33, 8.20, 8.60, 11.40, 6.44, 7.09, 7.56, 9.03, 10.21, 8.00, 9.75],
    "tlast": [24.37, 24.30, 24.17, 24.65, 24.35, 23.85, 24.22, 24.12, 24.43, 23.70, 24.08,
              24.15],
    "clast": [3.28, 0.90, 1.05, 1.15, 1.57, 0.92, 1.15, 1.25, 1.12, 2.42, 0.86, 1.17],
}

THEOPH_LINEAR = {
    "auclast": [148.9230500, 91.5268000, 99.2865000, 106.7963000, 121.2944000, 73.7755500,
                90.7534000, 88.5599500, 86.3261500, 138.3681000, 80.0936000, 119.9775000],
    "aucall": [148.9230500, 91.5268000, 99.2865000, 106.7963000, 121.2944000, 73.7755500,
               90.7534000, 88.5599500, 86.3261500, 138.3681000, 80.0936000, 119.9775000],
    "aucinf_obs": [216.6119330, 100.1734591, 109.5359707, 118.3788814, 139.4197778,
                   84.2544183, 103.7718018, 103.9066868, 99.9087179, 170.6520606, 89.1027449,
                   130.5888316],
    "aucpext_obs": [31.2489169, 8.6316867, 9.3571734, 9.7843309, 13.0005786, 12.4371737,
                    12.5452209, 14.7697297, 13.5949777, 18.9180022, 10.1109623, 8.1257573],
    "vz_obs": [30.4867482, 30.6904416, 28.5170999, 27.2259641, 26.4979946, 43.2597345,
               34.9084408, 37.8105081, 38.8427934, 25.0155401, 37.6221852, 22.2242936],
    "cl_obs": [1.4772963, 3.1944589, 2.9214147, 2.7031849, 2.2952267, 3.7980204, 3.0836894,
               3.0796863, 3.2029237, 1.8751605, 3.5913596, 2.4504393],
    "aucinf_pred": [216.6149558, 100.0643176, 109.5857218, 118.4435586, 139.2546304,
                    84.4966986, 103.8931470, 103.6430515, 99.8660677, 170.5679125, 89.1007190,
                    130.6390680],
    "aucpext_pred": [31.2498763, 8.5320300, 9.3983245, 9.8335939, 12.8974027, 12.6882455,
                     12.6473664, 14.5529307, 13.5580763, 18.8780012, 10.1089184, 8.1610870],
    "vz_pred": [30.4863228, 30.7239161, 28.5041534, 27.2110972, 26.5294196, 43.1356944,
                34.8676684, 37.9066862, 38.8593822, 25.0278813, 37.6230406, 22.2157473],
    "cl_pred": [1.4772757, 3.1979432, 2.9200884, 2.7017088, 2.2979487, 3.7871302, 3.0800877,
                3.0875201, 3.2042916, 1.8760856, 3.5914413, 2.4494970],
    "aumclast": [1459.0711040, 706.5865660, 803.1858700, 901.0842105, 1017.1143170,
                 609.1523875, 782.4198600, 739.5345980, 705.2296255, 1278.1800420, 617.2422125,
                 977.8807235],
    "aumcinf_obs": [4505.5348190, 999.7722880, 1150.9647690, 1303.2524010, 1667.7216120,
                    978.4284857, 1245.0984080, 1298.1157550, 1201.7715380, 2473.9934270,
                    928.5599714, 1330.3840020],
    "aumcinf_pred": [4505.6708650, 996.0715835, 1152.6528900, 1305.4981090, 1661.7936740,
                     986.9664597, 1249.4110600, 1288.5201160, 1200.2123600, 2470.8765420,
                     928.4899636, 1332.0528340],
    "mrt_last": [9.7974834, 7.7199964, 8.0895778, 8.4374104, 8.3855010, 8.2568329, 8.6213834,
                 8.3506664, 8.1693627, 9.2375341, 7.7065110, 8.1505343],
    "mrt_inf_obs": [20.8000305, 9.9804109, 10.5076420, 11.0091630, 11.9618725, 11.6127855,
                    11.9984272, 12.4930916, 12.0286954, 14.4972959, 10.4212274, 10.1875787],
}

THEOPH_LOG = {
    "auclast": [147.2347485, 88.7312755, 95.8781978, 102.6336232, 118.1793538, 71.6970150,
                87.9692274, 86.8065635, 83.9374360, 135.5760701, 77.8934723, 115.2202082],
    "aucinf_obs": [214.9236316, 97.3779346, 106.1276685, 114.2162046, 136.3047316, 82.1758833,
                   100.9876292, 102.1533003, 97.5200039, 167.8600307, 86.9026173,
                   125.8315397],
    "aucpext_obs": [31.4943883, 8.8794850, 9.6576801, 10.1409266, 13.2976879, 12.7517562,
                    12.8910857, 15.0232413, 13.9279813, 19.2326669, 10.3669432, 8.4329665],
    "vz_obs": [30.7262325, 31.5715024, 29.4329299, 28.2182304, 27.1035677, 44.3539348,
               35.8708471, 38.4594978, 39.7942323, 25.4316257, 38.5746722, 23.0645237],
    "cl_obs": [1.4889010, 3.2861654, 3.0152363, 2.8017040, 2.3476808, 3.8940865, 3.1687049,
               3.1325469, 3.2813780, 1.9063502, 3.6822827, 2.5430826],
    "aucinf_pred": [214.9266543, 97.2687931, 106.1774195, 114.2808818, 136.1395842,
                    82.4181636, 101.1089745, 101.8896649, 97.4773537, 167.7758826, 86.9005913,
                    125.8817762],
    "cl_pred": [1.4888800, 3.2898527, 3.0138235, 2.8001184, 2.3505287, 3.8826393, 3.1649020,
                3.1406522, 3.2828138, 1.9073063, 3.6823685, 2.5420677],
    "aumclast": [1499.1290850, 716.2787279, 810.8726830, 911.7828093, 1038.8799840,
                 618.6659191, 795.6267785, 756.3619816, 723.3794155, 1306.7406150, 626.6357849,
                 982.6343023],
    "aumcinf_obs": [4545.5928010, 1009.4644500, 1158.6515820, 1313.9510000, 1689.4872800,
                    987.9420173, 1258.3053270, 1314.9431380, 1219.9213280, 2502.5540000,
                    937.9535438, 1335.1375810],
    "mrt_last": [10.1818973, 8.0724494, 8.4573209, 8.8838607, 8.7907063, 8.6288937, 9.0443761,
                 8.7131889, 8.6180785, 9.6384311, 8.0447792, 8.5283156],
    "mrt_inf_obs": [21.1498045, 10.3664599, 10.9175260, 11.5040681, 12.3949276, 12.0222866,
                    12.4599947, 12.8722531, 12.5094471, 14.9085758, 10.7931564, 10.6105161],
    "mrt_inf_pred": [21.1501401, 10.3400455, 10.9283095, 11.5172082, 12.3664205, 12.0905386,
                     12.4876944, 12.8113828, 12.4989252, 14.8974756, 10.7926025, 10.6195388],
}

INDOMETH_COMMON = {
    "lambda_z_r2": [0.9970667, 0.9476691, 0.8758261, 0.8728249, 0.8752442, 0.9039538],
    "lambda_z_adj_r2": [0.9941335, 0.9401933, 0.8603043, 0.8586943, 0.8544516, 0.8902329],
    "lambda_z_n": [3, 9, 10, 11, 8, 9],
    "lambda_z": [0.1583205, 0.3022800, 0.4218926, 0.4554455, 0.2527478, 0.3535205],
    "lambda_z_time_first": [5.0, 0.75, 0.5, 0.25, 1.0, 0.75],
    "half_life": [4.3781270, 2.2930632, 1.6429468, 1.5219104, 2.7424461, 1.9606986],
    "c0": [2.3936170, 2.5281595, 4.9653691, 2.4622302, 4.0408654, 3.7056250],
    "cmax": [1.50, 2.03, 2.72, 1.85, 2.05, 2.31],
    "clast": [0.05, 0.08, 0.08, 0.07, 0.06, 0.09],
}

INDOMETH_LINEAR = {
    "auclast": [2.0404521, 3.2485199, 3.5544211, 2.7852788, 2.4588582, 3.3357031],
    "aucinf_obs": [2.3562672, 3.5131752, 3.7440428, 2.9389745, 2.6962490, 3.5902852],
    "vz_obs": [67.0159780, 23.5413171, 15.8269504, 18.6770303, 36.6853493, 19.6968341],
    "cl_obs": [10.6100020, 7.1160698, 6.6772740, 8.5063686, 9.2721407, 6.9632351],
    "aucinf_pred": [2.3578369, 3.4958268, 3.6491670, 2.8554521, 2.6549884, 3.4947956],
    "vz_pred": [66.9713647, 23.6581437, 16.2384403, 19.2233361, 37.2554675, 20.2350180],
    "cl_pred": [10.6029388, 7.1513841, 6.8508786, 8.7551811, 9.4162369, 7.1534941],
    "aumclast": [3.2712500, 6.3987500, 5.0062500, 4.3818750, 3.7075000, 5.5325000],
    "aumcinf_obs": [7.7925545, 9.3915223, 6.9726784, 5.9489028, 6.5458663, 8.2892908],
    "aumcinf_pred": [7.8150259, 9.1953427, 5.9887901, 5.0973376, 6.0525342, 7.2552635],
    "mrt_last": [1.6031986, 1.9697432, 1.4084572, 1.5732267, 1.5078137, 1.6585709],
    "mrt_inf_obs": [3.3071607, 2.6732291, 1.8623394, 2.0241424, 2.4277678, 2.3088112],
    "mrt_inf_pred": [3.3144897, 2.6303771, 1.6411390, 1.7851245, 2.2796838, 2.0760194],
    "vss_obs": [35.0889819, 19.0228851, 12.4353504, 17.2181012, 22.5106044, 16.0767951],
    "vss_pred": [35.1433309, 18.8108371, 11.2432438, 15.6290886, 21.4660427, 14.8507925],
}

INDOMETH_LOG = {
    "auclast": [2.0098984, 3.2028878, 3.4743971, 2.7483832, 2.3983736, 3.2908266],
    "aucinf_obs": [2.3257135, 3.4675431, 3.6640188, 2.9020789, 2.6357645, 3.5454087],
    "aucpext_obs": [13.5792780, 7.6323571, 5.1752381, 5.2960545, 9.0065258, 7.1806138],
    "vz_obs": [67.8963898, 23.8511160, 16.1726192, 18.9144805, 37.5271908, 19.9461495],
    "cl_obs": [10.7493892, 7.2097158, 6.8231092, 8.6145142, 9.4849143, 7.0513732],
}


def _run(path, *, route, method, dose, time, n):
    data = pd.read_csv(DATA / path)
    params = tuple(dict.fromkeys(
        [*THEOPH_COMMON, *THEOPH_LINEAR, *THEOPH_LOG, *INDOMETH_COMMON, *INDOMETH_LINEAR]
    ))
    if route != "iv_bolus":
        params = tuple(p for p in params if not p.startswith(("vss", "c0")))
    result = compute_nca(data, Interval(0, math.inf, params), dose=dose, route=route,
                         auc_method=method, groups=["Subject"], time=time, conc="conc",
                         units={"amt": "mg", "dv": "mg/L"})
    wide = result.wide().sort_values("Subject")
    assert wide["Subject"].tolist() == list(range(1, n + 1))
    return wide


def _check(wide, expected):
    for name, ref in expected.items():
        got = wide[name].to_numpy(dtype=float)
        ref = np.asarray(ref, dtype=float)
        # half a unit of the 7th decimal, or of the 10th significant digit (large AUMCs)
        tol = 5.01e-8 + 5e-10 * np.abs(ref)
        assert np.all(np.abs(got - ref) <= tol), (name, got - ref)
        assert np.allclose(got, ref, rtol=1e-6, atol=0), name


@pytest.fixture(scope="module")
def theoph_linear():
    return _run("theoph.csv", route="extravascular", method="linear", dose=320, time="Time",
                n=12)


@pytest.fixture(scope="module")
def theoph_log():
    return _run("theoph.csv", route="extravascular", method="lin-up/log-down", dose=320,
                time="Time", n=12)


def test_theoph_linear_matches_winnonlin(theoph_linear):
    _check(theoph_linear, THEOPH_COMMON)
    _check(theoph_linear, THEOPH_LINEAR)


def test_theoph_lin_up_log_down_matches_winnonlin(theoph_log):
    _check(theoph_log, THEOPH_COMMON)
    _check(theoph_log, THEOPH_LOG)


def test_theoph_vss_not_defined_for_oral():
    data = pd.read_csv(DATA / "theoph.csv")
    res = compute_nca(data, Interval(0, math.inf, ("vss_obs", "cl_obs")), dose=320,
                      groups=["Subject"], time="Time", conc="conc").to_frame()
    vss = res[res.parameter == "vss_obs"]
    assert vss["value"].isna().all()
    assert (vss["reason"] == "Vss is defined for intravascular dosing only").all()
    assert set(res[res.parameter == "cl_obs"]["PPTESTCD"]) == {"CLFO"}


def test_indometh_iv_bolus_linear_matches_winnonlin():
    wide = _run("indometh.csv", route="iv_bolus", method="linear", dose=25, time="time", n=6)
    _check(wide, INDOMETH_COMMON)
    _check(wide, INDOMETH_LINEAR)


def test_indometh_iv_bolus_log_matches_winnonlin():
    wide = _run("indometh.csv", route="iv_bolus", method="log-down", dose=25, time="time", n=6)
    _check(wide, INDOMETH_COMMON)
    _check(wide, INDOMETH_LOG)


def test_theoph_data_file_is_r_datasets_theoph():
    # shape and spot values of R datasets::Theoph (132 rows, 12 x 11 samples)
    data = pd.read_csv(DATA / "theoph.csv")
    assert data.shape == (132, 5)
    assert data.groupby("Subject").size().eq(11).all()
    assert data.loc[0].tolist() == [1, 79.6, 4.02, 0.0, 0.74]
    # per-subject Cmax/Tmax/Clast/Tlast are checked against WinNonlin above
