"""PSIS-LOO: the Pareto-k table, its warning, the observation scale, comparisons, shrinkage."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

from blinapk.diagnostics import compare_fits, compute_loo, prior_posterior, shrinkage_table
from blinapk.diagnostics.loo import natural_scale_loglik
from blinapk.errors import BlinapkError, DiagnosticWarning


def test_loo_summary_and_k_table(example_diagnostics):
    loo = example_diagnostics.loo
    n = len(example_diagnostics.predictions)
    assert len(loo.pointwise) == n and loo.level == "observation"
    k_table = loo.k_table()
    assert k_table["COUNT"].sum() == n
    assert k_table["LABEL"].tolist() == ["good", "ok", "bad", "very bad"]
    assert k_table["PERCENT"].sum() == pytest.approx(100.0)
    summary = loo.summary().set_index("QUANTITY")
    assert summary.loc["elpd_loo", "ESTIMATE"] == pytest.approx(loo.elpd)
    assert summary.loc["looic", "ESTIMATE"] == pytest.approx(-2 * loo.elpd)
    assert summary.loc["n_pareto_k_above_0.7", "ESTIMATE"] == loo.n_high_k
    assert loo.pointwise["ELPD"].sum() == pytest.approx(loo.elpd)
    table = example_diagnostics.predictions_table()
    assert {"ELPD", "PARETO_K"} <= set(table.columns)


def test_warning_names_the_worst_observations(example_fit):
    _, result = example_fit
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loo = compute_loo(result)
    relevant = [w for w in caught if issubclass(w.category, DiagnosticWarning)]
    if loo.n_high_k:
        assert relevant and "Pareto k > 0.7" in str(relevant[0].message)
        worst = loo.pointwise.nlargest(1, "PARETO_K")["ROW"].iloc[0]
        assert f"ROW {worst}" in str(relevant[0].message)
    else:
        assert not relevant
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compute_loo(result, warn=False)


def test_loglik_is_on_the_scale_of_dv(example_fit):
    _, result = example_fit
    stored = result.idata.log_likelihood["conc"]
    natural = natural_scale_loglik(result)
    cens = result.idata.constant_data["cens"].values > 0
    log_dv = result.idata.observed_data["conc"].values
    diff = (stored - natural).isel(chain=0, draw=0).values
    np.testing.assert_allclose(diff[~cens], log_dv[~cens])
    np.testing.assert_allclose(diff[cens], 0.0)


def test_compare_refuses_other_data_and_single_fits(example_fit):
    ds, result = example_fit
    with pytest.raises(BlinapkError, match="two"):
        compare_fits({"a": result})
    elsewhere = dataclasses.replace(result, data_hash="0" * 64)
    with pytest.raises(BlinapkError, match="another dataset"):
        compare_fits({"a": result, "b": elsewhere})
    with pytest.raises(BlinapkError, match="dataset"):
        compute_loo(result, level="subject")
    with pytest.raises(BlinapkError, match="level"):
        compute_loo(result, level="cohort")
    one_draw = dataclasses.replace(result, idata=result.idata.isel(chain=[0], draw=[0]),
                                   method="map")
    with pytest.raises(BlinapkError, match="MAP"):
        compute_loo(one_draw)


def test_subject_level_loo_integrates_the_random_effects(example_fit):
    ds, result = example_fit
    # the default 200 random-effect draws per subject: 50 left the integral so noisy that
    # p_loo (45) exceeded the 24 subjects on one posterior sample
    loo = compute_loo(result, level="subject", dataset=ds, max_draws=100, warn=False)
    assert loo.level == "subject" and len(loo.pointwise) == len(ds.subjects)
    assert loo.pointwise["N_OBS"].sum() == result.idata.observed_data["conc"].size
    assert np.isfinite(loo.elpd) and loo.summary()["QUANTITY"].iloc[3] == "n_subjects"
    # a handful of parameters, not one per observation
    assert 0 < loo.p_loo < 20


def test_shrinkage_flag_and_prior_posterior(example_fit):
    _, result = example_fit
    table = shrinkage_table(result)
    assert list(table.columns) == ["PARAMETER", "OMEGA", "SD_ETA", "SHRINKAGE_PCT", "FLAG"]
    flagged = table["SHRINKAGE_PCT"] > 30
    assert (table.loc[flagged, "FLAG"].str.startswith("> 30 %")).all()
    assert (table.loc[~flagged, "FLAG"] == "").all()
    pp = prior_posterior(result, n=300)
    assert set(pp["SOURCE"]) == {"prior", "posterior"}
    assert set(pp["PARAMETER"]) == {"TV_CL", "TV_V", "OMEGA_CL", "OMEGA_V", "BETA_CL_BSA",
                                    "SIGMA_PROP"}
    assert (pp.loc[pp["PARAMETER"] == "TV_CL", "VALUE"] > 0).all()
    assert (pp.groupby(["PARAMETER", "SOURCE"]).size().xs("prior", level=1) == 300).all()
    post_cl = pp[(pp["PARAMETER"] == "TV_CL") & (pp["SOURCE"] == "posterior")]["VALUE"]
    prior_cl = pp[(pp["PARAMETER"] == "TV_CL") & (pp["SOURCE"] == "prior")]["VALUE"]
    assert np.std(np.log(post_cl)) < np.std(np.log(prior_cl))  # the data inform CL
