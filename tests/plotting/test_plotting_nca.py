"""NCA plots: they draw what the result holds, return Axes/Figure, and save to PNG."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from blinapk.data import read_dataset  # noqa: E402
from blinapk.nca import compute_css, compute_cytokine_peaks  # noqa: E402
from blinapk.plotting import (  # noqa: E402
    plot_css_by_dose,
    plot_cytokines,
    plot_profile_pages,
    plot_profiles,
)

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
    assert labels[0].startswith("9 µg/day") and labels[1].startswith("28 µg/day")
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
    assert labels[0] == "IL6\nstart\nn=3\n<LLOQ 0 (0%)"
    plt.close(fig)

    class OneCensored:  # the same peaks with one step-up peak below the LLOQ
        units = peaks.units

        def to_frame(self):
            table = peaks.to_frame()
            row = table.index[table["KIND"] == "step-up"][0]
            table.loc[row, ["PEAK", "PEAK_CENSORED"]] = [np.nan, True]
            return table

    fig = plot_cytokines(OneCensored())
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels[1] == "IL6\nstep-up\nn=3\n<LLOQ 1 (33%)"
    # every peak is drawn: quantified ones as points, the censored one in the <LLOQ band
    assert "<LLOQ" in [t.get_text() for t in fig.axes[0].get_yticklabels()]
    n_points = sum(len(c.get_offsets()) for c in fig.axes[0].collections)
    assert n_points == len(peaks.to_frame())
    plt.close(fig)
    with pytest.raises(TypeError):
        plot_cytokines(dataset)


def test_profiles_cover_every_subject_in_days_and_stop_at_gaps(dataset):
    fig = plot_profiles(dataset, max_panels=2)  # more subjects than panels: one overlay
    ax = fig.axes[0]
    assert ax.get_xlabel() == "time (day)" and "3 subjects" in ax.get_title()
    plt.close(fig)
    pages = plot_profile_pages(dataset, per_page=2)
    assert len(pages) == 2
    titles = [a.get_title() for p in pages for a in p.axes if a.get_title()]
    assert titles == ["ID 1", "ID 2", "ID 3"]
    assert any("µg/day" in a.get_ylabel() for a in pages[0].axes)
    for p in pages:
        plt.close(p)


def test_profile_lines_break_after_a_long_stop():
    rows = [dict(ID=1, TIME=0.0, EVID=1, AMT=28.0, RATE=28 / 24, DV=0.0, MDV=1, DVID="BLIN"),
            dict(ID=1, TIME=240.0, EVID=1, AMT=28.0, RATE=28 / 24, DV=0.0, MDV=1, DVID="BLIN")]
    rows += [dict(ID=1, TIME=t, EVID=0, AMT=0.0, RATE=0.0, DV=300.0, MDV=0, DVID="BLIN", CENS=0)
             for t in (6.0, 20.0, 25.0, 250.0, 260.0)]
    frame = pd.DataFrame(rows).assign(CENS=lambda d: d["CENS"].fillna(0).astype(int))
    ds = read_dataset(frame.sort_values(["TIME", "EVID"], ascending=[True, False]))
    fig = plot_profiles(ds, ids=[1])
    line = next(ln for ln in fig.axes[0].get_lines() if len(ln.get_xdata()) > 1)
    x = np.asarray(line.get_xdata(), float)
    # the sample 1 h after the stop stays joined; the 9-day break is not crossed
    assert np.isnan(x).sum() == 1 and np.flatnonzero(np.isnan(x))[0] == 3
    plt.close(fig)
