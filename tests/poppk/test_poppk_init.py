"""Starting values: NCA clearance for infusions, naive-pooled fit otherwise."""

import numpy as np
import pandas as pd
import pytest
from poppk_helpers import infusion_frame

from blinapk.data import read_dataset
from blinapk.pk import dose_matrix, predict_conc
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


#: Doses (time h, amount ug, rate ug/h): 9 ug/day for 7 days, 28 ug/day, stopped at
#: 202 h (a 13-h interruption), restarted at 9 ug/day at 215 h.
_RESTART_DOSES = ((0.0, 63.0, 0.375), (168.0, 39.0 + 2 / 3, 28 / 24), (215.0, 63.0, 0.375))
_RESTART_TIMES = np.array([47.7, 167.5, 216.0, 263.0, 336.0])


def _restart_frame(cl, v):
    """Noise-free 1-cmt data of the interruption design (one subject per (cl, v))."""
    rows = []
    for i, (c, vv) in enumerate(zip(cl, v, strict=True)):
        doses = [{"ID": i + 1, "TIME": t, "EVID": 1, "AMT": a, "RATE": r, "DV": 0.0, "MDV": 1}
                 for t, a, r in _RESTART_DOSES]
        conc = predict_conc(_RESTART_TIMES, np.zeros(_RESTART_TIMES.size, dtype=int),
                            dose_matrix(pd.DataFrame(doses), [i + 1]),
                            {"CL": np.array([c]), "V": np.array([vv])})
        rows += doses + [{"ID": i + 1, "TIME": t, "EVID": 0, "AMT": 0.0, "RATE": 0.0,
                          "DV": float(y), "MDV": 0} for t, y in zip(_RESTART_TIMES, conc,
                                                                    strict=True)]
    frame = pd.DataFrame(rows).sort_values(["ID", "TIME"], kind="stable")
    return frame.assign(DVID="BLIN", LLOQ=50.0, LOD=3.0, CENS=0)


def test_restart_sample_is_bimodal_in_v():
    """The design of subject 1999 (N = 3000 robustness, seed 12): 1 h after the restart,
    a large V (slow decay from 28 ug/day) and a very small V (fast rise to the new Css)
    both explain a high sample, with a valley near V = 2 L between them."""
    f = _restart_frame([0.78] * 4, [9.6, 0.5, 5.0, 2.0])
    at_216 = f.loc[(f["TIME"] == 216.0) & (f["EVID"] == 0), "DV"].to_numpy()
    assert at_216[0] > at_216[2] > at_216[3] and at_216[1] > at_216[3]


def test_subject_start_is_in_the_mode_the_prior_favours():
    f = _restart_frame([0.78, 2.0, 2.5, 1.5], [9.6, 6.0, 6.0, 6.0])
    info = model_info(build_model(read_dataset(f)))
    v_start = info.init.typical["V"] * np.exp(info.init.subject_eta["V"])
    assert info.init.typical["V"] == pytest.approx(5.0, rel=1e-6)  # the prior centre
    assert 7.5 < v_start[0] < 12.0
    # the sampler's start of the subject's V effect is the grid mode, not the typical value
    z_v = info.initvals["z_V"]
    assert z_v[0] == pytest.approx(info.init.subject_eta["V"][0] / info.init.omega["V"])


def test_subject_start_without_information_is_the_typical_value():
    """Steady-state samples only: V is not informed, its start is eta = 0 (the prior mode)."""
    frame = infusion_frame(4, obs_times=(24.0, 48.0, 72.0), cl=[1.0, 2.0, 3.0, 4.0])
    info = model_info(build_model(read_dataset(frame)))
    np.testing.assert_allclose(info.init.subject_eta["V"], 0.0, atol=1e-9)
    own = np.log(info.init.subject_cl / info.init.typical["CL"])
    np.testing.assert_allclose(info.init.subject_eta["CL"], own, atol=1e-12)
