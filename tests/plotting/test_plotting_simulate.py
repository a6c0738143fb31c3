"""Simulation plots draw what the results hold and return a Figure."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from blinapk.plotting import plot_css_distribution, plot_target_attainment  # noqa: E402
from blinapk.simulate import simulate_exposure, summarize_exposure  # noqa: E402


@pytest.fixture(scope="module")
def results():
    return {"adults": simulate_exposure(3000, seed=1, regimen="adult_rr"),
            "children": simulate_exposure(3000, seed=2, regimen="paediatric_rr",
                                          population="paediatric")}


def test_css_distribution(results, tmp_path):
    fig = plot_css_distribution(results, dose_levels={"adults": "28 ug/day",
                                                      "children": "15 ug/m2/day"})
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(lbl.startswith("adults: 28 ug/day") for lbl in labels)
    assert any("threshold 470" in lbl for lbl in labels)
    fig.savefig(tmp_path / "css.png")
    plt.close(fig)
    single = plot_css_distribution(results["adults"])  # every dose level
    assert len(single.axes[0].get_legend().get_texts()) == 3
    plt.close(single)


def test_target_attainment_curve(results, tmp_path):
    bands = (0.0, *np.round(np.arange(0.3, 2.65, 0.2), 2), np.inf)
    s = summarize_exposure(results, by=("BSA_BAND",), bands={"BSA": bands})
    fig = plot_target_attainment(s, keys={"adults": "28 ug/day", "children": "15 ug/m2/day"},
                                 min_n=20)
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 2 and ax.get_ylim() == (0.0, 1.0)
    x, y = ax.get_lines()[0].get_data()
    assert (np.diff(x) > 0).all() and ((0 <= y) & (y <= 1)).all()
    fig.savefig(tmp_path / "pta.png")
    plt.close(fig)
    with pytest.raises(ValueError, match="WT_BAND"):
        plot_target_attainment(s, x="WT_BAND")


def test_response_rates_figure(results, tmp_path):
    from blinapk.er import given_er
    from blinapk.plotting import plot_response_rates
    from blinapk.simulate import predict_response

    fits = {"crcrh": given_er("crcrh", intercept=[-0.2, 0.0, 0.2], slope=1.0, ref=500.0),
            "crs3": given_er("crs3", intercept=-3.0, slope=1.0, ref=500.0)}
    table = predict_response(results, fits)
    fig = plot_response_rates(table)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["adults", "children"]
    assert len(ax.get_legend().get_texts()) == 2
    assert "90 % credible interval" in ax.get_xlabel()
    fig.savefig(tmp_path / "rates.png")
    plt.close(fig)
