"""``blinapk er`` end to end on CSV files of a simulated study with a known E-R truth."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

from blinapk.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
# tiny fits: the gates may fail; that is reported, not tested, here
pytestmark = pytest.mark.filterwarnings("ignore::blinapk.errors.ConvergenceWarning")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    from er_truth import er_study

    from blinapk.data import write_clinical, write_dataset

    d = tmp_path_factory.mktemp("er")
    study = er_study(40, 12, endpoint="crcrh", pk_samples=2)
    write_dataset(study.dataset, d / "data.csv")
    return {"dir": d, **write_clinical(study.clinical, d), "data": d / "data.csv"}


def test_er_with_the_observed_nca_css(files, capsys):
    out = files["dir"] / "nca"
    code = main(["er", str(files["data"]), "--subjects", str(files["subjects"]),
                 "--assessments", str(files["assessments"]), "--endpoint", "crcrh", "--nca",
                 "--covariate", "AGEGROUP", "--draws", "200", "--tune", "200", "--seed", "1",
                 "--quiet", "--out", str(out)])
    assert code == 0
    from blinapk.report import ER_OUTPUTS

    assert sorted(p.name for p in out.iterdir()) == sorted(ER_OUTPUTS)
    summary = pd.read_csv(out / "summary.csv")
    assert {"BETA_LOGCSS", "OR_DOUBLING", "BETA_AGEGROUP[child]"} <= set(summary["PARAMETER"])
    assert "EXPOSURE_PG_ML" in pd.read_csv(out / "curve.csv").columns
    text = capsys.readouterr().out
    assert "plug-in (observed)" in text and "BETA_LOGCSS" in text
    # no PK parameters behind an observed Css: the regimens say why they are empty
    assert pd.read_csv(out / "regimens.csv")["NOTE"].str.contains("observed").all()


def test_er_with_a_saved_pk_fit(files, capsys):
    from blinapk.data import read_dataset
    from blinapk.poppk import PopPKSpec, fit

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pk = fit(read_dataset(files["data"]), PopPKSpec(bsv=("CL",)), draws=150, tune=150,
                 seed=3, progressbar=False)
    pk.save(files["dir"] / "fit.nc")
    out = files["dir"] / "prop"
    code = main(["er", str(files["data"]), "--subjects", str(files["subjects"]),
                 "--assessments", str(files["assessments"]), "--fit",
                 str(files["dir"] / "fit.nc"), "--exposure", "cavg",
                 "--draws", "200", "--tune", "200", "--seed", "1", "--quiet", "--no-figures",
                 "--out", str(out)])
    assert code == 0
    assert "BETA_LOGCAVG" in set(pd.read_csv(out / "summary.csv")["PARAMETER"])
    assert "propagated (latent exposure, PK posterior prior)" in capsys.readouterr().out
    assert pd.read_csv(out / "regimens.csv")["MEDIAN"].notna().all()
    assert not (out / "er_curve.png").exists()


def test_er_reports_a_missing_table(files, capsys):
    code = main(["er", str(files["data"]), "--endpoint", "crs", "--nca", "--out",
                 str(files["dir"] / "x")])
    assert code == 2
    assert "needs the adverse_events table" in capsys.readouterr().err
