"""simulate_exposure: dimensions, closed forms, chunking, dask, populations, summaries."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from blinapk.dosing import Interruption, get_preset
from blinapk.errors import ModelSpecError
from blinapk.simulate import (
    Population,
    compute_exposure,
    simulate_exposure,
    simulate_trial,
    summarize_exposure,
)

NUMERIC = ("CSS", "CAVG", "TAT", "FTA", "WINDOW_H", "CL", "V", "BSA", "WT")


def _same(a, b):
    for name in a.data_vars:
        x, y = a[name].values, b[name].values
        if x.dtype.kind in "fc":
            np.testing.assert_array_equal(x, y, err_msg=name)
        else:
            assert (x.astype(str) == y.astype(str)).all(), name


@pytest.fixture(scope="module")
def mixed():
    return simulate_exposure(3000, seed=4, population="mixed", regimen="weight_based_rr",
                             chunk_size=700)


def test_dimensions_and_settings(mixed):
    assert mixed["CSS"].dims == ("draw", "subject", "dose_level")
    assert mixed["TAT"].dims == ("draw", "subject", "window", "threshold")
    assert list(mixed["window"].values) == ["C1", "C2"]
    assert mixed["subject"].values.tolist() == list(range(1, 3001))
    settings = json.loads(mixed.attrs["settings"])
    assert settings["seed"] == 4 and settings["chunk_size"] == 700
    assert settings["regimen"]["name"] == "weight_based_rr"
    assert mixed["CSS"].attrs["units"] == "pg/mL"


def test_css_is_rate_over_clearance_with_bsa_dosing_and_caps(mixed):
    bsa = mixed["BSA"].values
    cl = mixed["CL"].values[0]
    paed = mixed["ARM"].values == "paediatric"
    css15 = mixed["CSS"].sel(dose_level="15 ug/m2/day").values[0]
    expect = 1000 * np.minimum(15 * bsa, 28) / 24 / cl
    np.testing.assert_allclose(css15[paed], expect[paed], rtol=1e-12)
    assert np.isnan(css15[~paed]).all()
    css28 = mixed["CSS"].sel(dose_level="28 ug/day").values[0]
    np.testing.assert_allclose(css28[~paed], 1000 * 28 / 24 / cl[~paed], rtol=1e-12)


def test_cavg_follows_mass_balance(mixed):
    # cycles end with 14 days off: (almost) all drug eliminated, so AUC = 1000 amount / CL
    cl = mixed["CL"].values[0]
    adult = mixed["ARM"].values == "adult"
    auc_c1 = (mixed["CAVG"].sel(window="C1") * mixed["WINDOW_H"].sel(window="C1")).values[0]
    np.testing.assert_allclose(auc_c1[adult], 1000 * 651 / cl[adult], rtol=1e-4)
    assert ((mixed["FTA"] >= 0) & (mixed["FTA"] <= 1)).all()


def test_same_seed_same_numbers_and_prefix_stable_chunks():
    a = simulate_exposure(1500, seed=2, chunk_size=500)
    b = simulate_exposure(1500, seed=2, chunk_size=500)
    _same(a, b)
    # a larger population with the same chunk size keeps the earlier whole chunks
    c = simulate_exposure(2600, seed=2, chunk_size=500)
    _same(a, c.isel(subject=slice(0, 1500)))
    d = simulate_exposure(1500, seed=3, chunk_size=500)
    assert not np.array_equal(a["CL"].values, d["CL"].values)


def test_in_memory_and_dask_give_the_same_numbers(mixed):
    lazy = simulate_exposure(3000, seed=4, population="mixed", regimen="weight_based_rr",
                             chunk_size=700, dask="threads")
    assert lazy["CSS"].data.numblocks[1] == 5  # one block per chunk
    _same(mixed, compute_exposure(lazy))
    eager = summarize_exposure(mixed, by=("ARM", "BSA_BAND"))
    streamed = summarize_exposure(lazy, by=("ARM", "BSA_BAND"))
    pd.testing.assert_frame_equal(eager.attainment, streamed.attainment)
    pd.testing.assert_frame_equal(eager.distribution, streamed.distribution, rtol=1e-12)


def test_summary_quantiles_match_exact_quantiles(mixed):
    s = summarize_exposure(mixed, by=())
    for metric, key in (("CSS", "28 ug/day"), ("CAVG", "C2"), ("CL", "")):
        row = s.distribution.query("METRIC == @metric and KEY == @key").iloc[0]
        x = mixed[metric] if metric == "CL" else mixed[metric].sel(
            **{"dose_level" if metric == "CSS" else "window": key})
        v = x.values.ravel()
        v = v[np.isfinite(v)]
        assert row["N"] == v.size
        assert row["MEAN"] == pytest.approx(v.mean(), rel=1e-12)
        for q in (5, 50, 95):
            assert row[f"P{q}"] == pytest.approx(np.quantile(v, q / 100), rel=5e-3)
    att = s.attainment.query("METRIC == 'CSS' and KEY == '28 ug/day'").iloc[0]
    v = mixed["CSS"].sel(dose_level="28 ug/day").values.ravel()
    v = v[np.isfinite(v)]
    assert att["PTA"] == pytest.approx((v >= 470).mean())
    assert att["N"] == v.size


def test_draws_give_intervals_on_target_attainment():
    ds = simulate_exposure(400, seed=1, n_draws=20)
    assert ds["CL"].shape == (20, 400)
    s = summarize_exposure(ds, by=(), targets={"CSS": 470.0})
    row = s.attainment.query("KEY == '28 ug/day'").iloc[0]
    assert row["PTA_LOWER"] < row["PTA"] < row["PTA_UPPER"]


def test_interruption_costs_exposure_and_the_label_rule_restores_it():
    kw = dict(n=300, seed=5, thresholds=(), windows={"C1": 1, "days 1-28": (0.0, 672.0)})
    plain = simulate_exposure(**kw)
    pause = Interruption.from_days(10, 3)
    fixed = simulate_exposure(**kw, interruptions=pause)
    label = simulate_exposure(**kw, interruptions=Interruption.from_days(10, 3,
                                                                         schedule="label"))
    c1 = {k: v["CAVG"].sel(window="C1").values for k, v in
          (("plain", plain), ("fixed", fixed), ("label", label))}
    # a fixed pause removes 3 days of 28 ug/day; the label rule gives them later in the cycle
    assert (c1["fixed"] < c1["plain"]).all()
    auc = {k: (v["CAVG"] * v["WINDOW_H"]).sel(window="C1").values for k, v in
           (("plain", plain), ("label", label))}
    np.testing.assert_allclose(auc["label"], auc["plain"], rtol=1e-6)
    assert label["WINDOW_H"].sel(window="C1").values[0] == (42 + 3) * 24


def test_population_from_data_resamples_subjects():
    trial = simulate_trial(30, seed=1, cytokines=False)
    pop = Population.from_data(trial.data, label="trial")
    ds = simulate_exposure(500, seed=1, population=pop, regimen="weight_based_rr")
    source = trial.truth.set_index("ID")
    ids = ds["SOURCE_ID"].values.astype(int)
    np.testing.assert_allclose(ds["BSA"].values, source.loc[ids, "BSA"].to_numpy())
    assert set(ids) <= set(source.index)
    assert json.loads(ds.attrs["settings"])["population"]["name"] == "data:trial"


def test_custom_regimen_windows_and_errors():
    ds = simulate_exposure(50, seed=1, regimen=get_preset("aall1331"), population="paediatric",
                           windows={"block 1": 1, "all": "all", "week 1": (0, 168)})
    assert list(ds["dose_level"].values) == ["15 ug/m2/day"]
    assert ds["WINDOW_H"].sel(window="all").values[0] == 70 * 24
    with pytest.raises(ModelSpecError, match="window"):
        simulate_exposure(10, seed=1, windows={"bad": 7})
    with pytest.raises(ModelSpecError, match="unknown regimen"):
        simulate_exposure(10, seed=1, regimen="nope")
    with pytest.raises(ModelSpecError, match="population"):
        simulate_exposure(10, seed=1, population="martians")
    with pytest.raises(ValueError):
        simulate_exposure(0, seed=1)


def test_short_card_name_and_two_compartment_card(tmp_path):
    a = simulate_exposure(20, seed=1, source="zhu2020")
    assert json.loads(a.attrs["settings"])["source_name"] == "blinatumomab_zhu2020"
    b = simulate_exposure(20, seed=1, source="klinger2012", windows={"w": (0, 300)})
    assert np.isfinite(b["CAVG"].values).all()


def test_chunk_plans_pickle_for_process_schedulers():
    # dask="processes" / "local" ship the plan to other processes: it must pickle
    import pickle

    from blinapk.simulate.exposure import make_plan, run_chunk

    plan = make_plan(50, 3, source="zhu2020", population="mixed", regimen="weight_based_rr",
                     n_cycles=None, interruptions=Interruption(100, 24, schedule="label"),
                     n_draws=2, windows=None, thresholds=(470.0,), subjects="new",
                     chunk_size=20)
    again = pickle.loads(pickle.dumps(plan))
    a, b = run_chunk(plan, 1), run_chunk(again, 1)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
