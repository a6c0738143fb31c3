"""NPDE: calibrated under the simulating model, BLQ rows imputed as M3 sees them, tests, trends."""

from __future__ import annotations

import numpy as np
import pytest

from blinapk.diagnostics import compute_npde, npde_tests, npde_trend


def _population(rng, n_sub, n_obs, k_sim, lloq=None):
    """Log-normal data with a subject effect (correlated within subject), observed and simulated."""
    def draw(size):
        eta = rng.normal(0.0, 0.5, (size, n_sub, 1))
        eps = rng.normal(0.0, 0.2, (size, n_sub, n_obs))
        trend = np.linspace(0.0, -1.5, n_obs)[None, None, :]  # a wash-out like decline
        return np.exp(np.log(200.0) + eta + trend + eps).reshape(size, -1)

    obs = draw(1)[0]
    sims = draw(k_sim)
    subject = np.repeat(np.arange(n_sub), n_obs)
    cens = np.zeros(obs.size, dtype=bool) if lloq is None else obs < lloq
    return np.where(cens, lloq or 0.0, obs), cens, sims, subject


@pytest.mark.parametrize("lloq", [None, 80.0])
def test_npde_are_standard_normal_under_the_model(lloq):
    rng = np.random.default_rng(3)
    obs, cens, sims, subject = _population(rng, 150, 6, 1000, lloq)
    if lloq is not None:
        assert 0.1 < cens.mean() < 0.5  # a real share of censored rows
    lloq_arr = np.full(obs.size, lloq or 1.0)
    pd_, npde = compute_npde(obs, cens, lloq_arr, sims, subject, rng)
    n = npde.size
    assert abs(npde.mean()) < 3.0 / np.sqrt(n)
    assert abs(npde.var(ddof=1) - 1.0) < 3.0 * np.sqrt(2.0 / (n - 1))
    assert not npde_tests(npde)["SIGNIFICANT"].any()
    assert np.all((pd_ >= 0) & (pd_ <= 1))
    if lloq is not None:  # censored pd lie below the probability of being below the LLOQ
        p_loq = np.mean(sims[:, cens] <= lloq, axis=0)
        assert np.all(pd_[cens] <= p_loq + 1e-12)


def test_npde_detect_a_biased_model():
    rng = np.random.default_rng(4)
    obs, cens, sims, subject = _population(rng, 100, 6, 500)
    _, npde = compute_npde(obs * 1.6, cens, np.ones(obs.size), sims, subject, rng)
    tests = npde_tests(npde).set_index("TEST")
    assert tests.loc["mean", "ESTIMATE"] > 0.15 and tests.loc["mean", "SIGNIFICANT"]
    assert tests.loc["global", "SIGNIFICANT"]


def test_npde_are_bounded_by_the_number_of_simulations():
    rng = np.random.default_rng(5)
    obs, cens, sims, subject = _population(rng, 10, 4, 50)
    _, npde = compute_npde(obs * 100.0, cens, np.ones(obs.size), sims, subject, rng)
    from scipy.stats import norm

    assert np.allclose(npde.max(), norm.ppf(1 - 1 / 50))


def test_npde_tests_table_and_small_input():
    table = npde_tests(np.random.default_rng(1).standard_normal(300), alpha=0.01)
    assert list(table.columns) == ["TEST", "ESTIMATE", "EXPECTED", "STATISTIC", "P_VALUE",
                                   "SIGNIFICANT", "N"]
    assert table["TEST"].tolist() == ["mean", "variance", "normality", "global"]
    assert table.attrs["alpha"] == 0.01
    assert npde_tests([0.1, np.nan])["P_VALUE"].isna().all()


def test_npde_trend_bins_and_intervals():
    x = np.arange(400.0)
    z = np.where(x < 200, 1.0, -1.0) + np.random.default_rng(2).normal(0, 0.1, 400)
    trend = npde_trend(x, z, n_bins=4)
    assert list(trend.columns) == ["X", "MEAN", "LOWER", "UPPER", "N"]
    assert trend["N"].tolist() == [100, 100, 100, 100]
    assert (trend["MEAN"].iloc[:2] > 0.8).all() and (trend["MEAN"].iloc[2:] < -0.8).all()
    assert (trend["LOWER"] < trend["MEAN"]).all() and (trend["MEAN"] < trend["UPPER"]).all()
    log_trend = npde_trend(np.r_[x + 1, -1.0], np.r_[z, 0.0], log=True)
    assert log_trend["N"].sum() == 400  # non-positive x left out on the log scale
