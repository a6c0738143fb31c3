"""Result objects show as compact tables in Jupyter (``_repr_html_``)."""

from __future__ import annotations

import warnings
from html.parser import HTMLParser
from pathlib import Path

import pytest

from blinapk._html import html_repr

FIT_NC = Path(__file__).with_name("data") / "map_fit_12.nc"  # see conftest.py


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells, self._in = [], False

    def handle_starttag(self, tag, attrs):
        self._in = tag in ("td", "th")

    def handle_data(self, data):
        if self._in and data.strip():
            self.cells.append(data.strip())

    def handle_endtag(self, tag):
        self._in = False


def _cells(text):
    p = _Cells()
    p.feed(text)
    return p.cells


@pytest.fixture(scope="module")
def small():
    from blinapk.data import read_dataset
    from blinapk.datasets import load_example

    example = load_example()
    frame = example.frame
    return read_dataset(frame[frame["ID"].isin(example.subjects[:12])])


def test_html_repr_rows_and_digits():
    import pandas as pd

    text = html_repr("T", ("cap", pd.DataFrame({"A": [2.16149, 1234.5, 3.0]})), note="n",
                     max_rows=2)
    assert _cells(text) == ["A", "2.16", "1.23e+03"]
    assert "... 1 more row(s)" in text and "<b>T</b>" in text and "<i>n</i>" in text


def test_css_result_summary_and_peaks(small):
    from blinapk.nca import compute_css, compute_cytokine_peaks

    css = compute_css(small)
    text = css._repr_html_()
    wide = css.summary().wide()
    assert f"CssResult: {len(css)} segments" in text
    assert f"{wide['MEAN'].iloc[0]:.3g}" in _cells(text)
    assert _cells(css.summary()._repr_html_())[:2] == ["CYCLE", "DOSE_LEVEL"]
    peaks = compute_cytokine_peaks(small)
    assert f"CytokinePeaks: {len(peaks)} subject" in peaks._repr_html_()


def test_poppk_fit(small):
    from blinapk.poppk import load_fit

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = load_fit(FIT_NC, small)
    text = fit._repr_html_()
    table = fit.summary()
    assert "PopPKFit: 1cmt, map (scipy), 12 subjects, no convergence gates" in text
    cells = _cells(text)
    assert cells[:6] == ["PARAMETER", "UNIT", "MEDIAN", "LOWER", "UPPER", "R_HAT"]
    assert table["PARAMETER"].iloc[0] in cells and f"{table['MEDIAN'].iloc[0]:.3g}" in cells


def test_endpoints_exposure_and_dose_finding():
    from blinapk.datasets import load_example_clinical
    from blinapk.endpoints import compute_endpoints
    from blinapk.simulate import (
        THREE_PLUS_THREE,
        operating_characteristics,
        simulate_exposure,
        summarize_exposure,
    )

    res = compute_endpoints(load_example_clinical(), by="ARM")
    text = res._repr_html_()
    assert "Response rates (%)" in text and "Kaplan-Meier (months)" in text
    assert f"{res.response_rates.to_frame()['PCT'].iloc[0]:.3g}" in _cells(text)
    s = summarize_exposure({"adults": simulate_exposure(100, 1)}, by=())
    text = s._repr_html_()
    css = s.distribution[s.distribution["METRIC"] == "CSS"]
    assert f"{css['MEAN'].iloc[0]:.3g}" in _cells(text) and "P(Css &gt;= TARGET)" in text
    oc = operating_characteristics([THREE_PLUS_THREE], [0.05, 0.3], n_trials=50, seed=1)
    assert "DoseFindingOC: 3+3, 50 trials each" in oc._repr_html_()
