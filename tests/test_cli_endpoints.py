"""``blinapk endpoints`` end to end on CSV files of the hand-built study (``endpoint_study``)."""

from __future__ import annotations

import pandas as pd
import pytest
from endpoint_study import make_study, write_study

from blinapk.cli import main
from blinapk.report import ENDPOINT_OUTPUTS


@pytest.fixture()
def tables(tmp_path):
    return write_study(tmp_path / "study")


def _args(tables, out, *extra):
    return ["endpoints", "--subjects", str(tables["subjects"]), "--assessments",
            str(tables["assessments"]), "--out", str(out), *extra]


def test_writes_every_file_and_prints_the_summary(tables, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(_args(tables, out, "--adverse-events", str(tables["adverse_events"]),
                      "--data", str(tables["data"]), "--by", "ARM")) == 0
    for name in ENDPOINT_OUTPUTS:
        assert (out / name).is_file(), name
    captured = capsys.readouterr()
    assert "blinatumomab: CR/CRh* 9/20 45.0 %" in captured.out
    assert "log-rank: OS p = 0.023" in captured.out
    assert f"wrote {len(ENDPOINT_OUTPUTS)} file(s)" in captured.out
    assert "warning: 3 subject(s) have no response assessment" in captured.err
    summary = pd.read_csv(out / "km_summary.csv")
    assert set(summary["GROUP"]) == {"blinatumomab", "chemotherapy"}


def test_options(tables, tmp_path, capsys):
    out = tmp_path / "o"
    assert main(_args(tables, out, "--by", "arm,exposure", "--landmarks", "6,18",
                      "--censor-at-hsct", "--no-figures")) == 0
    assert not list(out.glob("*.png")) and not (out / "ae_incidence.csv").exists()
    summary = pd.read_csv(out / "km_summary.csv")
    assert "SURV_6_MONTHS" in summary.columns and "SURV_18_MONTHS_UPPER" in summary.columns
    assert "SURV_12_MONTHS" not in summary.columns
    assert set(summary["GROUP"]) == {"blinatumomab, high", "blinatumomab, low",
                                     "chemotherapy, none"}
    tte = pd.read_csv(out / "tte.csv", keep_default_na=False)
    assert (tte["REASON"] == "censored at alloHSCT").any()
    rates = pd.read_csv(out / "response_rates.csv")
    assert list(rates.columns[:2]) == ["ARM", "EXPOSURE"]


def test_without_by_one_group(tables, tmp_path, capsys):
    out = tmp_path / "o"
    assert main(_args(tables, out, "--no-figures")) == 0
    assert pd.read_csv(out / "km_summary.csv")["GROUP"].unique().tolist() == ["all"]
    assert not (out / "logrank.csv").exists()


def test_unknown_by_column_exits_2_naming_it(tables, tmp_path, capsys):
    assert main(_args(tables, tmp_path / "o", "--by", "DOSE")) == 2
    err = capsys.readouterr().err
    assert "blinapk endpoints: error:" in err
    assert "[by_column] column DOSE" in err and "'DOSE' is not in the subjects table" in err
    assert "ARM" in err  # the columns there are
    assert not (tmp_path / "o").exists()


def test_invalid_table_exits_2_with_rule_column_and_row(tmp_path, capsys):
    study = make_study()
    study["assessments"].loc[2, "MRD"] = 5.0  # a percentage written where a fraction belongs
    paths = {}
    for name, frame in study.items():
        paths[name] = tmp_path / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    assert main(_args(paths, tmp_path / "o")) == 2
    err = capsys.readouterr().err
    assert "[fraction_range] assessments column MRD, row(s) 3" in err
    assert "Traceback" not in err


def test_relapse_without_remission_exits_2(tmp_path, capsys):
    study = make_study()
    s = study["subjects"]
    row = s.index[(s["ARM"] == "chemotherapy") & s["RELAPSE_DAY"].isna()
                  & s["DEATH_DAY"].notna()][0]
    s.loc[row, "RELAPSE_DAY"] = 30.0
    paths = {}
    for name, frame in study.items():
        paths[name] = tmp_path / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    assert main(_args(paths, tmp_path / "o")) == 2
    err = capsys.readouterr().err
    assert f"[relapse_without_remission] column RELAPSE_DAY, row(s) {row + 1}" in err


def test_bad_arguments_exit_2(tables, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(_args(tables, tmp_path / "o", "--landmarks", "12,two"))
    assert info.value.code == 2
    assert "give months separated by commas" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["endpoints", "--subjects", str(tables["subjects"])])  # --assessments required
