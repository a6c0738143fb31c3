"""Endpoint plots draw what the results hold (curves, censoring, numbers at risk, rates with
their intervals) and return a Figure that saves to PNG."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from endpoint_study import make_study  # noqa: E402

from blinapk.data import read_clinical  # noqa: E402
from blinapk.endpoints import compute_endpoints, compute_km, compute_logrank  # noqa: E402
from blinapk.plotting import plot_ae_forest, plot_km, plot_response  # noqa: E402


@pytest.fixture(scope="module")
def results():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clinical = read_clinical(**make_study())
    return compute_endpoints(clinical, by="ARM")


@pytest.fixture()
def tiny():
    """Two groups of 4 with known curves: A events at 1, 3, censored at 2 and 5; B at 2, 4, 6, 8."""
    return pd.DataFrame({"TIME": [1.0, 2, 3, 5, 2, 4, 6, 8], "EVENT": [1, 0, 1, 0, 1, 1, 1, 1],
                         "ARM": ["A"] * 4 + ["B"] * 4})


def _steps(ax):
    return [ln for ln in ax.get_lines() if ln.get_drawstyle() == "steps-post"]


def _censor_marks(ax):
    return [ln for ln in ax.get_lines() if ln.get_marker() == "|" and len(ln.get_xdata())]


def test_km_draws_one_step_curve_band_and_risk_row_per_group(tiny, tmp_path):
    km = compute_km(tiny, by="ARM")
    fig = plot_km(km)
    assert isinstance(fig, plt.Figure)
    ax, table = fig.axes
    steps = _steps(ax)
    assert len(steps) == 2
    np.testing.assert_allclose(steps[0].get_xdata(), [0, 1, 2, 3, 5])
    np.testing.assert_allclose(steps[0].get_ydata(), [1, 0.75, 0.75, 0.375, 0.375])
    np.testing.assert_allclose(steps[1].get_ydata(), [1, 0.75, 0.5, 0.25, 0.0])
    assert len(ax.collections) == 2  # one confidence band per group
    marks = _censor_marks(ax)
    assert len(marks) == 1  # only A is censored
    np.testing.assert_allclose(marks[0].get_xdata(), [2, 5])
    np.testing.assert_allclose(marks[0].get_ydata(), [0.75, 0.375])
    assert [t.get_text() for t in table.get_yticklabels()] == ["A", "B"]
    ticks = ax.get_xticks()
    shown = {(t.get_position()[0], t.get_text()) for t in table.texts}
    risk = km.at_risk(list(ticks))
    expected = {(row.TIME, str(row.AT_RISK)) for row in risk.itertuples()}
    assert shown == expected
    assert {t.get_text() for t in table.texts if t.get_position()[0] == 0} == {"4"}
    assert table.get_title(loc="left") == "number at risk"
    fig.savefig(tmp_path / "km.png")
    assert (tmp_path / "km.png").stat().st_size > 5000
    plt.close(fig)


def test_km_of_a_study_endpoint_in_months(results):
    fig = plot_km(results.km["OS"], logrank=results.logrank, median=True)
    ax, table = fig.axes
    assert ax.get_xlabel() == "months since day 1"
    assert ax.get_ylabel() == "probability alive"
    assert "Overall survival (OS)" in ax.get_title() and "95 % CI (log-log)" in ax.get_title()
    assert len(_steps(ax)) == 2
    dashed = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert len(dashed) == 2  # both medians reached
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0].startswith("blinatumomab (n=20, events=12; median 7.1 months)")
    assert legend[-1] == "censored"
    assert any(t.get_text() == "log-rank p = 0.023" for t in ax.texts)
    assert len(table.texts) == 2 * len(ax.get_xticks())
    assert max(ax.get_xticks()) <= results.km["OS"].curves["TIME"].max()
    rfs = plot_km(results.km["RFS"], ci=False, censor_marks=False)
    assert rfs.axes[0].get_xlabel() == "months since first CR/CRh*"
    assert not rfs.axes[0].collections and not _censor_marks(rfs.axes[0])
    plt.close("all")


def test_km_picks_an_endpoint_and_reuses_a_figure(results, tiny):
    both = compute_km(pd.concat([tiny.assign(ENDPOINT="OS"), tiny.assign(ENDPOINT="DFS")]),
                      by="ARM")
    with pytest.raises(ValueError, match="pass endpoint="):
        plot_km(both)
    with pytest.raises(ValueError, match="no curve for endpoint 'RFS'"):
        plot_km(both, endpoint="RFS")
    fig = plt.figure()
    out = plot_km(both, endpoint="DFS", fig=fig, logrank=compute_logrank(tiny, by="ARM"))
    assert out is fig and len(fig.axes) == 2
    single = plot_km(compute_km(tiny))
    assert [t.get_text() for t in single.axes[1].get_yticklabels()] == ["all"]
    plt.close("all")


def test_response_rates_with_exact_intervals(results, tmp_path):
    fig = plot_response(results.response_rates)
    assert isinstance(fig, plt.Figure)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["CR/CRh*", "CR", "MRD response"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["blinatumomab (N=20)", "chemotherapy (N=20)"]
    counts = sorted(t.get_text() for t in ax.texts)
    assert counts == sorted(["9/20", "6/20", "8/20", "4/20", "3/20", "3/20"])
    rates = results.response_rates.to_frame()
    cr = rates[(rates["ENDPOINT"] == "CR/CRh*") & (rates["ARM"] == "blinatumomab")].iloc[0]
    points = [ln for ln in ax.get_lines() if ln.get_marker() == "o" and len(ln.get_xdata())]
    assert len(points) == 6  # 3 endpoints x 2 groups
    assert points[0].get_ydata()[0] == pytest.approx(cr["PCT"])
    bars = [c for c in ax.collections if len(c.get_segments())]
    ends = np.array([seg[:, 1] for c in bars for seg in c.get_segments()])
    assert np.isclose(ends, [cr["LOWER"], cr["UPPER"]], atol=1e-9).all(axis=1).any()
    assert ax.get_ylabel() == "subjects with response (%)"
    fig.savefig(tmp_path / "response.png")
    mrd = plot_response(results.response_rates, mrd_denominator="CR/CRh*")
    assert mrd.axes[0].get_xticklabels()[2].get_text() == "MRD response\n(of CR/CRh*)"
    assert "8/9" in {t.get_text() for t in mrd.axes[0].texts}
    _, ax2 = plt.subplots()
    assert plot_response(results.response_rates, ax=ax2, endpoints=["CR"]) is ax2.figure
    plt.close("all")


def test_ae_forest_one_panel_per_measure(results, tmp_path):
    fig = plot_ae_forest(results.ae_incidence)
    assert isinstance(fig, plt.Figure)
    any_grade, severe = fig.axes
    assert any_grade.get_title() == "any grade" and severe.get_title() == "grade \u2265 3"
    labels = [t.get_text() for t in any_grade.get_yticklabels()]
    assert labels == ["any category", "CRS", "INFECTION", "NEUROLOGIC", "NEUTROPENIA"]
    ae = results.ae_incidence.to_frame()
    for ax, measure in ((any_grade, "any grade"), (severe, "grade >= 3")):
        part = ae[ae["MEASURE"] == measure]
        points = [ln for ln in ax.get_lines() if ln.get_marker() == "o" and len(ln.get_xdata())]
        assert len(points) == 2  # one per group
        drawn = np.sort(np.concatenate([p.get_xdata() for p in points]))
        np.testing.assert_allclose(drawn, np.sort(part["PCT"].to_numpy()))
        texts = sorted(t.get_text() for t in ax.texts)
        assert texts == sorted(f"{k}/{n}" for k, n in zip(part["N_SUBJECTS"], part["N_AT_RISK"],
                                                          strict=True))
        assert ax.get_xlabel() == "subjects with event (%)"
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["blinatumomab (N=20)", "chemotherapy (N=20)"]
    fig.savefig(tmp_path / "ae.png")
    assert (tmp_path / "ae.png").stat().st_size > 5000
    one = plot_ae_forest(results.ae_incidence, measures=["serious"], categories=["CRS"])
    assert len(one.axes) == 1
    assert [t.get_text() for t in one.axes[0].get_yticklabels()] == ["CRS"]
    plt.close("all")


def test_km_in_days_over_long_follow_up_keeps_the_ticks_readable(tmp_path):
    rng = np.random.default_rng(1)
    days = pd.DataFrame({"TIME": np.minimum(np.ceil(rng.exponential(600, 60)), 2400),
                         "EVENT": (rng.uniform(size=60) < 0.7).astype(int)})
    days.loc[0, "TIME"] = 2400.0
    days.attrs["units"] = {"TIME": "day"}
    fig = plot_km(compute_km(days))
    ax, table = fig.axes
    ticks = ax.get_xticks()
    assert 4 <= len(ticks) <= 10 and ticks[0] == 0 and ticks[-1] <= 2400
    assert ax.get_xlabel() == "days since day 1"
    assert ax.get_title() == "Kaplan-Meier estimate, 95 % CI (log-log)"
    assert len(table.texts) == len(ticks)
    fig.savefig(tmp_path / "days.png")
    plt.close(fig)
