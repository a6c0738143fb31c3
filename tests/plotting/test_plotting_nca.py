"""NCA plots: they draw what the result holds, return Axes/Figure, and save to PNG."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from blinapk.data import read_dataset  # noqa: E402
from blinapk.nca import compute_css, compute_cytokine_peaks  # noqa: E402
from blinapk.plotting import plot_css_by_dose, plot_cytokines, plot_profiles  # noqa: E402

R9, R28 = 9 / 24, 28 / 24


@pytest.fixture(scope="module")
def dataset():
    rows = []
    for sid, cl in ((1, 2.0), (2, 3.0), (3, 1.5)):
        rows += [dict(ID=sid, TIME=0.0, EVID=1, AMT=63.0, RATE=R9, DV=0.0, MDV=1, DVID="BLIN"),
                 dict(ID=sid, TIME=168.0, EVID=1, AMT=588.0, RATE=R28, DV=0.0, MDV=1,
                      DVID="BLIN")]
        for t in (0.0, 24.0, 96.0, 192.0, 400.0, 672.0):
            r = R9 if t <= 168 else R28
            dv = 0.0 if t == 0 else 1000 * r / cl
            rows.append(dict(ID=sid, TIME=t, EVID=0, AMT=0.0, RATE=0.0, DV=max(dv, 50.0),
                             MDV=0, DVID="BLIN", CENS=int(dv < 50)))
        for t, il6 in ((0.0, 125.0), (2.0, 400.0 * sid), (6.0, 900.0 * sid), (24.0, 200.0),
                       (168.0, 125.0), (170.0, 150.0 * sid), (174.0, 140.0)):
            rows.append(dict(ID=sid, TIME=t, EVID=0, AMT=0.0, RATE=0.0, DV=il6, MDV=0,
                             DVID="IL6", CENS=int(il6 <= 125.0)))
    df = pd.DataFrame(rows)
    df["CENS"] = df["CENS"].fillna(0).astype(int)
    df = df.sort_values(["ID", "TIME", "EVID"], ascending=[True, True, False], kind="stable")
    return read_dataset(df)


def test_css_by_dose_draws_every_estimable_value(dataset, tmp_path):
    res = compute_css(dataset)
    ax = plot_css_by_dose(res)
    assert isinstance(ax, plt.Axes)
    drawn = np.concatenate([c.get_offsets()[:, 1] for c in ax.collections if len(c.get_offsets())])
    expected = res.to_frame()["CSS"].dropna().to_numpy()
    np.testing.assert_allclose(np.sort(drawn), np.sort(expected))
    assert ax.get_yscale() == "log" and "pg/mL" in ax.get_ylabel()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[0].startswith("9 ug/day") and labels[1].startswith("28 ug/day")
    ax.figure.savefig(tmp_path / "css.png")
    assert (tmp_path / "css.png").stat().st_size > 1000
    plt.close(ax.figure)


def test_css_by_dose_on_given_axes_and_cl(dataset):
    fig, ax = plt.subplots()
    out = plot_css_by_dose(compute_css(dataset), ax=ax, value="CL", log=False)
    assert out is ax and "L/h" in ax.get_ylabel()
    plt.close(fig)


def test_css_by_dose_many_levels_falls_back_to_rate_axis(dataset):
    table = compute_css(dataset).to_frame()
    table["DOSE_LEVEL"] = [f"{i} ug/day" for i in range(len(table))]
    ax = plot_css_by_dose(table, max_levels=2)
    assert ax.get_xscale() == "log" and "R0" in ax.get_xlabel()
    plt.close(ax.figure)


def test_profiles_one_panel_per_subject_with_rate_axis(dataset, tmp_path):
    fig = plot_profiles(dataset, ids=[1, 2])
    visible = [a for a in fig.axes if a.get_visible()]
    titles = [a.get_title() for a in visible if a.get_title()]
    assert titles == ["ID 1", "ID 2"]
    rate_axes = [a for a in visible if "rate" in a.get_ylabel()]
    assert len(rate_axes) == 2
    fig.savefig(tmp_path / "profiles.png")
    plt.close(fig)
    ax = plot_profiles(dataset, ids=[1], ax=plt.subplots()[1])
    assert isinstance(ax, plt.Axes)
    plt.close(ax.figure)


def test_cytokine_plots(dataset, tmp_path):
    peaks = compute_cytokine_peaks(dataset)
    fig = plot_cytokines(dataset, peaks)
    assert [a.get_title() for a in fig.axes] == ["IL6"]
    fig.savefig(tmp_path / "cyto.png")
    plt.close(fig)
    fig = plot_cytokines(peaks)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels[0].startswith("IL6\nstart\nn=3")
    plt.close(fig)
    with pytest.raises(TypeError):
        plot_cytokines(dataset)
