"""summarize() and the PP export: hand-calculated statistics and structure."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blinapk.errors import ModelSpecError
from blinapk.nca.export import PP_COLUMNS, pp_test_codes, to_pp
from blinapk.nca.general import compute_nca
from blinapk.nca.intervals import Interval
from blinapk.nca.summary import STATS, summarize


def test_hand_calculated_statistics():
    df = pd.DataFrame({"G": ["a"] * 4 + ["b"], "CSS": [100.0, 200.0, 400.0, np.nan, 50.0]})
    w = summarize(df, "CSS", by="G", units={"CSS": "pg/mL"}).wide().set_index("G")
    a = w.loc["a"]
    assert (a["N"], a["NMISS"], a["UNIT"]) == (3, 1, "pg/mL")
    assert a["MEAN"] == pytest.approx(700 / 3)
    sd = math.sqrt(((100 - 700 / 3) ** 2 + (200 - 700 / 3) ** 2 + (400 - 700 / 3) ** 2) / 2)
    assert a["SD"] == pytest.approx(sd)
    assert a["CV_PCT"] == pytest.approx(100 * sd / (700 / 3))
    assert a["GMEAN"] == pytest.approx(200.0)  # (100*200*400)^(1/3)
    s_log = np.std(np.log([100, 200, 400]), ddof=1)  # = ln 2
    assert s_log == pytest.approx(math.log(2))
    assert a["GCV_PCT"] == pytest.approx(100 * math.sqrt(math.exp(math.log(2) ** 2) - 1))
    assert (a["MEDIAN"], a["MIN"], a["MAX"]) == (200.0, 100.0, 400.0)
    b = w.loc["b"]
    assert b["N"] == 1 and np.isnan(b["SD"]) and np.isnan(b["GCV_PCT"])
    assert b["GMEAN"] == pytest.approx(50.0, rel=1e-14)


def test_geometric_stats_undefined_with_zero():
    w = summarize(pd.DataFrame({"X": [0.0, 10.0]}), "X").wide()
    assert np.isnan(w.loc[0, "GMEAN"]) and np.isnan(w.loc[0, "GCV_PCT"])
    assert w.loc[0, "MEAN"] == 5.0


def test_long_view_is_tidy_and_missing_groups_kept():
    df = pd.DataFrame({"G": ["a", None, "a"], "X": [1.0, 2.0, 3.0], "Y": [1.0, 1.0, 1.0]})
    s = summarize(df, ["X", "Y"], by=["G"])
    wide = s.wide()
    assert len(wide) == 4  # 2 groups (incl. missing) x 2 params
    long = s.long()
    assert list(long.columns) == ["G", "PARAM", "UNIT", "STAT", "VALUE"]
    assert len(long) == 4 * len(STATS)
    x_mean = long[(long["G"] == "a") & (long["PARAM"] == "X") & (long["STAT"] == "MEAN")]
    assert x_mean["VALUE"].item() == 2.0


def test_no_grouping_and_bad_column():
    w = summarize(pd.DataFrame({"X": [1.0, 3.0]}), "X").wide()
    assert w.loc[0, "N"] == 2 and w.loc[0, "MEAN"] == 2.0
    with pytest.raises(ModelSpecError):
        summarize(pd.DataFrame({"X": [1.0]}), "Y")


def test_input_not_mutated():
    df = pd.DataFrame({"G": ["a", "b"], "X": [1.0, 2.0]})
    before = df.copy()
    summarize(df, "X", by="G")
    pd.testing.assert_frame_equal(df, before)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(1e-3, 1e6), min_size=2, max_size=40))
def test_geometric_identities(xs):
    w = summarize(pd.DataFrame({"X": xs}), "X").wide().iloc[0]
    assert w["MIN"] <= w["GMEAN"] * (1 + 1e-12) and w["GMEAN"] <= w["MEAN"] * (1 + 1e-9)
    assert w["GMEAN"] <= w["MAX"] * (1 + 1e-12)
    # scaling all values by c scales GMEAN by c and leaves both CVs unchanged
    w2 = summarize(pd.DataFrame({"X": np.asarray(xs) * 7.0}), "X").wide().iloc[0]
    assert w2["GMEAN"] == pytest.approx(7.0 * w["GMEAN"], rel=1e-9)
    assert w2["GCV_PCT"] == pytest.approx(w["GCV_PCT"], rel=1e-6, abs=1e-9)
    assert w2["CV_PCT"] == pytest.approx(w["CV_PCT"], rel=1e-6, abs=1e-9)


def test_pp_export_structure_and_not_done():
    table = pd.DataFrame({"ID": [1, 2], "CYCLE": [1, 1], "DOSE_LEVEL": ["28 ug/day"] * 2,
                          "START": [168.0, 168.0], "CSS": [500.0, np.nan], "CL": [2.3, np.nan],
                          "REASON": ["", "no sample during segment"]})
    pp = to_pp(table, units={"CSS": "pg/mL", "CL": "L/h"}, studyid="MT103-211")
    assert tuple(pp.columns[: len(PP_COLUMNS)]) == PP_COLUMNS
    assert len(pp) == 4
    assert set(pp["PPTESTCD"]) == {"CAVG", "CLSS"}
    r = pp[(pp["USUBJID"] == "MT103-211-1") & (pp["PPTESTCD"] == "CAVG")].iloc[0]
    assert (r["PPSTRESN"], r["PPORRES"], r["PPORRESU"], r["PPSTAT"]) == (500.0, "500", "pg/mL", "")
    nd = pp[pp["USUBJID"] == "MT103-211-2"]
    assert nd["PPSTAT"].eq("NOT DONE").all()
    assert nd["PPREASND"].eq("no sample during segment").all()
    assert pp.groupby("USUBJID")["PPSEQ"].apply(list).tolist() == [[1, 2], [1, 2]]
    assert pp["DOMAIN"].eq("PP").all() and pp["PPCAT"].eq("BLIN").all()


def test_pp_export_keeps_censored_text():
    table = pd.DataFrame({"ID": [1], "DVID": ["BLIN"], "PEAK": [np.nan], "PEAK_TEXT": ["<LLOQ"],
                          "REASON": [""]})
    pp = to_pp(table, units={"PEAK": "pg/mL"})
    assert pp.loc[0, "PPORRES"] == "<LLOQ" and np.isnan(pp.loc[0, "PPSTRESN"])
    assert pp.loc[0, "PPSTAT"] == "" and pp.loc[0, "PPCAT"] == "BLIN"
    with pytest.raises(ModelSpecError):
        to_pp(pd.DataFrame({"ID": [1], "Q": [1.0]}))


def test_pp_export_refuses_cytokines():
    # cytokines are pharmacodynamic biomarkers: SDTM keeps them out of the PP domain
    table = pd.DataFrame({"ID": [1], "DVID": ["IL6"], "PEAK": [900.0], "REASON": [""]})
    with pytest.raises(ModelSpecError, match="biomarkers"):
        to_pp(table, units={"PEAK": "pg/mL"})


def test_pp_not_done_always_has_a_reason_and_codes_are_named():
    table = pd.DataFrame({"ID": [1, 2], "CSS": [np.nan, 400.0], "CL": [np.nan, 2.9]})
    pp = to_pp(table, units={"CSS": "pg/mL", "CL": "L/h"})
    nd = pp[pp["PPSTAT"] == "NOT DONE"]
    assert len(nd) == 2 and nd["PPREASND"].eq("not estimable").all()
    codes = pp_test_codes(pp).set_index("PPTESTCD")["ORIGIN"]
    assert codes.to_dict() == {"CAVG": "CDISC CT", "CLSS": "sponsor-defined"}


def test_pp_export_of_general_nca_has_partial_auc_intervals():
    conc = pd.DataFrame({"ID": [1] * 5, "TIME": [0.0, 1, 2, 4, 8],
                         "CONC": [0.0, 8.0, 6.0, 3.0, 0.75]})
    res = compute_nca(conc, [Interval(0, 4, ("aucint_last",)),
                             Interval(0, math.inf, ("cmax", "half_life"))], units={"dv": "ng/mL"})
    pp = to_pp(res, studyid="S")
    auc = pp[pp["PPTESTCD"] == "AUCINT"].iloc[0]
    assert (auc["PPSTINT"], auc["PPENINT"]) == ("PT0H", "PT4H")
    whole = pp[pp["PPTESTCD"] != "AUCINT"]
    assert whole["PPSTINT"].eq("").all() and whole["PPENINT"].eq("").all()
    assert pp["PPGRPID"].tolist() == [1, 2, 2] and pp["PPSEQ"].tolist() == [1, 2, 3]
    assert pp["USUBJID"].eq("S-1").all()
