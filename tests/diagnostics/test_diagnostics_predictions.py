"""The predictions table of a fit: one row per observation, every column, reproducible."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from blinapk.data import read_dataset
from blinapk.diagnostics import PREDICTION_COLUMNS, compute_predictions
from blinapk.errors import BlinapkError


@pytest.fixture(scope="module")
def predictions(example_fit):
    ds, result = example_fit
    return compute_predictions(result, ds, n_sim=200)


def test_one_row_per_fitted_observation_with_every_column(example_fit, predictions):
    ds, result = example_fit
    table = predictions.to_frame()
    assert tuple(table.columns) == PREDICTION_COLUMNS
    assert table["ROW"].tolist() == result.idata.observed_data["obs"].values.tolist()
    source = ds.frame.set_index("ROW").loc[table["ROW"]]
    assert table["ID"].tolist() == source["ID"].tolist()
    np.testing.assert_array_equal(table["TIME"], source["TIME"])
    assert table["CENS"].tolist() == source["CENS"].tolist()
    assert predictions.sims.shape == (200, len(table))
    assert len(predictions.observations) == len(table)
    assert set(predictions.rates.columns) >= {"ID", "START", "END", "RATE"}


def test_predictions_are_ordered_and_in_range(predictions):
    t = predictions.table
    assert (t["PRED"] >= 0).all() and (t["IPRED"] >= 0).all()
    assert (t["IPRED_LOWER"] <= t["IPRED"] + 1e-9).all()
    assert (t["IPRED"] <= t["IPRED_UPPER"] + 1e-9).all()
    assert (t["PI_LOWER"] <= t["PI_UPPER"]).all()
    for col in ("PIT", "PD"):
        assert t[col].between(0.0, 1.0).all()
    assert t.loc[t["CENS"] == 1, "IWRES"].isna().all()
    assert t.loc[t["CENS"] == 0, "IWRES"].notna().all()
    assert np.isfinite(t["NPDE"]).all()
    # the individual fit is closer to the data than the population prediction
    q = t[t["CENS"] == 0]
    err_i = np.abs(np.log(q["DV"] / q["IPRED"])).median()
    err_p = np.abs(np.log(q["DV"] / q["PRED"])).median()
    assert err_i < err_p
    # most quantified observations fall inside their 90 % predictive interval
    inside = ((q["DV"] >= q["PI_LOWER"]) & (q["DV"] <= q["PI_UPPER"])).mean()
    assert 0.8 < inside <= 1.0


def test_same_seed_same_table_and_seed_changes_simulations(example_fit, predictions):
    ds, result = example_fit
    again = compute_predictions(result, ds, n_sim=200)
    assert again.table.equals(predictions.table)
    other = compute_predictions(result, ds, n_sim=200, seed=99)
    assert not np.allclose(other.table["NPDE"], predictions.table["NPDE"])
    np.testing.assert_allclose(other.table["IPRED"], predictions.table["IPRED"])


def test_refuses_another_dataset_and_bad_arguments(example_fit):
    ds, result = example_fit
    frame = ds.frame.copy()
    frame.loc[(frame["EVID"] == 0) & (frame["CENS"] == 0), "DV"] *= 1.01
    with pytest.raises(BlinapkError, match="hash"):
        compute_predictions(result, read_dataset(frame))
    with pytest.raises(ValueError, match="ci"):
        compute_predictions(result, ds, ci=1.5)
    with pytest.raises(ValueError, match="n_sim"):
        compute_predictions(result, ds, n_sim=5)


def test_store_draws_adds_the_posterior_predictive_group(example_fit):
    ds, result = example_fit
    idata = result.idata
    compute_predictions(result, ds, n_sim=50, store_draws=True)
    try:
        conc = idata.posterior_predictive["conc"]
        assert conc.dims == ("chain", "draw", "obs")
        assert conc.shape == (idata.posterior.sizes["chain"], idata.posterior.sizes["draw"],
                              idata.observed_data["conc"].size)
        cens = idata.constant_data["cens"].values > 0
        lower = idata.observed_data["conc"].values[cens]  # log LLOQ on censored rows
        assert np.all(conc.values[..., cens] >= lower - 1e-9)
    finally:
        del idata.posterior_predictive


def test_a_single_draw_gives_a_table(example_fit):
    """As from a MAP fit: one draw, degenerate credible intervals, NPDE still defined."""
    ds, result = example_fit
    one_draw = dataclasses.replace(result, idata=result.idata.isel(chain=[0], draw=[0]),
                                   method="map")
    pred = compute_predictions(one_draw, ds, n_sim=50)
    assert pred.n_draws == 1 and np.isfinite(pred.table["NPDE"]).all()
    np.testing.assert_allclose(pred.table["IPRED_LOWER"], pred.table["IPRED_UPPER"])
