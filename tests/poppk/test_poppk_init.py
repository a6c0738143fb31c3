"""Starting values: NCA clearance for infusions, naive-pooled fit otherwise."""

import numpy as np
import pandas as pd
import pytest
from poppk_helpers import infusion_frame

from blinapk.data import read_dataset
from blinapk.poppk import PopPKSpec, build_model, model_info


def _bolus_frame(cl=(0.4, 0.6, 0.5), v=(18.0, 25.0, 20.0), wt=(2.0, 3.0, 2.5)):
    """Noise-free IV bolus data (100 ug at 0 h), 1-cmt: C = 1000 D / V exp(-CL/V t)."""
    rows = []
    for i, (c, vv, w) in enumerate(zip(cl, v, wt, strict=True)):
        rows.append({"ID": i + 1, "TIME": 0.0, "EVID": 1, "AMT": 100.0, "RATE": 0.0,
                     "DV": 0.0, "MDV": 1, "WT": w})
        for t in (1.0, 6.0, 24.0, 48.0):
            rows.append({"ID": i + 1, "TIME": t, "EVID": 0, "AMT": 0.0, "RATE": 0.0,
                         "DV": 1000 * 100.0 / vv * np.exp(-c / vv * t), "MDV": 0, "WT": w})
    return pd.DataFrame(rows).assign(LLOQ=0.0, LOD=0.0, CENS=0)


def test_pooled_start_recovers_typical_values_of_bolus_data():
    """No steady-state sample: the start is a naive-pooled fit, not the prior centre."""
    cl, v = 0.5, 20.0
    info = model_info(build_model(read_dataset(_bolus_frame((cl,) * 3, (v,) * 3))))
    assert dict(info.init.source) == {"CL": "pooled", "V": "pooled"}
    assert info.init.typical["CL"] == pytest.approx(cl, rel=1e-2)
    assert info.init.typical["V"] == pytest.approx(v, rel=1e-2)


def test_pooled_start_uses_fixed_covariate_effects():
    wt = np.array([2.0, 3.0, 2.5])
    frame = _bolus_frame(tuple(0.2 * wt), tuple(8.0 * wt), tuple(wt))
    spec = PopPKSpec(covariates=("CL~WT:power@1=1", "V~WT:power@1=1"))
    info = model_info(build_model(read_dataset(frame), spec))
    assert info.init.typical["CL"] == pytest.approx(0.2, rel=1e-2)  # per kg
    assert info.init.typical["V"] == pytest.approx(8.0, rel=1e-2)


def test_infusion_data_keep_the_nca_start():
    info = model_info(build_model(read_dataset(infusion_frame(4, cl=[1.0, 2.0, 3.0, 4.0]))))
    assert info.init.source["CL"] == "nca" and info.init.source["V"] == "prior"
