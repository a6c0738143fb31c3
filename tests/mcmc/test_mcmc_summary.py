"""draw_stats: the parameter-table statistics of one quantity, as ArviZ computes them."""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pytest

from blinapk.mcmc.summary import STAT_COLUMNS, draw_stats


def _arviz_stats(x: np.ndarray, ci: float) -> dict[str, float]:
    """Pooled statistics with az.ess / az.rhat per copy (the tables' definition)."""
    copies = x[None] if x.ndim == 2 else x
    flat = x.ravel()
    lo, hi = (1 - ci) / 2, 1 - (1 - ci) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {"MEAN": flat.mean(), "SD": flat.std(ddof=1), "MEDIAN": np.median(flat),
                "LOWER": np.quantile(flat, lo), "UPPER": np.quantile(flat, hi),
                "ESS_BULK": sum(float(az.ess(c, method="bulk")) for c in copies),
                "ESS_TAIL": sum(float(az.ess(c, method="tail")) for c in copies),
                "R_HAT": max(float(az.rhat(c, method="rank")) for c in copies)}


@pytest.mark.parametrize("shape", [(2, 500), (4, 200), (3, 2, 300)])
def test_equals_arviz(shape):
    rng = np.random.default_rng(sum(shape))
    x = rng.normal(size=shape).cumsum(axis=-1) * 0.1 + rng.normal(size=shape)
    got, want = draw_stats(x, 0.9), _arviz_stats(x, 0.9)
    assert tuple(got) == STAT_COLUMNS
    for key in STAT_COLUMNS:
        assert got[key] == pytest.approx(want[key], rel=1e-12), key


def test_hand_values_and_short_or_single_chains():
    x = np.arange(1.0, 9.0).reshape(2, 4)  # 1..8
    s = draw_stats(x, 0.5)
    assert (s["MEAN"], s["MEDIAN"]) == (4.5, 4.5)
    assert (s["LOWER"], s["UPPER"]) == (2.75, 6.25)  # numpy's linear quantiles
    assert s["SD"] == pytest.approx(np.sqrt(6.0))
    short = draw_stats(np.ones((2, 3)), 0.9)
    assert np.isnan([short["ESS_BULK"], short["ESS_TAIL"], short["R_HAT"]]).all()
    one_chain = draw_stats(np.random.default_rng(1).normal(size=(1, 400)), 0.9)
    assert np.isnan(one_chain["R_HAT"]) and one_chain["ESS_BULK"] > 100
