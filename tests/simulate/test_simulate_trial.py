"""simulate_trial: contract-valid data, protocol times, consistent censoring and truth."""

from __future__ import annotations

import copy
import tomllib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from blinapk.cards import card_from_dict
from blinapk.data import read_dataset
from blinapk.dosing import rate_at, rate_table
from blinapk.pk import css_from_rate
from blinapk.simulate import DATA_COLUMNS, simulate_trial
from blinapk.simulate.cytokines import load_cytokine_model

N = 60


@pytest.fixture(scope="module")
def trial():
    return simulate_trial(N, seed=11)


@pytest.fixture(scope="module")
def noiseless():
    quiet = replace(load_cytokine_model(), residual_prop=0.0, residual_add=0.0)
    return simulate_trial(N, seed=11, residual={"prop": 0.0, "add": 0.0}, cytokine_model=quiet)


def test_data_pass_the_reader(trial):
    ds = read_dataset(trial.data)
    assert list(trial.data.columns) == list(DATA_COLUMNS)
    assert len(ds.subjects) == N
    assert set(ds.frame["DVID"]) == {"BLIN", "IL2", "IL6", "IL10", "TNFA", "IFNG"}
    # every row of the simulated table keeps its place: the reader's sort is the identity
    assert (ds.frame["ROW"].to_numpy() == np.arange(1, len(trial.data) + 1)).all()


def test_reproducible_by_seed(trial):
    again = simulate_trial(N, seed=11)
    pd.testing.assert_frame_equal(trial.data, again.data)
    pd.testing.assert_frame_equal(trial.truth, again.truth)
    assert trial.settings == again.settings
    other = simulate_trial(N, seed=12)
    assert not trial.truth["CL"].equals(other.truth["CL"])


def test_settings_record_every_generating_parameter(trial):
    s = trial.settings
    assert s["seed"] == 11 and s["n"] == N and s["card"] == "blinatumomab_zhu2020"
    for key in ("residual", "paediatric_fraction", "n_cycles", "interruption_fraction",
                "washout_fraction", "regimen", "cytokine_model", "assay", "protocol",
                "population", "interruptions", "blq_dv"):
        assert key in s
    assert s["card_numbers"]["omega.CL"] == 0.7


def test_observation_truth_aligns_with_data(trial):
    obs = trial.data[trial.data["EVID"] == 0].reset_index(drop=True)
    o = trial.observations
    assert len(o) == len(obs)
    for col in ("ID", "TIME", "NOMTIME", "DVID", "DV", "CENS", "LLOQ"):
        assert (o[col].to_numpy() == obs[col].to_numpy()).all(), col


def test_censoring_is_consistent(trial):
    o = trial.observations
    # a lab censors the *measured* value: CENS = 1 iff measured < LLOQ; DV then holds the LLOQ
    assert ((o["MEASURED"] < o["LLOQ"]) == (o["CENS"] == 1)).all()
    assert (o.loc[o["CENS"] == 1, "DV"] == o.loc[o["CENS"] == 1, "LLOQ"]).all()
    q = o["CENS"] == 0
    np.testing.assert_allclose(o.loc[q, "DV"], o.loc[q, "MEASURED"], atol=0.005 + 1e-9)
    lim = o.groupby("DVID")[["LLOQ", "LOD"]].first()
    assert lim.loc["BLIN"].tolist() == [50.0, 3.0]
    assert lim.loc["IL6"].tolist() == [125.0, 20.0]
    # the predose samples are all below the LLOQ
    assert (o.loc[o["NOMTIME"] == 0.0, "CENS"] == 1).all()


def test_censoring_on_true_concentration_without_noise(noiseless, trial):
    o = noiseless.observations
    # the same seed gives the same subjects and times: only the assay error differs
    assert (o["TIME"] == trial.observations["TIME"]).all()
    np.testing.assert_allclose(o["IPRED"], trial.observations["IPRED"])
    assert ((o["IPRED"] < o["LLOQ"]) == (o["CENS"] == 1)).all()
    np.testing.assert_allclose(o["MEASURED"], o["IPRED"], atol=0.005)


def test_washout_samples_fall_below_lloq():
    t = simulate_trial(80, seed=3, cytokines=False, washout_fraction=1.0)
    o = t.observations
    w = o[o["SAMPLE"].str.contains("washout")]
    assert w["ID"].nunique() == 80
    frac = w.groupby(w["SAMPLE"].str.extract(r"\+(\d+)h")[0].astype(int))["CENS"].mean()
    assert frac.is_monotonic_increasing  # concentrations fall after the end of infusion
    assert frac.loc[8] > 0.3  # t1/2 ~2 h: 8 h later most are near or below 50 pg/mL


def test_steady_state_equals_rate_over_clearance(noiseless):
    """Css at steady state = 1000 * R0 / CL_truth, without noise (UNITS contract)."""
    o = noiseless.observations
    o = o[(o["DVID"] == "BLIN")].reset_index(drop=True)
    truth = noiseless.truth.set_index("ID")
    rates = rate_table(noiseless.data)
    r_now = rate_at(rates, o["ID"], o["TIME"])["RATE"].to_numpy()
    seg = rates.assign(ID=rates["ID"]).copy()
    # time since the last rate change: samples > 12 half-lives into a constant-rate run
    last_change = np.array([
        seg.loc[(seg["ID"] == i) & (seg["START"] <= t), "START"].max()
        for i, t in zip(o["ID"], o["TIME"], strict=True)])
    cl = truth.loc[o["ID"], "CL"].to_numpy()
    thalf = np.log(2) * truth.loc[o["ID"], "V"].to_numpy() / cl
    at_ss = (o["TIME"].to_numpy() - last_change > 12 * thalf) & (r_now > 0)
    assert at_ss.sum() > 4 * N  # days 15, 22, 29 of both cycles, at least
    expected = css_from_rate(r_now[at_ss], cl[at_ss])
    np.testing.assert_allclose(o.loc[at_ss, "IPRED"], expected, rtol=1e-3)
    np.testing.assert_allclose(o.loc[at_ss, "IPRED"], 1000 * r_now[at_ss] / cl[at_ss],
                               rtol=1e-3)


def test_regimen_by_weight_and_dose_amounts(trial):
    t = trial.truth.set_index("ID")
    assert ((t["WT"] >= 45) == (t["ARM"] == "adult")).all()
    assert set(t["REGIMEN"]) <= {"adult_rr", "paediatric_rr"}
    assert ((t["ARM"] == "adult") == (t["REGIMEN"] == "adult_rr")).all()
    doses = trial.data[trial.data["EVID"] == 1]
    total = doses.groupby(["ID", "CYCLE"])["AMT"].sum().unstack()
    plain_adults = t.index[(t["ARM"] == "adult") & t["INT_START"].isna()]
    # label: 9 ug/day x 7 d + 28 ug/day x 21 d = 651 ug in cycle 1; 28 x 28 = 784 ug in cycle 2
    np.testing.assert_allclose(total.loc[plain_adults, 1], 651.0)
    np.testing.assert_allclose(total.loc[plain_adults, 2], 784.0)
    kids = t.index[(t["ARM"] == "paediatric") & t["INT_START"].isna()]
    bsa = t.loc[kids, "BSA"].to_numpy()
    c1 = np.minimum(5 * bsa, 9) * 7 + np.minimum(15 * bsa, 28) * 21
    np.testing.assert_allclose(total.loc[kids, 1].to_numpy(), c1)
    assert (t["RATE_FIRST"] > 0).all()
    np.testing.assert_allclose(t["CSS_FIRST"], 1000 * t["RATE_FIRST"] / t["CL"])


def test_interrupted_subjects_pause_and_restart(trial):
    t = trial.truth
    pauses = t[t["INT_START"].notna()]
    assert len(pauses) > 0
    rates = rate_table(trial.data)
    for _, p in pauses.iterrows():
        r = rate_at(rates, [p["ID"]], [p["INT_START"] + p["INT_HOURS"] / 2])["RATE"].item()
        assert r == 0.0
    restarts = trial.observations["SAMPLE"].str.contains("restart")
    assert trial.observations.loc[restarts, "ID"].isin(pauses["ID"]).all()


def test_protocol_sample_times(trial):
    o = trial.observations
    blin = o[o["DVID"] == "BLIN"]
    for _, g in blin.groupby("ID"):
        noms = set(g["NOMTIME"])
        assert {0.0, 48.0} <= noms
        assert {c + (d - 1) * 24.0 for c in (0.0, 1008.0) for d in (8, 15, 22, 29)} <= noms
    assert (o["TIME"] - o["NOMTIME"]).abs().max() <= 1.0
    cyto = o[o["DVID"] == "IL6"]
    first = cyto[cyto["SAMPLE"].str.contains("C1.start")]
    assert set(first["NOMTIME"]) == {0.0, 2.0, 6.0, 24.0, 48.0}


def test_covariates_constant_within_subject(trial):
    d = trial.data
    assert (d.groupby("ID")[["BSA", "WT", "AGE", "CRCL", "SEX", "BLAST"]].nunique() == 1).all()\
        .all()
    merged = d.drop_duplicates("ID").set_index("ID")
    t = trial.truth.set_index("ID")
    for c in ("BSA", "WT", "AGE", "CRCL", "SEX", "BLAST"):
        assert (merged[c] == t[c]).all()


def test_cytokine_releases_look_like_the_literature():
    t = simulate_trial(150, seed=5, paediatric_fraction=0.0, interruption_fraction=0.0,
                       residual={"prop": 0.0, "add": 0.0})
    o = t.observations
    il6 = o[o["DVID"] == "IL6"]
    first = il6[il6["SAMPLE"].str.startswith("C1.start")].groupby("ID")["IPRED"].max()
    step = il6[il6["SAMPLE"].str.startswith("C1.step")].groupby("ID")["IPRED"].max()
    c2 = il6[il6["SAMPLE"].str.startswith("C2.start")].groupby("ID")["IPRED"].max()
    base = t.settings["cytokine_model"]["baseline"]["IL6"]
    ratio = np.median((first - base) / (step - base))
    assert 5 < ratio < 20  # "about ten times lower" after the step-up (Hijazi 2018)
    assert np.median(c2 - base) < 0.01 * np.median(first - base)  # Klinger 2012


def test_blq_measured_mode_and_no_cytokines():
    t = simulate_trial(30, seed=2, cytokines=False, blq_dv="measured")
    o = t.observations
    assert set(o["DVID"]) == {"BLIN"}
    cens = o[o["CENS"] == 1]
    assert (cens["DV"] <= cens["LLOQ"]).all()
    below_lod = cens["MEASURED"] < cens["LOD"]
    assert (cens.loc[below_lod, "DV"] == 0.0).all()
    np.testing.assert_allclose(cens.loc[~below_lod, "DV"], cens.loc[~below_lod, "MEASURED"],
                               atol=0.005 + 1e-9)
    read_dataset(t.data)


def test_two_compartment_card():
    path = Path(__file__).resolve().parents[2] / "models" / "blinatumomab_zhu2020.toml"
    raw = copy.deepcopy(tomllib.loads(path.read_text()))
    num = {"source": "assumption", "published": False, "flag": "assumed", "note": "test"}
    raw["structure"] = "2cmt"
    raw["typical"]["Q"] = {"value": 0.5} | num
    raw["typical"]["V2"] = {"value": 2.0} | num
    raw["units"] |= {"Q": "L/h", "V2": "L"}
    card = card_from_dict(raw)
    t = simulate_trial(10, seed=4, card=card, cytokines=False,
                       residual={"prop": 0.0, "add": 0.0})
    assert t.settings["structure"] == "2cmt"
    assert {"Q", "V2"} <= set(t.truth.columns)
    read_dataset(t.data)


def test_bad_arguments():
    with pytest.raises(ValueError, match="n must be"):
        simulate_trial(0, seed=1)
    with pytest.raises(ValueError, match="blq_dv"):
        simulate_trial(2, seed=1, blq_dv="half")
