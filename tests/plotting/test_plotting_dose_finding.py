"""Dose-selection figure: one group of bars per dose, one bar per design, the true P(DLT)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from blinapk.plotting import plot_dose_selection  # noqa: E402
from blinapk.simulate import ROLLING_SIX, THREE_PLUS_THREE, operating_characteristics  # noqa: E402


@pytest.fixture(scope="module")
def oc():
    return operating_characteristics([THREE_PLUS_THREE, ROLLING_SIX], [0.02, 0.14, 0.35],
                                     n_trials=400, seed=1, doses=[5, 15, 30],
                                     dose_unit="ug/m2/day")


def test_bars_show_the_selection_probabilities(oc, tmp_path):
    fig = plot_dose_selection(oc)
    ax, bx = fig.axes
    probs = oc.selection_probabilities()
    bars = [p for p in ax.patches]
    assert len(bars) == 2 * 4  # two designs x (three doses + none)
    heights = np.array([b.get_height() for b in bars]).reshape(2, 4)
    np.testing.assert_allclose(heights, probs)
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), oc.p_dlt)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["5\nP(DLT) 0.02", "15\nP(DLT) 0.14", "30\nP(DLT) 0.35", "none"]
    assert "ug/m2/day" in ax.get_xlabel()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith("rolling six:") and "patients" in t for t in legend)
    # second panel: patients treated and with DLT, per design and dose
    assert len(bx.patches) == 2 * 2 * 3
    fig.savefig(tmp_path / "sel.png")
    assert (tmp_path / "sel.png").stat().st_size > 0
    plt.close(fig)


def test_single_panel(oc):
    fig = plot_dose_selection(oc, patients=False, title="scenario A")
    assert len(fig.axes) == 1 and fig._suptitle.get_text() == "scenario A"
    plt.close(fig)
