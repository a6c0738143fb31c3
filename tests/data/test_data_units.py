"""Declared units, conversion at the boundary, sidecar files and unit-mistake warnings."""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blinapk.data import read_dataset, write_dataset
from blinapk.data.heuristics import infusion_rate_at
from blinapk.errors import DataWarning, UnitError
from blinapk.units import INTERNAL_UNITS, Units, conversion_factor, normalise_unit, sidecar_path


@pytest.mark.parametrize(
    ("kind", "unit", "factor"),
    [
        ("amt", "mg", (1000, 1)), ("amt", "ng", (1, 1000)), ("amt", "mcg", (1, 1)),
        ("rate", "ug/day", (1, 24)), ("rate", "mg/min", (60000, 1)), ("rate", "ng/h", (1, 1000)),
        ("dv", "ng/mL", (1000, 1)), ("dv", "ug/L", (1000, 1)), ("dv", "mg/L", (1_000_000, 1)),
        ("dv", "ng/L", (1, 1)), ("dv", "PG/ML", (1, 1)),
        ("time", "min", (1, 60)), ("time", "days", (24, 1)), ("time", "hr", (1, 1)),
    ],
)  # fmt: skip
def test_conversion_factors_by_hand(kind, unit, factor):
    assert conversion_factor(kind, unit) == factor


@pytest.mark.parametrize(
    ("kind", "unit"), [("amt", "kg"), ("dv", "mol/L"), ("dv", "ng"), ("time", "fortnight"),
                       ("rate", "ug"), ("rate", "ug/fortnight"), ("amt", ""), ("x", "ug")])
def test_unknown_units_raise(kind, unit):
    with pytest.raises(UnitError):
        normalise_unit(kind, unit)


def test_units_defaults_rate_follows_amt_and_time():
    assert Units.from_mapping({"amt": "mg", "time": "day"}).rate == "mg/day"
    assert Units.from_mapping(None) == INTERNAL_UNITS and INTERNAL_UNITS.is_internal
    with pytest.raises(UnitError, match="unknown unit key"):
        Units.from_mapping({"conc": "ng/mL"})


def test_conversion_to_internal_units(frame):
    # the base frame re-expressed in mg, mg/day, ng/mL and days must read identically
    other = frame.assign(
        TIME=frame["TIME"] / 24, AMT=frame["AMT"] / 1000, RATE=frame["RATE"] * 24 / 1000,
        DV=frame["DV"] / 1000, LLOQ=0.05, NOMTIME=frame["TIME"] / 24)
    ds = read_dataset(other, units={"amt": "mg", "rate": "mg/day", "dv": "ng/mL", "time": "day"})
    ref = read_dataset(frame.assign(LLOQ=50.0, NOMTIME=frame["TIME"]))
    cols = ["TIME", "AMT", "RATE", "DV", "LLOQ", "LOD", "NOMTIME"]
    np.testing.assert_allclose(ds.frame[cols], ref.frame[cols], rtol=1e-14)
    assert ds.frame["CENS"].tolist() == ref.frame["CENS"].tolist()
    assert ds.declared_units.dv == "ng/mL" and ds.units == INTERNAL_UNITS
    # seed default LOD (3 pg/mL) is filled in pg/mL regardless of the declared unit
    assert ds.frame["LOD"].iloc[0] == pytest.approx(3.0)


def test_registered_dvid_limits_are_in_declared_unit(frame):
    df = frame.assign(DVID=["BLIN"] * 7 + ["CRP", "BLIN"], DV=frame["DV"] / 1000)
    ds = read_dataset(df, units={"dv": "ng/mL"}, dvids={"CRP": {"lloq": 0.1}})
    row = ds.frame.set_index("ROW").loc[8]
    assert row["LLOQ"] == pytest.approx(100.0) and np.isnan(row["LOD"]) and row["CENS"] == 1
    assert ds.dvids["CRP"].lloq == pytest.approx(100.0) and ds.dvids["CRP"].unit == "pg/mL"


def test_sidecar_is_read_and_argument_overrides(tmp_path: Path, frame):
    p = tmp_path / "study.csv"
    frame.assign(DV=frame["DV"] / 1000).to_csv(p, index=False)
    (tmp_path / "study.units.toml").write_text('dv = "ng/mL"\n')
    ds = read_dataset(p)
    assert ds.declared_units.dv == "ng/mL" and ds.frame["DV"].max() == pytest.approx(600.0)
    with pytest.warns(DataWarning):
        over = read_dataset(p, units={"dv": "pg/mL"})
    assert over.frame["DV"].max() == pytest.approx(0.6)
    (tmp_path / "study.csv.units.toml").write_text('dv = "ng/mL"\n')
    with pytest.raises(UnitError, match="two unit sidecars"):
        sidecar_path(p)


@pytest.mark.parametrize("text", ['dv = "furlong"\n', 'conc = "ng/mL"\n', "dv = \n"])
def test_bad_sidecar(tmp_path: Path, frame, text):
    p = tmp_path / "s.csv"
    frame.to_csv(p, index=False)
    (tmp_path / "s.units.toml").write_text(text)
    with pytest.raises(UnitError):
        read_dataset(p)


def test_warning_when_pg_per_ml_looks_like_ng_per_ml(frame):
    # values written in ng/mL but declared (by default) pg/mL: median 0.4 < 1 pg/mL
    with pytest.warns(DataWarning, match="ng/mL") as rec:
        read_dataset(frame.assign(DV=frame["DV"] / 1000))
    # every value is then below the 50 pg/mL LLOQ (censored), so no implied-CL check
    assert not any("implied clearance" in str(w.message) for w in rec)
    # with row LLOQs in the same (wrong) unit the values are quantified:
    # CL = 1000 * (28/24) / 0.31 = 3763 L/h > 1000 L/h
    with pytest.warns(DataWarning) as rec:
        read_dataset(frame.assign(DV=frame["DV"] / 1000, LLOQ=0.05, LOD=0.003))
    assert any("implied clearance" in str(w.message) for w in rec)


def test_warning_when_amount_declared_ug_but_is_mg(frame):
    # AMT/RATE in mg declared ug: CL = 1000 * 0.00117 / 310 ~ 0.004 L/h < 0.01
    df = frame.assign(AMT=frame["AMT"] / 1000, RATE=frame["RATE"] / 1000)
    with pytest.warns(DataWarning, match="implied clearance"):
        read_dataset(df)


def test_no_warning_on_plausible_data(frame):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        read_dataset(frame)


def test_infusion_rate_at_by_hand():
    # subject 1: 2 ug/h over (0, 10], +1 ug/h over (5, 7]; subject 2: bolus only.
    # A sample at the instant a rate changes counts under the rate before it.
    f = pd.DataFrame({
        "ID": [1, 1, 1, 1, 1, 1, 1, 1, 2, 2],
        "TIME": [0, 0, 5, 5, 6, 7, 10, 12, 0, 1.0],
        "EVID": [0, 1, 1, 0, 0, 0, 0, 0, 1, 0],
        "AMT": [0, 20, 2, 0, 0, 0, 0, 0, 5, 0.0],
        "RATE": [0, 2, 1, 0, 0, 0, 0, 0, 0, 0.0],
    })  # fmt: skip
    obs = (f["EVID"] == 0).to_numpy()
    np.testing.assert_array_equal(infusion_rate_at(f, obs), [0.0, 2.0, 3.0, 3.0, 2.0, 0.0, 0.0])


def test_write_in_declared_units(tmp_path: Path, frame):
    ds = read_dataset(frame)
    p = tmp_path / "out.csv"
    write_dataset(ds, p, units={"dv": "ng/mL", "time": "min"})
    raw = pd.read_csv(p)
    assert raw["DV"].max() == pytest.approx(0.6) and raw["TIME"].max() == pytest.approx(2880)
    assert 'dv = "ng/mL"' in (tmp_path / "out.units.toml").read_text()
    back = read_dataset(p)
    cols = ["TIME", "AMT", "RATE", "DV", "LLOQ", "LOD"]
    np.testing.assert_allclose(back.frame[cols], ds.frame[cols], rtol=1e-15)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 20), st.integers(1, 50),
                          st.integers(0, 5), st.integers(0, 40)), min_size=1, max_size=15))
def test_infusion_rate_at_matches_brute_force(events):
    # (subject, start, amount, rate, query time) on an integer grid: exact arithmetic
    doses = pd.DataFrame({"ID": [e[0] for e in events], "TIME": [float(e[1]) for e in events],
                          "EVID": 1, "AMT": [float(e[2]) for e in events],
                          "RATE": [float(e[3]) for e in events]})
    queries = pd.DataFrame({"ID": [e[0] for e in events], "TIME": [float(e[4]) for e in events],
                            "EVID": 0, "AMT": 0.0, "RATE": 0.0})
    f = pd.concat([doses, queries], ignore_index=True)
    got = infusion_rate_at(f, (f["EVID"] == 0).to_numpy())
    want = [sum(r for i, s, a, r, _ in events if i == sid and r > 0 and s < t <= s + a / r)
            for sid, t in zip(queries["ID"], queries["TIME"], strict=True)]
    np.testing.assert_allclose(got, want, atol=1e-9)
