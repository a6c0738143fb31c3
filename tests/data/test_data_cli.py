"""`blinapk validate`: summary on valid data, every violation and exit 2 on invalid data."""

from pathlib import Path

import pandas as pd
import pytest

from blinapk import cli


@pytest.fixture(autouse=True)
def _only_validate(monkeypatch):
    # the other subcommands belong to other subpackages; dispatch through the real cli.main
    monkeypatch.setattr(cli, "COMMANDS", ("validate",))


def main(argv):
    return cli.main(argv)


def test_validate_valid_file(tmp_path: Path, frame, capsys):
    p = tmp_path / "study.csv"
    frame.assign(DV=frame["DV"] / 1000).to_csv(p, index=False)
    code = main(["validate", str(p), "--units-dv", "ng/mL"])
    out = capsys.readouterr().out
    assert code == 0
    assert "valid" in out and "subjects: 2" in out and "dose rows: 3" in out
    assert "declared units: AMT ug, RATE ug/h, DV ng/mL, TIME h" in out
    assert "BLIN" in out and "IL6" in out and "N_CENSORED" in out


def test_validate_reports_doses_without_observations(tmp_path: Path, frame, capsys):
    p = tmp_path / "sim.csv"
    sim = pd.concat([frame.iloc[[0, 3]].assign(ID=7), frame], ignore_index=True)
    sim.to_csv(p, index=False)
    assert main(["validate", str(p)]) == 0
    assert "doses but no observations (1): 7" in capsys.readouterr().out


def test_validate_invalid_file_exit_2(tmp_path: Path, frame, capsys):
    p = tmp_path / "bad.csv"
    bad = frame.copy()
    bad.loc[2, "TIME"] = 1.0
    bad.loc[6, "EVID"] = 5
    bad.to_csv(p, index=False)
    code = main(["validate", str(p)])
    err = capsys.readouterr().err
    assert code == 2
    assert "[time_decreasing] column TIME, row(s) 3" in err
    assert "[evid_values] column EVID, row(s) 7" in err


def test_validate_registered_dvid_and_bad_unit(tmp_path: Path, frame, capsys):
    p = tmp_path / "crp.csv"
    frame.assign(DVID=["BLIN"] * 7 + ["CRP", "BLIN"]).to_csv(p, index=False)
    assert main(["validate", str(p), "--dvid", "CRP:10:1"]) == 0
    assert "CRP" in capsys.readouterr().out
    assert main(["validate", str(p), "--dvid", "CRP"]) == 2
    assert main(["validate", str(p), "--dvid", "CRP:10", "--units-dv", "furlong"]) == 2
    assert "unknown dv unit" in capsys.readouterr().err
