"""Log-rank: R survdiff's Freireich output, the k-sample statistic against scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from endpoint_tables import freireich
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from blinapk.endpoints import compute_logrank
from blinapk.endpoints.logrank import _chisq, logrank_k_sample
from blinapk.errors import BlinapkError


def test_freireich_matches_r_survdiff():
    # R: survdiff(Surv(time, status) ~ group)
    #              N Observed Expected (O-E)^2/E (O-E)^2/V
    #   6-MP      21        9     19.3      5.46      16.8
    #   Placebo   21       21     10.7      9.77      16.8
    #   Chisq= 16.8  on 1 degrees of freedom, p= 4e-05
    res = compute_logrank(freireich(), by="GROUP")
    g = res.to_frame().set_index("GROUP")
    assert g.loc["6-MP", "N"] == 21
    assert g["OBSERVED"].tolist() == [9, 21]
    assert [round(x, 1) for x in g["EXPECTED"]] == [19.3, 10.7]
    assert [round(x, 2) for x in g["OE2_E"]] == [5.46, 9.77]
    assert [round(x, 1) for x in g["OE2_V"]] == [16.8, 16.8]
    t = res.summary().iloc[0]
    assert (round(t["CHISQ"], 1), t["DF"]) == (16.8, 1)
    assert t["P_VALUE"] == pytest.approx(4.2e-5, abs=0.05e-5)
    assert t["METHOD"] == "scipy.stats.logrank"


def _k_sample_chisq(frame):
    labels, o, e, v = logrank_k_sample(frame["TIME"].to_numpy(), frame["EVENT"].to_numpy(),
                                       frame["GROUP"].to_numpy())
    return _chisq(o, e, v)


def test_k_sample_statistic_equals_scipy_for_two_groups_on_freireich():
    chisq, df = _k_sample_chisq(freireich())
    assert df == 1
    assert chisq == pytest.approx(16.792940989216536, rel=1e-12)


@st.composite
def _samples(draw, k):
    rows = []
    for g in range(k):
        n = draw(st.integers(min_value=2, max_value=12))
        for _ in range(n):
            rows.append((float(draw(st.integers(1, 15))), draw(st.sampled_from([0, 1, 1])),
                         f"g{g}"))
    frame = pd.DataFrame(rows, columns=["TIME", "EVENT", "GROUP"])
    if frame["EVENT"].sum() == 0:
        frame.loc[0, "EVENT"] = 1
    return frame


@given(_samples(2))
def test_k_sample_equals_scipy_two_sample(frame):
    chisq, _ = _k_sample_chisq(frame)
    x, y = (stats.CensoredData(uncensored=p.loc[p["EVENT"] == 1, "TIME"],
                               right=p.loc[p["EVENT"] == 0, "TIME"])
            for _, p in frame.groupby("GROUP"))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = stats.logrank(x, y).statistic
    if np.isfinite(z):
        assert chisq == pytest.approx(z ** 2, rel=1e-9, abs=1e-12)


@given(_samples(3), st.permutations(["g0", "g1", "g2"]))
def test_k_sample_does_not_depend_on_group_labels(frame, order):
    relabelled = frame.assign(GROUP=frame["GROUP"].map(dict(zip(["g0", "g1", "g2"], order,
                                                                strict=True))))
    a, b = _k_sample_chisq(frame), _k_sample_chisq(relabelled)
    assert a[1] == b[1]
    if np.isfinite(a[0]):
        assert a[0] == pytest.approx(b[0], rel=1e-8, abs=1e-10)
        assert a[0] >= -1e-12


def test_three_groups_use_the_k_sample_test():
    d = freireich()
    d.loc[d.index[-7:], "GROUP"] = "third"
    t = compute_logrank(d, by="GROUP").summary().iloc[0]
    assert (t["DF"], t["METHOD"]) == (2, "k-sample log-rank")
    assert t["P_VALUE"] == pytest.approx(stats.chi2.sf(t["CHISQ"], 2))
    g = compute_logrank(d, by="GROUP").to_frame()
    assert g["OBSERVED"].sum() == pytest.approx(g["EXPECTED"].sum())


def test_one_group_and_missing_by():
    d = freireich()
    t = compute_logrank(d.loc[d["GROUP"] == "6-MP"], by="GROUP").summary().iloc[0]
    assert np.isnan(t["CHISQ"]) and t["REASON"] == "fewer than two groups"
    with pytest.raises(BlinapkError):
        compute_logrank(d, by=None)


def test_no_variance_is_not_estimable():
    d = pd.DataFrame({"TIME": [1.0, 1.0], "EVENT": [1, 1], "GROUP": ["a", "b"]})
    t = compute_logrank(d, by="GROUP").summary().iloc[0]
    assert np.isnan(t["CHISQ"]) and t["REASON"].startswith("no variance")
