"""Kaplan-Meier: the Freireich 6-MP remission data (Gehan 1965) against the
printed textbook and R values, a hand computation of the log-log band and of the
median's confidence limits, the no-censoring property, and edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from endpoint_tables import freireich
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from blinapk.endpoints import compute_km, derive_tte
from blinapk.endpoints.km import survival_quantile
from blinapk.errors import BlinapkError, DataValidationError


def test_freireich_km_estimates_to_printed_digits():
    # Kleinbaum & Klein, table for the 6-MP group
    printed = {6: 0.857, 7: 0.807, 10: 0.753, 13: 0.690, 16: 0.627, 22: 0.538, 23: 0.448}
    c = compute_km(freireich(), by="GROUP").to_frame()
    mp = c.loc[c["GROUP"] == "6-MP"].set_index("TIME")
    for t, s in printed.items():
        assert round(mp.loc[t, "SURVIVAL"], 3) == s
    assert mp.loc[6, ["AT_RISK", "N_EVENT", "N_CENSOR"]].tolist() == [21, 3, 1]
    assert mp.loc[10, ["AT_RISK", "N_EVENT", "N_CENSOR"]].tolist() == [15, 1, 1]
    pl = c.loc[c["GROUP"] == "placebo"].set_index("TIME")
    assert round(pl.loc[8, "SURVIVAL"], 3) == round(8 / 21, 3)


def test_freireich_medians_and_r_default_band():
    # R: survfit(Surv(time, status) ~ group) prints (conf.type = "log", its default)
    #   group=6-MP     n 21  events  9  median 23  0.95LCL 16  0.95UCL NA
    #   group=Placebo  n 21  events 21  median  8  0.95LCL  4  0.95UCL 12
    s = compute_km(freireich(), by="GROUP", conf_type="log").summary().set_index("GROUP")
    assert s.loc["6-MP", ["N", "EVENTS", "MEDIAN", "MEDIAN_LOWER"]].tolist() == [21, 9, 23, 16]
    assert np.isnan(s.loc["6-MP", "MEDIAN_UPPER"])
    assert s.loc["6-MP", "NOTE"] == "upper limit not reached"
    assert s.loc["placebo", ["N", "EVENTS", "MEDIAN", "MEDIAN_LOWER", "MEDIAN_UPPER"]].tolist() == [
        21, 21, 8, 4, 12]


def _greenwood(times, events):
    """S(t) and Greenwood's variance of log S(t) at each distinct time, from scratch."""
    out, s, v = {}, 1.0, 0.0
    for t in np.unique(times):
        n = int((times >= t).sum())
        d = int(((times == t) & (events == 1)).sum())
        s *= 1 - d / n
        v += d / (n * (n - d)) if d < n else np.inf
        out[t] = (s, v)
    return out


def _hand_band(times, events, z, kind):
    """Greenwood band on the log-log or log scale at each distinct time."""
    out = {}
    for t, (s, v) in _greenwood(times, events).items():
        if s in (0.0, 1.0):  # R: bounds 1 at S = 1, not estimable at S = 0
            lo = hi = (np.nan if s == 0 else 1.0)
        elif kind == "log-log":
            a = np.log(-np.log(s))
            lo, hi = sorted([np.exp(-np.exp(a + z * np.sqrt(v) / np.log(s))),
                             np.exp(-np.exp(a - z * np.sqrt(v) / np.log(s)))])
        else:
            lo, hi = s * np.exp(-z * np.sqrt(v)), min(1.0, s * np.exp(z * np.sqrt(v)))
        out[t] = (s, lo, hi)
    return out


@pytest.mark.parametrize("kind", ["log-log", "log"])
def test_band_and_median_limits_by_hand(kind):
    z = stats.norm.ppf(0.975)
    data = freireich()
    km = compute_km(data, by="GROUP", conf_type=kind)
    curves, summary = km.to_frame(), km.summary().set_index("GROUP")
    for group, part in data.groupby("GROUP"):
        band = _hand_band(part["TIME"].to_numpy(), part["EVENT"].to_numpy(), z, kind)
        c = curves.loc[curves["GROUP"] == group]
        np.testing.assert_allclose(c["SURVIVAL"], [b[0] for b in band.values()], rtol=1e-12)
        np.testing.assert_allclose(c["LOWER"], [b[1] for b in band.values()], rtol=1e-10)
        np.testing.assert_allclose(c["UPPER"], [b[2] for b in band.values()], rtol=1e-10)
        # Brookmeyer-Crowley read off the band: first time each curve is below 0.5
        # (no curve of these data sits exactly at 0.5)
        first_below = [next((t for t, b in band.items() if b[k] < 0.5), np.nan) for k in range(3)]
        np.testing.assert_array_equal(
            summary.loc[group, ["MEDIAN", "MEDIAN_LOWER", "MEDIAN_UPPER"]].to_numpy(dtype=float),
            first_below)
    if kind == "log-log":
        assert summary.loc["6-MP", ["MEDIAN", "MEDIAN_LOWER"]].tolist() == [23, 13]
        assert summary.loc["placebo", ["MEDIAN", "MEDIAN_LOWER", "MEDIAN_UPPER"]].tolist() == [
            8, 4, 11]


def test_log_log_band_at_week_6_is_scipy_and_r_value():
    # R survfit(..., conf.type = "log-log") for 6-MP at week 6: 0.857 (0.620, 0.952)
    c = compute_km(freireich(), by="GROUP").to_frame().set_index(["GROUP", "TIME"])
    assert [round(x, 3) for x in c.loc[("6-MP", 6.0), ["SURVIVAL", "LOWER", "UPPER"]]] == [
        0.857, 0.620, 0.952]


def test_linear_band_matches_greenwood():
    data = freireich()
    mp = data.loc[data["GROUP"] == "6-MP"]
    c = compute_km(mp, conf_type="linear").to_frame()
    gw = _greenwood(mp["TIME"].to_numpy(), mp["EVENT"].to_numpy())
    s = np.array([g[0] for g in gw.values()])
    half = stats.norm.ppf(0.975) * s * np.sqrt([g[1] for g in gw.values()])
    np.testing.assert_allclose(c["LOWER"], np.maximum(0, s - half), rtol=1e-10)
    np.testing.assert_allclose(c["UPPER"], np.minimum(1, s + half), rtol=1e-10)


def test_landmarks_and_risk_table():
    km = compute_km(freireich(), by="GROUP", landmarks={"10w": 10, "1y": 52})
    s = km.summary().set_index("GROUP")
    assert round(s.loc["6-MP", "SURV_10w"], 3) == 0.753
    assert s.loc["6-MP", "SURV_10w_LOWER"] < 0.753 < s.loc["6-MP", "SURV_10w_UPPER"]
    assert np.isnan(s.loc["6-MP", "SURV_1y"])
    assert "no follow-up at 1y" in s.loc["6-MP", "NOTE"]
    risk = km.at_risk([0, 10, 23, 36]).set_index(["GROUP", "TIME"])["AT_RISK"]
    assert risk.loc["6-MP"].tolist() == [21, 15, 6, 0]
    assert risk.loc["placebo"].tolist() == [21, 8, 1, 0]
    at = km.survival_at([0.5]).set_index("GROUP")
    assert at.loc["6-MP", ["SURVIVAL", "LOWER", "UPPER"]].tolist() == [1.0, 1.0, 1.0]


def test_units_follow_the_tte_frame():
    s = pd.DataFrame({"ID": [1, 2, 3], "ARM": ["A", "A", "B"], "DEATH_DAY": [100.0, np.nan, 50.0],
                      "LAST_CONTACT_DAY": [100.0, 400.0, 50.0]})
    tte = derive_tte(s)
    km = compute_km(tte, by="ARM", time="TIME_MONTHS", landmarks={"12m": 12})
    summ = km.summary()
    assert summ.attrs["units"]["MEDIAN"] == "month"
    assert summ["ENDPOINT"].unique().tolist() == ["OS", "DFS"]
    a = summ.loc[(summ["ENDPOINT"] == "OS") & (summ["GROUP"] == "A")].iloc[0]
    # S = 0.5 from day 100 to the last follow-up (day 400): R's midpoint rule
    assert a["MEDIAN"] == pytest.approx((100 + 400) / 2 / 30.4375)
    assert a["SURV_12m"] == pytest.approx(0.5)


def test_rows_without_time_are_listed_not_dropped_silently():
    s = pd.DataFrame({"ID": [1, 2], "DEATH_DAY": [np.nan, 30.0],
                      "LAST_CONTACT_DAY": [np.nan, 30.0]})
    km = compute_km(derive_tte(s, endpoints=["OS"]))
    assert km.excluded[["ID", "ENDPOINT", "REASON"]].values.tolist() == [
        [1, "OS", "no DEATH_DAY or LAST_CONTACT_DAY"]]
    assert km.summary()["N"].tolist() == [1]


def test_edge_cases():
    all_censored = compute_km(pd.DataFrame({"TIME": [1.0, 2, 3], "EVENT": [0, 0, 0]}))
    s = all_censored.summary().iloc[0]
    assert np.isnan(s["MEDIAN"]) and "median not reached" in s["NOTE"]
    assert (all_censored.to_frame()[["SURVIVAL", "LOWER", "UPPER"]] == 1).all().all()
    to_zero = compute_km(pd.DataFrame({"TIME": [1.0, 2], "EVENT": [1, 1]})).to_frame()
    assert to_zero["SURVIVAL"].iloc[-1] == 0 and np.isnan(to_zero["LOWER"].iloc[-1])
    with pytest.raises(BlinapkError, match="conf_type"):
        compute_km(freireich(), conf_type="arcsine")
    with pytest.raises(DataValidationError):
        compute_km(pd.DataFrame({"TIME": [1.0, -2], "EVENT": [1, 1]}))
    with pytest.raises(DataValidationError):
        compute_km(pd.DataFrame({"TIME": [1.0, 2], "EVENT": [1, 2]}))


@pytest.mark.parametrize(
    ("time", "surv", "expected"),
    [
        ([1, 2, 3, 4], [0.75, 0.5, 0.25, 0.0], 2.5),     # flat at 0.5: midpoint of 2 and 3
        ([1, 2, 3], [0.8, 0.5, 0.5], 2.5),               # flat at 0.5 to the end: midpoint to xmax
        ([1, 2, 3], [0.9, 0.6, 0.4], 3.0),
        ([1, 2], [0.9, 0.6], np.nan),                    # never reaches 0.5
        ([1, 2, 3], [0.9, np.nan, 0.3], 3.0),            # NaN points ignored
    ],
)
def test_quantile_rule(time, surv, expected):
    got = survival_quantile(np.array(time, float), np.array(surv, float))
    assert got == expected or (np.isnan(expected) and np.isnan(got))


def test_median_of_even_sample_without_censoring_is_the_midpoint():
    d = pd.DataFrame({"TIME": [1.0, 2, 3, 4], "EVENT": [1, 1, 1, 1]})
    assert compute_km(d).summary()["MEDIAN"].iloc[0] == 2.5          # as R's survfit


@given(st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=40))
def test_without_censoring_km_is_one_minus_ecdf(times):
    t = np.array(times, dtype=float)
    c = compute_km(pd.DataFrame({"TIME": t, "EVENT": 1})).to_frame()
    ecdf = np.array([(t <= x).mean() for x in c["TIME"]])
    np.testing.assert_allclose(c["SURVIVAL"], 1 - ecdf, atol=1e-12)
    assert (c["LOWER"].fillna(0) <= c["SURVIVAL"] + 1e-12).all()
    assert (c["UPPER"].fillna(1) >= c["SURVIVAL"] - 1e-12).all()
