"""External reference values: Phoenix WinNonlin NCA of R's Indometh data as a 0.25-h IV infusion.

SOURCE of every number: ``tests/nca/data/indometh_infusion_winnonlin.csv``, the
"WinNonlin" column of the side-by-side tables of "Validation of Noncompartmental
Analysis Performed by NonCompart R package" (Sungpil Han, 2018), repository
https://github.com/asancpt/NonCompart-tests, file ``validation.md`` at commit
87e95efd5f3e3bd3e71282a4bca8dcb0e74e7294, Appendix A (WinNonlin 6.3/7.0 output,
compared there with NonCompart 0.4.2):

* Test 5: Indometh (n=6), "Linear" (linear trapezoid), IV infusion of 0.25 h,
  dose 25 (mg), concentration mg/L.
* Test 6: Indometh (n=6), "Log" (linear-up/log-down), IV infusion of 0.25 h, dose 25.

The report's raw WinNonlin files (``Final_Parameters_Pivoted_Indometh_*_Infusion.csv``)
are linked from it; the numbers were copied from the report tables, one row of the
CSV per subject and parameter, with the source in the ``source`` column. The data
are R ``datasets::Indometh`` (``tests/nca/data/indometh.csv``, see the README there).

What an infusion changes with respect to the IV bolus tests
(test_nca_general_reference.py): the concentration at the start of the infusion is
0 (no back-extrapolated C0: AUC starts with the triangle 0 -> 0.25 h), the Cmax sample
(t = 0.25 h) is not a lambda_z candidate (subject 4 then uses 10 points instead of
11), and MRT is AUMC/AUC minus half the infusion duration (0.125 h).

Tolerance: the report prints every value with 7 decimals, so a value agrees when it
is within half a unit of the 7th decimal (ATOL; 0.01e-8 of slack for the binary
representation) and, as a second independent bound, within RTOL relative. Nothing is
fitted or tuned: the options are WinNonlin's (adjusted-R2 "best fit" lambda_z with a
1e-4 tie factor, at least 3 points), which are blinapk's defaults.
"""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from blinapk.nca.general import compute_nca
from blinapk.nca.intervals import Interval

DATA = Path(__file__).parent / "data"
REFERENCE = DATA / "indometh_infusion_winnonlin.csv"
SOURCE = ("asancpt/NonCompart-tests@87e95efd5f3e3bd3e71282a4bca8dcb0e74e7294:validation.md"
          " Appendix A Test {test}")

DOSE = 25.0         # mg, every subject (as in the report)
DURATION = 0.25     # h, infusion duration (the report's "IV Infusion (0.25hr)")
ATOL = 5.01e-8      # half a unit of the 7th (last printed) decimal
RTOL = 1e-6         # independent relative bound: rounding to 7 decimals is <= 6.2e-7
                    # relative for every rounded reference value (smallest 0.0814072)

TESTS = {5: "linear", 6: "lin-up/log-down"}   # report test number -> blinapk auc_method

# WinNonlin / CDISC code of the reference -> blinapk parameter (same PPTESTCD for
# route="iv_infusion"; checked below).
PARAMETERS = {
    "R2": "lambda_z_r2", "R2ADJ": "lambda_z_adj_r2", "CORRXY": "lambda_z_corrxy",
    "LAMZNPT": "lambda_z_n", "LAMZ": "lambda_z", "LAMZLL": "lambda_z_time_first",
    "LAMZUL": "lambda_z_time_last", "LAMZHL": "half_life", "TMAX": "tmax", "CMAX": "cmax",
    "TLST": "tlast", "CLST": "clast", "AUCLST": "auclast", "AUCALL": "aucall",
    "AUCIFO": "aucinf_obs", "AUCPEO": "aucpext_obs", "VZO": "vz_obs", "CLO": "cl_obs",
    "AUCIFP": "aucinf_pred", "AUCPEP": "aucpext_pred", "VZP": "vz_pred", "CLP": "cl_pred",
    "AUMCLST": "aumclast", "AUMCIFO": "aumcinf_obs", "AUMCIFP": "aumcinf_pred",
    "MRTIVLST": "mrt_last", "MRTIVIFO": "mrt_inf_obs", "MRTIVIFP": "mrt_inf_pred",
    "VSSO": "vss_obs", "VSSP": "vss_pred",
}

# Reference parameters blinapk has no registry entry for: computed here from blinapk
# outputs with WinNonlin's definitions (dose-normalised values, % of AUMC extrapolated).
DERIVED = {
    "CMAXD": lambda w: w["cmax"] / DOSE,
    "AUCIFOD": lambda w: w["aucinf_obs"] / DOSE,
    "AUCIFPD": lambda w: w["aucinf_pred"] / DOSE,
    "AUMCPEO": lambda w: 100 * (w["aumcinf_obs"] - w["aumclast"]) / w["aumcinf_obs"],
    "AUMCPEP": lambda w: 100 * (w["aumcinf_pred"] - w["aumclast"]) / w["aumcinf_pred"],
}


def _reference(test: int) -> pd.DataFrame:
    ref = pd.read_csv(REFERENCE)
    return ref[ref["test"] == test]


def _dose_records(kind: str) -> pd.DataFrame:
    rec = pd.DataFrame({"Subject": range(1, 7), "TIME": 0.0, "AMT": DOSE})
    if kind == "rate":
        return rec.assign(RATE=DOSE / DURATION)       # 100 mg/h -> 0.25 h
    return rec.assign(DURATION=DURATION)


def _run(method: str, dose_spec: str = "scalar") -> pd.DataFrame:
    data = pd.read_csv(DATA / "indometh.csv")
    if dose_spec == "scalar":
        dose, duration = DOSE, DURATION
    else:
        dose, duration = _dose_records(dose_spec), None
    params = tuple(dict.fromkeys(
        [*PARAMETERS.values(), "aumclast", "aumcinf_obs", "aumcinf_pred"]))
    result = compute_nca(data, Interval(0, math.inf, params), dose=dose, duration=duration,
                         route="iv_infusion", auc_method=method, groups=["Subject"],
                         time="time", conc="conc", units={"amt": "mg", "dv": "mg/L"})
    return result.to_frame()


@pytest.fixture(scope="module", params=sorted(TESTS))
def case(request):
    test = request.param
    return test, _run(TESTS[test]), _reference(test)


def _wide(long: pd.DataFrame) -> pd.DataFrame:
    wide = long.pivot(index="Subject", columns="parameter", values="value").sort_index()
    assert wide.index.tolist() == list(range(1, 7))
    return wide


def _compare(got, ref, code: str, test: int):
    got = np.asarray(got, dtype=float)
    ref = np.asarray(ref, dtype=float)
    assert np.all(np.abs(got - ref) <= ATOL), (test, code, got - ref)
    assert np.allclose(got, ref, rtol=RTOL, atol=0), (test, code, got / ref - 1)


def test_every_reference_parameter_is_compared():
    ref = pd.read_csv(REFERENCE)
    assert set(ref["PPTESTCD"]) == set(PARAMETERS) | set(DERIVED)


def test_reference_file_layout_and_source():
    ref = pd.read_csv(REFERENCE)
    codes = len(PARAMETERS) + len(DERIVED)
    assert len(ref) == 2 * 6 * codes
    for test, part in ref.groupby("test"):
        assert part.groupby("PPTESTCD")["Subject"].apply(sorted).map(
            lambda s: s == list(range(1, 7))).all()
        assert (part["source"] == SOURCE.format(test=test)).all()
        assert set(part["down"]) == {"Linear" if test == 5 else "Log"}


def test_indometh_data_file():
    data = pd.read_csv(DATA / "indometh.csv")
    assert data.shape == (66, 3)
    assert data.groupby("Subject").size().eq(11).all()
    assert data["time"].min() == DURATION   # first sample at the end of the infusion


def test_infusion_matches_winnonlin(case):
    test, long, ref = case
    wide = _wide(long)
    for code, name in PARAMETERS.items():
        expected = ref[ref["PPTESTCD"] == code].sort_values("Subject")["WinNonlin"]
        _compare(wide[name], expected, code, test)
        # blinapk labels the infusion results with the same CDISC code as WinNonlin
        assert set(long.loc[long["parameter"] == name, "PPTESTCD"]) == {code}


def test_infusion_derived_parameters_match_winnonlin(case):
    test, long, ref = case
    wide = _wide(long)
    for code, derive in DERIVED.items():
        expected = ref[ref["PPTESTCD"] == code].sort_values("Subject")["WinNonlin"]
        _compare(derive(wide), expected, code, test)


@pytest.mark.parametrize("dose_spec", ["rate", "duration"])
def test_dose_records_give_the_same_infusion_results(dose_spec):
    # the infusion duration taken from dose records (AMT/RATE, or DURATION) instead
    # of the duration= argument: same WinNonlin values
    for test, method in TESTS.items():
        wide = _wide(_run(method, dose_spec))
        ref = _reference(test)
        for code in ("AUCLST", "AUCIFO", "CLO", "MRTIVLST", "MRTIVIFO", "VSSO", "LAMZNPT"):
            expected = ref[ref["PPTESTCD"] == code].sort_values("Subject")["WinNonlin"]
            _compare(wide[PARAMETERS[code]], expected, code, test)


def test_reference_discriminates_infusion_from_bolus():
    # The comparison is sensitive to the infusion rules: as an IV bolus (C0
    # back-extrapolated, Cmax sample a lambda_z candidate, no MRT correction) the same
    # data miss the WinNonlin infusion values by far more than the tolerance.
    data = pd.read_csv(DATA / "indometh.csv")
    params = ("auclast", "lambda_z_n", "mrt_last")
    bolus = _wide(compute_nca(data, Interval(0, math.inf, params), dose=DOSE,
                              route="iv_bolus", auc_method="linear", groups=["Subject"],
                              time="time", conc="conc").to_frame())
    ref = _reference(5).set_index(["PPTESTCD", "Subject"])["WinNonlin"]
    assert bolus.loc[4, "lambda_z_n"] == 11 and ref[("LAMZNPT", 4)] == 10
    assert (bolus["auclast"] - ref["AUCLST"].sort_index().to_numpy()).min() > 0.1
    assert np.abs(bolus["mrt_last"] - ref["MRTIVLST"].sort_index().to_numpy()).min() > 1e-3
