"""Dose-finding writer: the OC tables as computed and the figure."""

import pandas as pd
import pytest

from blinapk.report import DOSE_FINDING_OUTPUTS, write_dose_finding
from blinapk.simulate import ROLLING_SIX, THREE_PLUS_THREE, operating_characteristics


@pytest.fixture(scope="module")
def oc():
    return operating_characteristics([THREE_PLUS_THREE, ROLLING_SIX], [0.05, 0.2, 0.5],
                                     n_trials=300, seed=2, doses=[5, 15, 30],
                                     dose_unit="ug/m2/day")


def test_writes_every_output_in_order(oc, tmp_path):
    files = write_dose_finding(oc, tmp_path / "out", trials=True)
    assert files == [tmp_path / "out" / name for name in DOSE_FINDING_OUTPUTS]
    sel = pd.read_csv(files[0], keep_default_na=False, na_values=[""])
    assert list(sel.columns) == list(oc.selection().columns)
    assert sel["P_SELECT"].tolist() == pytest.approx(oc.selection()["P_SELECT"].tolist())
    assert sel["DOSE"].astype(str).tolist() == ["5", "15", "30", "none"] * 2
    summary = pd.read_csv(files[1])
    assert summary["MEAN_DAYS"].tolist() == pytest.approx(oc.summary()["MEAN_DAYS"].tolist())
    assert len(pd.read_csv(files[2])) == 2 * oc.n_trials
    assert files[3].stat().st_size > 0


def test_without_trials_and_figures(oc, tmp_path):
    files = write_dose_finding(oc, tmp_path, figures=False)
    assert [f.name for f in files] == ["dose_selection.csv", "dose_finding_summary.csv"]
