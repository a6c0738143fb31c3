"""write_endpoints / endpoints_text: the files, their columns (units in the names), and counts
that add up with the ledger, on the hand-built study of ``endpoint_study``."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from endpoint_study import make_event_table, make_study  # noqa: E402

from blinapk.data import read_clinical, read_dataset  # noqa: E402
from blinapk.endpoints import compute_endpoints  # noqa: E402
from blinapk.report import (  # noqa: E402
    ENDPOINT_OUTPUTS,
    endpoint_tables,
    endpoints_text,
    write_endpoints,
)

#: Column names that would hide a unit (a time, a median) and must not be written.
UNITLESS_TIMES = {"TIME", "MEDIAN", "MEDIAN_LOWER", "MEDIAN_UPPER", "START", "END"}


def _read(**tables):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_clinical(**tables)


@pytest.fixture(scope="module")
def study():
    return make_study()


@pytest.fixture(scope="module")
def results(study):
    dataset = read_dataset(make_event_table(study["subjects"]))
    return compute_endpoints(_read(**study), by="ARM", dataset=dataset)


@pytest.fixture(scope="module")
def written(results, tmp_path_factory):
    out = tmp_path_factory.mktemp("endpoints")
    files = write_endpoints(results, out)
    return out, files


def _csv(out, name):
    return pd.read_csv(out / name, keep_default_na=False, na_values=[""])


def test_every_output_is_written_in_order(written):
    out, files = written
    assert [f.name for f in files] == list(ENDPOINT_OUTPUTS)
    for f in files:
        assert f.is_file() and f.stat().st_size > 100, f.name
    assert (out / "km_os.png").stat().st_size > 20_000  # a real figure, not an empty canvas


def test_response_csv(written, results):
    out, _ = written
    r = _csv(out, "response.csv")
    assert list(r.columns[:3]) == ["ID", "ARM", "BEST_RESPONSE"]
    assert {"CRCRH", "MRD_RESPONSE", "FIRST_REMISSION_DAY", "BEST_DAY", "MRD_DAY", "REASON",
            "MRD_REASON", "N_ASSESSMENTS", "N_NE"} <= set(r.columns)
    assert set(r["CRCRH"]) == {0, 1} and r["CRCRH"].dtype == np.int64
    assert set(r["MRD_RESPONSE"].dropna()) <= {0, 1}
    text = (out / "response.csv").read_text()
    assert ",29.0," not in text  # days are written as whole numbers
    assert r["FIRST_REMISSION_DAY"].notna().sum() == r["CRCRH"].sum()


def test_time_columns_say_their_unit(written):
    out, _ = written
    for name in ENDPOINT_OUTPUTS:
        if name.endswith(".csv"):
            cols = set(pd.read_csv(out / name, nrows=0).columns)
            assert not cols & UNITLESS_TIMES, (name, cols & UNITLESS_TIMES)
    assert {"TIME_DAYS", "TIME_MONTHS", "START_DAY", "END_DAY"} <= set(
        pd.read_csv(out / "tte.csv", nrows=0).columns)
    km = pd.read_csv(out / "km.csv", nrows=0)
    assert list(km.columns) == ["ENDPOINT", "GROUP", "TIME_MONTHS", "SURVIVAL", "LOWER", "UPPER",
                                "AT_RISK", "N_EVENT", "N_CENSOR"]
    summary = pd.read_csv(out / "km_summary.csv", nrows=0)
    assert list(summary.columns[:8]) == ["ENDPOINT", "GROUP", "N", "EVENTS", "CENSORED",
                                         "MEDIAN_MONTHS", "MEDIAN_LOWER_MONTHS",
                                         "MEDIAN_UPPER_MONTHS"]
    for m in (12, 24, 36):
        assert {f"SURV_{m}_MONTHS", f"SURV_{m}_MONTHS_LOWER", f"SURV_{m}_MONTHS_UPPER"} <= set(
            summary.columns)


def test_rate_tables(written):
    out, _ = written
    for name in ("response_rates.csv", "ae_incidence.csv", "hsct.csv"):
        t = pd.read_csv(out / name, nrows=0)
        assert list(t.columns[-6:]) == ["N_SUBJECTS", "N_AT_RISK", "PCT", "LOWER", "UPPER",
                                        "REASON"], name
        assert t.columns[0] == "ARM"
    ae = _csv(out, "ae_incidence.csv")
    assert {"CATEGORY", "MEASURE"} <= set(ae.columns)
    assert {"any grade", "grade >= 3", "related", "serious"} <= set(ae["MEASURE"])
    ok = ae.dropna(subset=["PCT"])
    assert ((ok["LOWER"] <= ok["PCT"]) & (ok["PCT"] <= ok["UPPER"])).all()


def test_files_hold_the_results(written, results):
    out, _ = written
    km = _csv(out, "km.csv")
    os_ = results.km["OS"].to_frame()
    np.testing.assert_allclose(km.loc[km["ENDPOINT"] == "OS", "SURVIVAL"], os_["SURVIVAL"])
    np.testing.assert_allclose(km.loc[km["ENDPOINT"] == "OS", "TIME_MONTHS"], os_["TIME"])
    summary = _csv(out, "km_summary.csv")
    np.testing.assert_allclose(summary["MEDIAN_MONTHS"], results.km_summary()["MEDIAN"])
    lr = _csv(out, "logrank.csv")
    assert list(lr.columns) == ["ENDPOINT", "GROUP", "N", "OBSERVED", "EXPECTED", "OE2_E",
                                "OE2_V", "CHISQ", "DF", "P_VALUE", "METHOD", "REASON"]
    p = results.logrank.summary().set_index("ENDPOINT")["P_VALUE"]
    np.testing.assert_allclose(lr.groupby("ENDPOINT", sort=False)["P_VALUE"].first(), p)
    tte = _csv(out, "tte.csv")
    np.testing.assert_allclose(tte["TIME_DAYS"], results.tte.to_frame()["TIME"])
    for name, table in endpoint_tables(results).items():
        assert len(_csv(out, name)) == len(table), name


def test_counts_add_up_with_the_ledger(written):
    out, _ = written
    led = _csv(out, "ledger.csv")
    response = _csv(out, "response.csv")
    subjects = led[led["TABLE"] == "subjects"]
    assert len(response) == len(subjects) == 40
    used = led[(led["TABLE"] == "assessments") & (led["STATUS"] == "used")]
    assert response["N_ASSESSMENTS"].sum() == len(used)
    rates = _csv(out, "response_rates.csv")
    crcrh = rates[(rates["ENDPOINT"] == "CR/CRh*")]
    assert crcrh["N_AT_RISK"].sum() == len(subjects)
    assert crcrh["N_SUBJECTS"].sum() == response["CRCRH"].sum()
    summary = _csv(out, "km_summary.csv")
    left_out_of_os = subjects["REASON"].fillna("").str.contains("OS:").sum()
    assert summary.loc[summary["ENDPOINT"] == "OS", "N"].sum() == len(subjects) - left_out_of_os
    assert summary.loc[summary["ENDPOINT"] == "RFS", "N"].sum() == response["CRCRH"].sum()
    ae = _csv(out, "ae_incidence.csv")
    te = led[(led["TABLE"] == "adverse_events") & (led["STATUS"] != "excluded")]
    any_ = ae[(ae["CATEGORY"] == "ANY") & (ae["MEASURE"] == "any grade")]
    assert any_["N_SUBJECTS"].sum() == te["ID"].nunique()
    hsct = _csv(out, "hsct.csv")
    transplanted = hsct[hsct["MEASURE"] == "alloHSCT"]["N_SUBJECTS"].sum()
    not_evaluable = subjects["REASON"].fillna("").str.contains("alloHSCT outcomes:").sum()
    mortality = hsct[hsct["MEASURE"].str.startswith("death within")]
    assert mortality["N_AT_RISK"].sum() == transplanted - not_evaluable


def test_without_figures_groups_or_adverse_events(study, tmp_path):
    res = compute_endpoints(_read(subjects=study["subjects"], assessments=study["assessments"]))
    files = write_endpoints(res, tmp_path / "o", figures=False)
    names = [f.name for f in files]
    assert names == ["response.csv", "response_rates.csv", "tte.csv", "km_summary.csv", "km.csv",
                     "hsct.csv", "ledger.csv"]
    assert _csv(tmp_path / "o", "km_summary.csv")["GROUP"].unique().tolist() == ["all"]


def test_text_report(results):
    text = endpoints_text(results)
    assert "response within cycles 1-2" in text
    assert "blinatumomab: CR/CRh* 9/20 45.0 %" in text
    assert "OS   blinatumomab: n=20" in text and "median 7.1" in text
    assert "log-rank: OS p = 0.023" in text
    assert "any grade 18/20" in text
    assert text.splitlines()[-1].startswith("rows: subjects 40 (used 36, modified 3, excluded 1)")
    assert "ledger.csv" in text


def test_ae_episodes_csv(written, results):
    out, _ = written
    t = _csv(out, "ae_episodes.csv")
    assert list(t.columns[:4]) == ["MIN_GRADE", "CYCLE", "EPISODE", "CATEGORY"]
    assert set(t["MIN_GRADE"]) == {1, 3}
    assert set(t["EPISODE"]) == {"start", "step", "restart"}
    # 20 blinatumomab subjects start cycle 1; every rate has its denominator
    start1 = t[(t["CYCLE"] == 1) & (t["EPISODE"] == "start") & (t["CATEGORY"] == "ANY")]
    assert start1["N_AT_RISK"].tolist() == [20, 20]
    assert (t["N_SUBJECTS"] <= t["N_AT_RISK"]).all()
