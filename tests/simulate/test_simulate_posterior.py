"""Simulating from a fitted posterior: parameter reconstruction, fitted subjects, known truth."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from blinapk.errors import ModelSpecError
from blinapk.simulate import (
    Population,
    PosteriorSource,
    simulate_exposure,
    simulate_trial,
    summarize_exposure,
)


def _indiv(fit, param):
    """(sample, subject) posterior draws of a subject's parameter, as the model defines it."""
    post = fit.posterior["indiv"].sel(param=param).stack(sample=("chain", "draw"))
    return np.asarray(post.transpose("sample", "subject").values)


def test_source_reads_the_posterior(known_truth_fit):
    _, _, fit = known_truth_fit
    src = PosteriorSource.from_fit(fit)
    assert src.params == ("CL", "V") and src.structure == "1cmt"
    assert src.n_samples == 600
    assert src.covariate_names == ("BSA",)
    assert src.beta["CL_BSA"].shape == (600,)
    assert src.settings()["method"] == "nuts"
    with pytest.raises(ModelSpecError, match="subjects"):
        PosteriorSource.from_fit(fit, subjects="everyone")


def test_fitted_subjects_get_exactly_their_posterior_parameters(known_truth_fit):
    _, dataset, fit = known_truth_fit
    pop = Population.from_data(dataset, label="fitted")
    ds = simulate_exposure(300, seed=1, source=fit, population=pop, subjects="fitted",
                           n_draws=7, regimen="weight_based_rr")
    samples = np.asarray(json.loads(ds.attrs["settings"])["posterior_samples"])
    ids = [str(i) for i in fit.posterior["subject"].values]
    pos = [ids.index(str(int(s))) for s in ds["SOURCE_ID"].values]
    for p in ("CL", "V"):
        expect = _indiv(fit, p)[samples][:, pos]
        np.testing.assert_allclose(ds[p].values, expect, rtol=1e-9)


def test_new_subjects_and_a_saved_fit_give_the_same_numbers(known_truth_fit, tmp_path):
    _, _, fit = known_truth_fit
    path = fit.save(tmp_path / "fit.nc")
    a = simulate_exposure(200, seed=2, source=fit, n_draws=3)
    b = simulate_exposure(200, seed=2, source=path, n_draws=3)
    np.testing.assert_array_equal(a["CSS"].values, b["CSS"].values)
    assert json.loads(a.attrs["settings"])["source"]["type"] == "PosteriorSource"


def test_posterior_source_drives_simulate_trial(known_truth_fit):
    _, _, fit = known_truth_fit
    trial = simulate_trial(8, seed=1, card=PosteriorSource.from_fit(fit), cytokines=False)
    assert {"DRAW", "TV_CL", "ETA_CL", "CL"} <= set(trial.truth.columns)
    assert trial.settings["parameter_source"]["type"] == "PosteriorSource"


@pytest.mark.slow
def test_simulation_from_the_fit_reproduces_the_true_css_distribution(known_truth_fit):
    """Quantiles of adult Css at 28 ug/day: truth within the posterior predictive spread.

    Truth: the generating card (Zhu 2020) on 200,000 adults (Monte Carlo SE of a quantile
    < 0.5 %). Simulation: 100 posterior draws x 2,000 new adults; for each quantile the
    truth must lie within the 1-99 % range of that quantile across draws (parameter
    uncertainty of a 40-subject fit, plus Monte Carlo error of 2,000 patients), and the
    posterior median of the quantile within 20 % of the truth.
    """
    _, _, fit = known_truth_fit
    qs = np.array([0.1, 0.25, 0.5, 0.75, 0.9])
    truth = simulate_exposure(200_000, seed=11, regimen="adult_rr", thresholds=())
    t = np.quantile(truth["CSS"].sel(dose_level="28 ug/day").values.ravel(), qs)
    sim = simulate_exposure(2000, seed=12, source=fit, regimen="adult_rr", n_draws=100,
                            thresholds=())
    per_draw = np.quantile(sim["CSS"].sel(dose_level="28 ug/day").values, qs, axis=1)
    lo, mid, hi = np.quantile(per_draw, [0.01, 0.5, 0.99], axis=1)
    assert ((lo <= t) & (t <= hi)).all(), (lo, t, hi)
    assert np.allclose(mid, t, rtol=0.2), (mid, t)
    s = summarize_exposure(sim, by=(), targets={"CSS": 470.0})
    row = s.attainment.query("KEY == '28 ug/day'").iloc[0]
    true_pta = float((truth["CSS"].sel(dose_level="28 ug/day").values >= 470).mean())
    assert row["PTA_LOWER"] <= true_pta <= row["PTA_UPPER"]
    assert isinstance(s.distribution, pd.DataFrame)
