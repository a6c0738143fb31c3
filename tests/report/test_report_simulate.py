"""write_exposure: every number in the files comes from the results and their summaries."""

import json

import numpy as np
import pandas as pd

from blinapk.report import EXPOSURE_OUTPUTS, exposure_text, patient_table, write_exposure
from blinapk.simulate import simulate_exposure, summarize_exposure


def test_patient_table_and_files(tmp_path):
    ds = simulate_exposure(200, seed=1, regimen="weight_based_rr", population="mixed",
                           n_draws=2)
    table = patient_table(ds)
    assert len(table) == 400 and table["DRAW"].tolist()[:2] == [0, 0]
    np.testing.assert_array_equal(table["CL"], ds["CL"].values.ravel())
    s = summarize_exposure({"label": ds})
    paths = write_exposure({"label": ds}, s, tmp_path / "out", figures=False)
    assert set(paths) == {"distribution", "attainment", "patients", "settings", "summary"}
    back = pd.read_csv(paths["distribution"])
    assert back["MEAN"].tolist() == s.distribution["MEAN"].tolist()
    assert json.loads(paths["settings"].read_text())["label"]["n"] == 200
    md = paths["summary"].read_text()
    assert "# Simulated exposure" in md and "Probability of target attainment" in md
    assert paths["distribution"].name == EXPOSURE_OUTPUTS["distribution"]
    text = exposure_text(s, paths)
    assert "label" in text and "P(Css >= 470)" in text
