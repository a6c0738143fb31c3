"""BLQ handling: M3 vs M1 under heavy censoring, and wash-out BLQ samples."""

import warnings

import numpy as np
import pandas as pd
import pytest

from blinapk.data import read_dataset
from blinapk.datasets import simulate_trial
from blinapk.poppk import PopPKSpec, fit
from blinapk.poppk.build import build_model, model_info


def _with_washout_blq(frame: pd.DataFrame, hours=(24.0, 48.0, 72.0)) -> pd.DataFrame:
    """Add BLQ samples 1-3 days after each subject's last infusion ends."""
    doses = frame[frame["EVID"] == 1]
    end = (doses["TIME"] + doses["AMT"] / doses["RATE"]).groupby(doses["ID"]).max()
    base = frame[(frame["EVID"] == 0) & (frame["DVID"] == "BLIN")].groupby("ID").first()
    rows = []
    for sid, t_end in end.items():
        for h in hours:
            row = base.loc[sid].to_dict() | {"ID": sid, "TIME": t_end + h, "DV": 50.0,
                                             "CENS": 1, "LLOQ": 50.0, "MDV": 0}
            rows.append(row)
    out = pd.concat([frame, pd.DataFrame(rows)], ignore_index=True)
    return out.sort_values(["ID", "TIME", "EVID"], ascending=[True, True, False],
                           kind="stable").reset_index(drop=True)


def test_washout_blq_rows_carry_no_likelihood():
    trial = simulate_trial(20, seed=3, cytokines=False)
    frame = _with_washout_blq(trial.data)
    model = build_model(read_dataset(frame), PopPKSpec(covariates=("CL~BSA",)))
    info = model_info(model)
    from pymc.initial_point import make_initial_point_fn

    point = make_initial_point_fn(model=model, overrides=dict(info.initvals),
                                  return_transformed=True, jitter_rvs=set())(0)
    ll = model.compile_fn(model.logp(vars=[model["conc"]], sum=False)[0],
                          inputs=model.value_vars, on_unused_input="ignore")(point)
    late = info.data.cens & (info.data.rate == 0) & (info.data.since_change >= 24.0)
    assert late.sum() >= 3 * 20  # the added rows (and any late BLQ sample already there)
    # log P(C < LLOQ) with C ~ 0 a day after stopping a 2-h half-life drug: exactly ~0
    assert np.all(ll[late] > -1e-9) and np.all(ll[late] <= 0.0)


@pytest.mark.slow
def test_washout_blq_rows_do_not_move_the_estimates():
    trial = simulate_trial(60, seed=4, cytokines=False)
    spec = PopPKSpec(covariates=("CL~BSA",))
    base = fit(read_dataset(trial.data), spec, method="map", seed=2, progressbar=False)
    more = fit(read_dataset(_with_washout_blq(trial.data)), spec, method="map", seed=2,
               progressbar=False)
    a = base.summary().set_index("PARAMETER")["MEDIAN"]
    b = more.summary().set_index("PARAMETER")["MEDIAN"]
    for key in ("TV_CL", "TV_V", "BETA_CL_BSA", "SIGMA_PROP", "OMEGA_CL"):
        assert b[key] == pytest.approx(a[key], rel=1e-3), key


@pytest.mark.slow
def test_m3_recovers_cl_and_v_where_m1_is_biased():
    """LLOQ raised to 250 pg/mL: ~40 % of the samples are BLQ (Beal 2001)."""
    trial = simulate_trial(120, seed=7, lloq=250.0, cytokines=False)
    ds = read_dataset(trial.data)
    n = trial.settings["card_numbers"]
    kw = {"draws": 400, "tune": 400, "chains": 2, "seed": 3, "progressbar": False}
    fits = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for blq in ("M3", "M1"):
            spec = PopPKSpec(covariates=("CL~BSA:power@1.88",), residual="combined", blq=blq)
            fits[blq] = fit(ds, spec, **kw)
    m3 = fits["M3"].summary().set_index("PARAMETER")
    m1 = fits["M1"].summary().set_index("PARAMETER")
    info3 = fits["M3"].idata.constant_data["cens"].values
    print(f"\nBLQ share among modelled samples (M3): {info3.mean():.3f}")
    print("M3\n" + m3.loc[["TV_CL", "TV_V", "OMEGA_CL"], ["MEDIAN", "LOWER", "UPPER"]].to_string())
    print("M1\n" + m1.loc[["TV_CL", "TV_V", "OMEGA_CL"], ["MEDIAN", "LOWER", "UPPER"]].to_string())
    assert info3.mean() > 0.3
    for key, truth in (("TV_CL", n["typical.CL"]), ("TV_V", n["typical.V"])):
        assert m3.loc[key, "LOWER"] <= truth <= m3.loc[key, "UPPER"], key
    # M1 drops the low concentrations (high-CL subjects): CL biased low, interval misses truth
    assert m1.loc["TV_CL", "UPPER"] < n["typical.CL"]
    assert abs(np.log(m1.loc["TV_CL", "MEDIAN"] / n["typical.CL"])) > 2 * abs(
        np.log(m3.loc["TV_CL", "MEDIAN"] / n["typical.CL"]))
