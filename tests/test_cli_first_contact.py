"""First contact with the command line: every file problem is one clear message, exit code 2,
no traceback, nothing written; summaries by covariates; the general NCA; warnings without a
Python source path; a closed pipe."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import blinapk
from blinapk.cli import main
from blinapk.report import read_csv

R9, R28 = 9 / 24, 28 / 24
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def study(tmp_path):
    """Three subjects at 9 then 28 ug/day; subject 2 has an interruption (two 28-ug segments)."""
    rows = []
    for sid, cl, sex in ((1, 2.0, "F"), (2, 4.0, "M"), (3, 3.0, "F")):
        rows += [dict(ID=sid, TIME=0.0, EVID=1, AMT=63.0, RATE=R9, DV=0.0, MDV=1, SEX=sex),
                 dict(ID=sid, TIME=168.0, EVID=1, AMT=R28 * 100, RATE=R28, DV=0.0, MDV=1,
                      SEX=sex)]
        if sid == 2:  # 24-h interruption after 100 h, then the rest of the bag
            rows.append(dict(ID=sid, TIME=292.0, EVID=1, AMT=R28 * 200, RATE=R28, DV=0.0,
                             MDV=1, SEX=sex))
        else:
            rows.append(dict(ID=sid, TIME=268.0, EVID=1, AMT=R28 * 200, RATE=R28, DV=0.0,
                             MDV=1, SEX=sex))
        for t in (24.0, 96.0, 240.0, 400.0):
            dv = 1000 * (R9 if t <= 168 else R28) / cl
            rows.append(dict(ID=sid, TIME=t, EVID=0, AMT=0.0, RATE=0.0, DV=dv, MDV=0, SEX=sex))
    df = pd.DataFrame(rows).sort_values(["ID", "TIME", "EVID"], ascending=[True, True, False],
                                        kind="stable")
    path = tmp_path / "study.csv"
    df.to_csv(path, index=False)
    return path


def _fails_cleanly(capsys, argv, *needles, out: Path | None = None):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith(f"blinapk {argv[0]}: error:")
    for needle in needles:
        assert needle in err, (needle, err)
    if out is not None:
        assert not out.exists(), "something was written"
    return err


def test_missing_input_file(capsys, tmp_path):
    out = tmp_path / "out"
    for cmd in ("validate", "nca"):
        argv = [cmd, str(tmp_path / "nope.csv")] + (["--out", str(out)] if cmd == "nca" else [])
        _fails_cleanly(capsys, argv, "[file_not_found]", "nope.csv", out=out)


def test_output_folder_that_cannot_be_written(capsys, study, tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    _fails_cleanly(capsys, ["nca", str(study), "--out", str(blocker)], "is a file")
    _fails_cleanly(capsys, ["nca", str(study), "--out", str(blocker / "sub")], "is a file")
    assert blocker.read_text() == "x"


def test_bad_data_writes_nothing(capsys, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("ID,TIME,EVID,AMT,RATE,DV,MDV\n1,0,1,28,1.1,0,1\n1,2,0,0,0,-3,0\n")
    out = tmp_path / "out"
    _fails_cleanly(capsys, ["nca", str(bad), "--out", str(out)], "[negative]", "row(s) 2",
                   out=out)


def test_excel_semicolons_and_utf16_from_the_command_line(capsys, study, tmp_path):
    xlsx = tmp_path / "study.csv.xlsx"
    xlsx.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    _fails_cleanly(capsys, ["validate", str(xlsx)], "[not_csv]", "Save As")
    semi = tmp_path / "semi.csv"
    semi.write_text(study.read_text().replace(",", ";").replace(".", ","))
    _fails_cleanly(capsys, ["validate", str(semi)], "[csv_separator]", "--sep ';'")
    assert main(["validate", str(semi), "--sep", ";", "--decimal", ","]) == 0
    u16 = tmp_path / "u16.csv"
    u16.write_bytes(study.read_text().encode("utf-16"))
    assert main(["validate", str(u16)]) == 0
    assert "note: read as UTF-16" in capsys.readouterr().out


def test_validate_reports_comment_records_and_addl(capsys, tmp_path):
    path = tmp_path / "nm.csv"
    path.write_text("C,ID,TIME,EVID,AMT,RATE,DV,MDV,ADDL,II\n"
                    ".,1,0,1,28,1.1666666666666667,0,1,2,24\n"
                    "C,1,2,0,0,0,310,0,.,.\n"
                    ".,1,30,0,0,0,520,0,.,.\n")
    assert main(["validate", str(path)]) == 0
    text = capsys.readouterr().out
    assert "rows skipped as comments (1): 2" in text
    assert "note: ADDL/II: 2 additional dose record(s)" in text


def test_summary_by_a_covariate_counts_subjects_and_segments(capsys, study, tmp_path):
    out = tmp_path / "out"
    assert main(["nca", str(study), "--out", str(out), "--by", "SEX,DOSE_LEVEL",
                 "--no-figures"]) == 0
    summary = pd.read_csv(out / "summary.csv")
    css = summary[(summary["PARAM"] == "CSS") & (summary["DOSE_LEVEL"] == "28 ug/day")]
    by_sex = css.set_index("SEX")
    # subject 2 (M) has two 28-ug/day segments around the interruption: one subject
    assert (by_sex.loc["M", "N"], by_sex.loc["M", "N_SUBJECTS"]) == (2, 1)
    # a bag change at the same rate does not start a segment: one each for subjects 1 and 3
    assert (by_sex.loc["F", "N"], by_sex.loc["F", "N_SUBJECTS"]) == (2, 2)
    assert "N counts segments, N_SUBJECTS subjects" in capsys.readouterr().out


def test_unknown_by_column_is_an_error(capsys, study, tmp_path):
    out = tmp_path / "out"
    _fails_cleanly(capsys, ["nca", str(study), "--out", str(out), "--by", "SEXX"], "SEXX",
                   "nor in the dataset", out=out)


def test_general_nca_from_the_command_line(capsys, study, tmp_path):
    out = tmp_path / "out"
    assert main(["nca", str(study), "--out", str(out), "--no-figures", "--params",
                 "cmax,auclast", "--interval", "0,168", "--interval", "168,inf"]) == 0
    long = pd.read_csv(out / "nca_params.csv")
    assert set(long["parameter"]) == {"cmax", "auclast"} and len(long) == 3 * 2 * 2
    cmax = long[(long["parameter"] == "cmax") & (long["start"] == 0)].set_index("ID")["value"]
    assert cmax.to_dict() == pytest.approx({1: 187.5, 2: 93.75, 3: 125.0})
    assert set(long["unit"]) == {"pg/mL", "h*pg/mL"}
    pp = pd.read_csv(out / "pp.csv", keep_default_na=False)
    auc = pp[pp["PPTESTCD"] == "AUCLST"]
    # a partial interval carries its bounds; [168, inf) is not a partial AUC
    assert set(auc["PPSTINT"]) == {"PT0H", ""} and set(auc["PPENINT"]) == {"PT168H", ""}
    assert (out / "nca_params_summary.csv").is_file()
    _fails_cleanly(capsys, ["nca", str(study), "--out", str(tmp_path / "o2"), "--params",
                            "cmaxx"], "unknown NCA parameter 'cmaxx'", out=tmp_path / "o2")
    _fails_cleanly(capsys, ["nca", str(study), "--out", str(tmp_path / "o3"), "--interval",
                            "0,24"], "--interval needs --params", out=tmp_path / "o3")
    ivs = tmp_path / "intervals.csv"
    ivs.write_text('start,end,parameters\n0,168,"cmax,tmax"\n')
    assert main(["nca", str(study), "--out", str(tmp_path / "o4"), "--no-figures",
                 "--intervals", str(ivs)]) == 0
    assert set(pd.read_csv(tmp_path / "o4" / "nca_params.csv")["parameter"]) == {"cmax", "tmax"}


def test_warnings_are_one_line_without_a_source_path(capsys, study, tmp_path):
    df = pd.read_csv(study)
    one = (df["ID"] == 3) & (df["EVID"] == 0)
    df.loc[one, "DV"] = df.loc[one, "DV"] / 1000  # subject 3 written in ng/mL
    path = tmp_path / "jump.csv"
    df.to_csv(path, index=False)
    assert main(["nca", str(path), "--out", str(tmp_path / "out"), "--no-figures"]) == 0
    err = capsys.readouterr().err
    assert "blinapk nca: warning: 1 subject(s) have a median implied clearance" in err
    assert ".py:" not in err and "DataWarning" not in err


def test_closed_pipe_is_not_a_traceback(study, tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "blinapk", "nca", str(study), "--out",
                             str(tmp_path / "out"), "--no-figures"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    proc.stdout.close()  # like `| head` that has read enough
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert proc.returncode == 141


def test_closed_pipe_in_process(study, tmp_path, monkeypatch):
    class Closed:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", Closed())
    assert main(["validate", str(study)]) == 141


def test_public_namespace_lists_the_curated_api_only():
    assert dir(blinapk) == sorted(blinapk.__all__)
    for name in blinapk.__all__:
        assert getattr(blinapk, name) is not None
    assert "importlib" not in dir(blinapk) and "data" not in dir(blinapk)


def test_observed_and_predicted_css_files_have_distinct_names(study, tmp_path):
    from blinapk.report import NCA_OUTPUTS

    assert "css_observed.csv" in NCA_OUTPUTS and "css.csv" not in NCA_OUTPUTS
    assert main(["nca", str(study), "--out", str(tmp_path / "o"), "--no-figures"]) == 0
    table = read_csv(tmp_path / "o" / "css_observed.csv")
    assert table.attrs["units"]["CSS"] == "pg/mL" and len(table) == 7


def test_arviz_import_notice_is_not_shown_but_other_warnings_are(capsys, study, monkeypatch):
    import warnings

    from blinapk.commands import validate
    from blinapk.errors import DataWarning

    def run(args):
        warnings.warn("\nArviZ is undergoing a major refactor to improve flexibility",
                      FutureWarning, stacklevel=1)
        warnings.warn("something about the data", DataWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(validate, "run", run)
    assert main(["validate", str(study)]) == 0
    err = capsys.readouterr().err
    assert "ArviZ" not in err
    assert err.strip() == "blinapk validate: warning: something about the data"


def test_python_versions_declared_and_documented():
    import tomllib

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["requires-python"] == ">=3.11,<3.15"  # PyTensor declares < 3.15
    readme = (ROOT / "README.md").read_text()
    assert "Python 3.11 to 3.14" in readme and "CI\ntests Python 3.11" in readme
