"""``blinapk simulate`` writes data, truth and settings that read back."""

from __future__ import annotations

import argparse
import json

import pandas as pd

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
