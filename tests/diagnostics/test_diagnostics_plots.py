"""Every diagnostics figure renders on the example fit and follows the figure standards.

Standards: axes labelled with quantities and units, µg (never ug), time in
days where a cycle is shown, plain tick labels on log axes (no powers of
ten), lines stopped at treatment gaps, every subject drawn.
"""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from blinapk.diagnostics import compute_vpc  # noqa: E402
from blinapk.plotting import (  # noqa: E402
    plot_gof,
    plot_individual_fits,
    plot_pair,
    plot_prior_posterior,
    plot_rank,
    plot_trace,
    plot_vpc,
)

_UG = re.compile(r"(?<![A-Za-zµ])ug(?=[/ )]|$)")


def _texts(fig) -> list[str]:
    fig.canvas.draw()
    out = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    return [t for t in out if t]


def check_standards(fig) -> list[str]:
    """Assert the shared rules on one figure; return its texts."""
    texts = _texts(fig)
    assert not [t for t in texts if _UG.search(t)], "write µg, not ug"
    assert not [t for t in texts if "$" in t and "10^" in t], "plain log tick labels"
    for ax in fig.axes:
        if ax.get_visible() and ax.has_data() and ax.get_yscale() == "log":
            labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
            assert labels, "a log axis has tick labels"
    return texts


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_gof_panels(example_diagnostics, tmp_path):
    fig = plot_gof(example_diagnostics.predictions)
    texts = check_standards(fig)
    assert len(fig.axes) == 6
    for label in ("PRED (pg/mL)", "IPRED (pg/mL)", "observed concentration (pg/mL)", "NPDE",
                  "time since first dose (day)", "N(0, 1) quantile"):
        assert label in texts, label
    assert fig.axes[0].get_xscale() == "log" and fig.axes[0].get_yscale() == "log"
    fig.savefig(tmp_path / "gof.png", dpi=60)
    assert (tmp_path / "gof.png").stat().st_size > 10_000


def test_vpc_with_blq_panel_and_gaps(example_diagnostics):
    vpc = example_diagnostics.vpc
    fig = plot_vpc(vpc)
    texts = check_standards(fig)
    assert "below LLOQ (%)" in texts and "time since first dose (day)" in texts
    main = fig.axes[0]
    assert main.get_yscale() == "log"
    lines = [ln for ln in main.get_lines() if len(ln.get_xdata()) > 2]
    assert any(np.isnan(np.asarray(ln.get_xdata(), float)).any() for ln in lines), \
        "lines stop at the treatment gap"
    strat = plot_vpc(compute_vpc(example_diagnostics.predictions, stratify="SEX"))
    check_standards(strat)
    assert len(strat.axes) == 4
    assert {a.get_title().split(":")[0] for a in strat.axes[:2]} == {"F", "M"}


def test_individual_fits_cover_every_subject(example_diagnostics):
    ind = example_diagnostics.individual
    pages = plot_individual_fits(ind)
    assert len(pages) == int(np.ceil(len(ind.subjects) / 6))
    titles = [a.get_title(loc="left") for p in pages for a in p.axes]
    assert [t for t in titles if t.startswith("ID ")] == [f"ID {s}" for s in ind.subjects]
    texts = check_standards(pages[0])
    assert "µg/day" in texts and "conc. (pg/mL)" in texts
    assert "time since first dose (day)" in texts
    # the individual curves stop between treatment periods
    curve = pages[0].axes[0].get_lines()[0]
    assert np.isnan(np.asarray(curve.get_ydata(), float)).any()


def test_prior_posterior_and_sampler_plots_use_readable_labels(example_fit):
    from blinapk.diagnostics import prior_posterior

    _, result = example_fit
    fig = plot_prior_posterior(prior_posterior(result, n=200))
    texts = check_standards(fig)
    assert "typical CL (L/h)" in texts
    for plot in (plot_trace, plot_rank, plot_pair):
        fig = plot(result)
        texts = check_standards(fig)
        assert "typical CL (L/h)" in texts, plot.__name__
        assert not [t for t in texts if "omega_" in t or "typical\n" in t], plot.__name__
    pair = plot_pair(result)
    assert pair.get_size_inches()[0] >= 7.0  # large enough to read
