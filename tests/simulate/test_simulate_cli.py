"""``blinapk simulate`` writes data, truth and settings that read back."""

from __future__ import annotations

import argparse
import json

import pandas as pd
import pytest
from scipy.special import expit

from blinapk.commands import simulate
from blinapk.data import read_clinical, read_dataset


def run(argv):
    parser = argparse.ArgumentParser()
    simulate.add_arguments(parser)
    return simulate.run(parser.parse_args(argv))


def test_simulate_command(tmp_path, capsys):
    out = tmp_path / "sub" / "trial.csv"
    assert run(["--n", "12", "--seed", "1", "--out", str(out), "--no-cytokines"]) == 0
    ds = read_dataset(out)
    assert len(ds.subjects) == 12 and set(ds.frame["DVID"]) == {"BLIN"}
    truth = pd.read_csv(tmp_path / "sub" / "trial_truth.csv")
    assert len(truth) == 12 and {"ID", "CL", "V", "ETA_CL"} <= set(truth.columns)
    obs = pd.read_csv(tmp_path / "sub" / "trial_obs_truth.csv")
    assert len(obs) == int((ds.frame["EVID"] == 0).sum())
    settings = json.loads((tmp_path / "sub" / "trial.json").read_text())
    assert settings["seed"] == 1 and settings["n"] == 12
    assert "simulated 12 subjects" in capsys.readouterr().out


def test_simulate_command_is_reproducible(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    run(["--n", "5", "--seed", "7", "--out", str(a)])
    run(["--n", "5", "--seed", "7", "--out", str(b)])
    assert a.read_bytes() == b.read_bytes()


def test_simulate_command_writes_the_clinical_tables(tmp_path, capsys):
    out = tmp_path / "trial.csv"
    assert run(["--n", "10", "--seed", "2", "--out", str(out), "--no-cytokines"]) == 0
    names = ("subjects", "assessments", "adverse_events")
    clin = read_clinical(*(tmp_path / f"trial_{n}.csv" for n in names))
    assert len(clin.subjects) == 10 and len(clin.assessments) == 20
    truth = pd.read_csv(tmp_path / "trial_clinical_truth.csv")
    assert len(truth) == 10 and {"CSS_FULL", "P_REMISSION", "P_CRS"} <= set(truth.columns)
    printed = capsys.readouterr().out
    assert "adverse events:" in printed and "clinical truth:" in printed
    assert run(["--n", "4", "--seed", "2", "--out", str(tmp_path / "no.csv"), "--no-clinical"]) == 0
    assert not (tmp_path / "no_subjects.csv").exists()
    assert json.loads((tmp_path / "no.json").read_text())["clinical"] is False


def test_command_metadata():
    assert simulate.NAME == "simulate" and simulate.HELP


def test_exposure_mode_writes_tables_figures_and_settings(tmp_path, capsys):
    out = tmp_path / "exposure"
    assert run(["--card", "zhu2020", "--regimen", "weight_based_rr", "--population", "mixed",
                "--n", "3000", "--seed", "2", "--out", str(out), "--pause", "10:3:label",
                "--window", "C1=1", "--window", "week1=0:168"]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"exposure_summary.csv", "target_attainment.csv", "target_attainment_curve.csv",
            "patients.csv", "settings.json", "summary.md", "css_distribution.png",
            "target_attainment_bsa.png"} <= names
    patients = pd.read_csv(out / "patients.csv")
    assert len(patients) == 3000 and "CSS[28 ug/day]" in patients.columns
    assert {"CAVG[C1]", "CAVG[week1]", "FTA[C1@470]"} <= set(patients.columns)
    settings = json.loads((out / "settings.json").read_text())
    run_settings = next(iter(settings.values()))
    assert run_settings["seed"] == 2 and run_settings["interruptions"][0]["schedule"] == "label"
    text = capsys.readouterr().out
    assert "simulated exposure of 3,000 patients" in text and "P(Css >= 470)" in text


def test_exposure_mode_from_a_fit_on_dask(tmp_path, known_truth_fit):
    _, _, fit = known_truth_fit
    path = fit.save(tmp_path / "fit.nc")
    out = tmp_path / "from_fit"
    assert run(["--fit", str(path), "--regimen", "adult_rr", "--n", "2000", "--draws", "4",
                "--out", str(out), "--dask", "threads", "--chunk-size", "500"]) == 0
    summary = pd.read_csv(out / "target_attainment.csv")
    assert summary["PTA_LOWER"].notna().any()
    assert not (out / "patients.csv").exists()  # lazy results are streamed, not listed


def test_trial_mode_still_needs_a_seed(tmp_path, capsys):
    assert run(["--n", "5", "--out", str(tmp_path / "t.csv")]) == 2
    assert "--seed is required" in capsys.readouterr().err


def test_simulate_exposure_with_er_models_writes_predicted_rates(tmp_path, capsys):
    from blinapk.er import given_er
    from blinapk.report import read_csv

    given_er("crcrh", intercept=0.0, slope=1.0, ref=500.0).save(tmp_path / "crcrh.nc")
    given_er("crs3", intercept=[-3.5, -3.0], slope=0.0, ref=500.0).save(tmp_path / "crs3.nc")
    out = tmp_path / "er_out"
    assert run(["--regimen", "weight_based_rr", "--population", "mixed", "--n", "300",
                "--seed", "2", "--er", str(tmp_path / "crcrh.nc"), "--er",
                str(tmp_path / "crs3.nc"), "--out", str(out)]) == 0
    table = read_csv(out / "predicted_rates.csv")
    assert table.attrs["units"]["MEDIAN"] == "fraction"
    assert table.attrs["units"]["EXPOSURE_GMEAN"] == "pg/mL"
    assert sorted(set(table["MODEL_NAME"])) == ["crcrh", "crs3"]
    assert set(table["ARM"]) == {"adult", "paediatric"}
    crs3 = table[table["MODEL_NAME"] == "crs3"]
    two = (expit(-3.5) + expit(-3.0)) / 2  # slope 0: the median of the two draws' rates
    assert crs3["MEDIAN"].tolist() == pytest.approx([two] * 2, rel=1e-12)
    assert (out / "predicted_rates.png").stat().st_size > 0
    assert "Predicted rates from exposure-response models" in (out / "summary.md").read_text()
    printed = capsys.readouterr().out
    assert "ARM=paediatric P(CR/CRh* within 2 cycles) = " in printed
