"""Cytokine peaks on a hand-made dataset: every number is hand-calculable."""

import numpy as np
import pandas as pd
import pytest

from blinapk.data import read_dataset
from blinapk.errors import ModelSpecError
from blinapk.nca.cytokines import compute_cytokine_peaks, dose_events

R9, R28 = 9 / 24, 28 / 24


def _dataset(extra_obs=()):
    doses = [(0.0, 63.0, R9), (168.0, 588.0, R28)]
    il6 = [  # (TIME, DV, CENS)
        (0.0, 10.0, 1),     # baseline <LOD
        (2.0, 300.0, 0),
        (6.0, 800.0, 0),    # peak of the start
        (24.0, 400.0, 0),
        (48.0, 100.0, 1),   # LOD..LLOQ: censored, excluded from AUC
        (168.0, 150.0, 0),  # baseline of the step
        (170.0, 200.0, 0),  # peak of the step
        (174.0, 180.0, 0),
        (192.0, 50.0, 1),
        (216.0, 130.0, 0),
        (300.0, 140.0, 0),  # outside every window
    ]
    il10 = [(0.0, 5.0, 1), (6.0, 60.0, 1), (24.0, 125.0, 1)]  # all BLQ (DV==LLOQ: unknown)
    rows = [dict(ID=1, TIME=t, EVID=1, AMT=a, RATE=r, DV=0.0, MDV=1, DVID="BLIN")
            for t, a, r in doses]
    for dvid, obs in (("IL6", il6), ("IL10", il10), *extra_obs):
        rows += [dict(ID=1, TIME=t, EVID=0, AMT=0.0, RATE=0.0, DV=dv, MDV=0, DVID=dvid, CENS=c)
                 for t, dv, c in obs]
    df = pd.DataFrame(rows)
    df["CENS"] = df["CENS"].fillna(0).astype(int)
    return read_dataset(df.sort_values(["TIME", "EVID"], ascending=[True, False], kind="stable"))


def _row(table, dvid, start):
    return table[(table["DVID"] == dvid) & (table["START"] == start)].iloc[0]


@pytest.mark.parametrize("rule", ["seed", "pknca"])
def test_start_event_hand_values(rule):
    # seed: <LOD baseline -> 0, 48 h LOD..LLOQ excluded; pknca: first BLQ -> 0, last dropped
    t = compute_cytokine_peaks(_dataset(), blq=rule).to_frame()
    r = _row(t, "IL6", 0.0)
    assert r["KIND"] == "start" and r["PREV_RATE"] == 0.0 and r["RATE"] == R9
    assert np.isnan(r["BASELINE"]) and r["BASELINE_TEXT"] == "<LLOQ" and r["BASELINE_CENSORED"]
    assert r["BASELINE_TIME"] == 0.0
    assert r["PEAK"] == 800.0 and r["TMAX"] == 6.0 and not r["PEAK_CENSORED"]
    assert np.isnan(r["FOLD"]) and r["FOLD_TEXT"] == ">6.4"  # 800 / LLOQ 125, a lower bound
    # AUC: (0,0) [<LOD -> 0], (2,300), (6,800), (24,400); 48 h sample excluded (<LLOQ)
    assert r["AUC"] == pytest.approx(2 * 150 + 4 * 550 + 18 * 600, rel=1e-14)
    assert r["AUC_TLAST"] == 24.0 and r["N"] == 4


@pytest.mark.parametrize("rule", ["seed", "pknca"])
def test_step_up_event_hand_values(rule):
    t = compute_cytokine_peaks(_dataset(), blq=rule).to_frame()
    r = _row(t, "IL6", 168.0)
    assert r["KIND"] == "step-up" and r["PREV_RATE"] == R9
    assert r["BASELINE"] == 150.0 and r["BASELINE_TIME"] == 0.0
    assert r["PEAK"] == 200.0 and r["TMAX"] == 2.0
    assert r["FOLD"] == pytest.approx(200 / 150, rel=1e-14) and r["FOLD_TEXT"] == ""
    assert r["AUC"] == pytest.approx(2 * 175 + 4 * 190 + 42 * 155, rel=1e-14)
    assert r["AUC_TLAST"] == 48.0
    assert r["EVENT"] == 2


def test_censored_peak_is_text_not_number():
    t = compute_cytokine_peaks(_dataset()).to_frame()
    r = _row(t, "IL10", 0.0)
    assert np.isnan(r["PEAK"]) and r["PEAK_TEXT"] == "<LLOQ" and r["PEAK_CENSORED"]
    assert np.isnan(r["TMAX"]) and np.isnan(r["FOLD"])


def test_per_row_lloq_is_honoured():
    # an IFNG assay with LLOQ 10: 15 and 60 are quantified there (BLQ under the seed 125)
    obs = [("IFNG", [(0.0, 15.0, 0), (6.0, 60.0, 0)])]
    df = _dataset(extra_obs=obs).frame.drop(columns="ROW")
    df.loc[df["DVID"] == "IFNG", "LLOQ"] = 10.0
    df.loc[df["DVID"] == "IFNG", "LOD"] = 2.0
    t = compute_cytokine_peaks(read_dataset(df)).to_frame()
    r = _row(t, "IFNG", 0.0)
    assert r["BASELINE"] == 15.0 and r["PEAK"] == 60.0 and r["FOLD"] == 4.0
    seed = _row(compute_cytokine_peaks(_dataset(extra_obs=obs)).to_frame(), "IFNG", 0.0)
    assert seed["PEAK_TEXT"] == "<LLOQ" and seed["BASELINE_TEXT"] == "<LLOQ"


def test_ledger_counts_add_up():
    ds = _dataset()
    res = compute_cytokine_peaks(ds, blq="seed")
    obs = ds.frame[(ds.frame["EVID"] == 0) & ds.frame["DVID"].isin(["IL6", "IL10"])]
    res.ledger.check(obs)
    led = res.ledger.to_frame().set_index(["DVID", "TIME"])
    assert led.loc[("IL6", 300.0), "REASON"] == "not in a baseline or post-event window"
    assert led.loc[("IL6", 0.0), "REASON"] == "<LOD set to 0"
    assert led.loc[("IL6", 48.0), "REASON"] == "<LLOQ excluded"


def test_dose_events_restart_after_gap_is_a_start():
    rt = pd.DataFrame({"ID": [1, 1, 1, 1, 1], "START": [0.0, 168, 300, 312, 400],
                       "END": [168.0, 300, 312, 400, 500],
                       "RATE": [R9, R28, 0.0, R9, R28]})
    ev = dose_events(rt)
    assert ev["START"].tolist() == [0.0, 168.0, 312.0, 400.0]
    assert ev["KIND"].tolist() == ["start", "step-up", "start", "step-up"]
    assert ev["NEXT"].tolist() == [168.0, 312.0, 400.0, np.inf]
    # a step down is not an event
    down = dose_events(pd.DataFrame({"ID": [1, 1], "START": [0.0, 10], "END": [10.0, 20],
                                     "RATE": [2.0, 1.0]}))
    assert down["START"].tolist() == [0.0]


def test_window_option_and_validation():
    t = compute_cytokine_peaks(_dataset(), window=4.0).to_frame()
    r = _row(t, "IL6", 0.0)
    assert r["PEAK"] == 300.0 and r["AUC_TLAST"] == 2.0 and r["N"] == 1
    with pytest.raises(ModelSpecError):
        compute_cytokine_peaks(_dataset(), window=0)
    with pytest.raises(ModelSpecError):
        compute_cytokine_peaks(_dataset(), blq="nonsense")


def test_default_rule_handles_unreported_baseline():
    # censored baseline with DV == LLOQ (value unknown): seed cannot use it, pknca sets it to 0
    df = _dataset().frame.drop(columns="ROW")
    df.loc[(df["DVID"] == "IL6") & (df["TIME"] == 0.0), "DV"] = 125.0
    ds = read_dataset(df)
    seed = _row(compute_cytokine_peaks(ds, blq="seed").to_frame(), "IL6", 0.0)
    assert np.isnan(seed["AUC"]) and "baseline not usable" in seed["REASON"]
    default = _row(compute_cytokine_peaks(ds).to_frame(), "IL6", 0.0)
    assert default["AUC"] == pytest.approx(13300.0, rel=1e-14)
    assert default["BASELINE_TEXT"] == "<LLOQ"


def test_summary_by_kind():
    s = compute_cytokine_peaks(_dataset()).summary().wide()
    row = s[(s["DVID"] == "IL6") & (s["KIND"] == "start") & (s["PARAM"] == "PEAK")].iloc[0]
    assert row["N"] == 1 and row["MEAN"] == 800.0 and row["UNIT"] == "pg/mL"
