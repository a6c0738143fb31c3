"""``blinapk nca`` and ``blinapk demo`` end to end."""

import re

import numpy as np
import pandas as pd
import pytest

from blinapk.cli import main
from blinapk.report import read_csv

R9, R28 = 9 / 24, 28 / 24


@pytest.fixture()
def csv(tmp_path):
    rows = []
    for sid, cl in ((1, 2.0), (2, 4.0)):
        rows += [dict(ID=sid, TIME=0.0, EVID=1, AMT=63.0, RATE=R9, DV=0.0, MDV=1, DVID="BLIN",
                      CYCLE=1),
                 dict(ID=sid, TIME=168.0, EVID=1, AMT=588.0, RATE=R28, DV=0.0, MDV=1,
                      DVID="BLIN", CYCLE=1)]
        for t in (24.0, 96.0, 192.0, 400.0):
            dv = 1000 * (R9 if t <= 168 else R28) / cl
            rows.append(dict(ID=sid, TIME=t, EVID=0, AMT=0.0, RATE=0.0, DV=dv, MDV=0,
                             DVID="BLIN", CYCLE=1))
        rows += [dict(ID=sid, TIME=t, EVID=0, AMT=0.0, RATE=0.0, DV=v, MDV=0, DVID="IL6",
                      CYCLE=1) for t, v in ((0.0, 130.0), (6.0, 900.0), (24.0, 300.0))]
    df = pd.DataFrame(rows).sort_values(["ID", "TIME", "EVID"], ascending=[True, True, False],
                                        kind="stable")
    path = tmp_path / "study.csv"
    df.to_csv(path, index=False)
    return path


def test_nca_cli_writes_tables_and_figures(csv, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["nca", str(csv), "--out", str(out), "--by", "DOSE_LEVEL"]) == 0
    for name in ("css_observed.csv", "summary.csv", "ledger.csv", "cytokine_peaks.csv", "pp.csv",
                 "pp_codes.csv", "css_by_dose.png", "profiles.png", "cytokines.png"):
        assert (out / name).is_file(), name
    css = read_csv(out / "css_observed.csv")
    np.testing.assert_allclose(css["CL"], [2.0, 2.0, 4.0, 4.0], rtol=1e-12)
    summary = pd.read_csv(out / "summary.csv")
    cl = summary[(summary["PARAM"] == "CL") & (summary["DOSE_LEVEL"] == "28 ug/day")].iloc[0]
    assert cl["N"] == 2 and cl["N_SUBJECTS"] == 2 and cl["MEAN"] == pytest.approx(3.0)
    ledger = read_csv(out / "ledger.csv", keep_default_na=False)
    assert len(ledger) == 8 and set(ledger["STATUS"]) == {"used"}
    pp = pd.read_csv(out / "pp.csv")
    assert set(pp["PPTESTCD"]) == {"CAVG", "CLSS"}  # cytokines are biomarkers, not PP
    peaks = read_csv(out / "cytokine_peaks.csv")
    assert peaks.loc[peaks["KIND"] == "start", "PEAK"].tolist() == [900.0, 900.0]
    text = capsys.readouterr().out
    assert "CSS" in text and "segments: 4 (4 with Css)" in text


def test_nca_cli_options_and_errors(csv, tmp_path, capsys):
    out = tmp_path / "o2"
    assert main(["nca", str(csv), "--out", str(out), "--no-figures", "--blq", "lloq/2",
                 "--min-time", "200", "--summary", "median"]) == 0
    assert not (out / "css_by_dose.png").exists()
    css = read_csv(out / "css_observed.csv", keep_default_na=False)
    assert (css["REASON"] != "").sum() >= 2  # 200 h window leaves segments without samples
    # dose per m2 without BSA: a typed error -> exit code 2 and a message naming BSA
    assert main(["nca", str(csv), "--out", str(out), "--dose-unit", "ug/m2/h"]) == 2
    assert "BSA" in capsys.readouterr().err


@pytest.mark.slow
def test_demo_runs_on_the_example(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 0
    d = tmp_path / "demo" / "nca"
    css = read_csv(d / "css_observed.csv")
    assert len(css) > 100 and css["CSS"].notna().mean() > 0.9
    assert (d / "css_by_dose.png").stat().st_size > 5000
    e = tmp_path / "demo" / "endpoints"
    resp = pd.read_csv(e / "response.csv")
    assert len(resp) == 100 and set(resp["CRCRH"]) == {0, 1}
    assert set(pd.read_csv(e / "km_summary.csv")["ENDPOINT"]) == {"OS", "RFS", "TTR", "DFS"}
    assert set(pd.read_csv(e / "ae_episodes.csv")["EPISODE"]) == {"start", "step", "restart"}
    assert (tmp_path / "demo" / "er" / "er.nc").exists()  # IL-6 peaks vs exposure
    crcrh = pd.read_csv(tmp_path / "demo" / "er_crcrh" / "summary.csv")  # CR/CRh* vs Css
    assert "BETA_LOGCSS" in set(crcrh["PARAMETER"])
    sim = pd.read_csv(tmp_path / "demo" / "simulate" / "exposure_summary.csv")
    css_sim = sim[sim["METRIC"] == "CSS"]
    assert set(css_sim["SCENARIO"]) == {"adults 9 -> 28 ug/day", "children 5 -> 15 ug/m2/day"}
    assert set(css_sim["N"]) == {2000 * 20}  # patients x posterior draws
    printed = capsys.readouterr().out
    assert re.search(r"step (\d+)/\1 report", printed) and "demo done" in printed
    report = tmp_path / "demo" / "report.html"
    assert f"report: {report.resolve()}" in printed
    text = report.read_text(encoding="utf-8")
    assert "No " not in text.split("<main>")[1][:200] and text.count('class="present"') == 7
    assert main(["demo", "--out", str(tmp_path / "x"), "--steps", "nope"]) == 2
