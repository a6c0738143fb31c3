"""The NCA writer: every file with its columns, and the text report."""

import pandas as pd
import pytest

from blinapk.data import read_dataset
from blinapk.datasets import load_example
from blinapk.nca import compute_css, compute_cytokine_peaks
from blinapk.report import NCA_OUTPUTS, nca_text, read_csv, write_nca


@pytest.fixture(scope="module")
def results():
    """Css, its summary and cytokine peaks of six subjects of the example study."""
    example = load_example()
    frame = example.frame
    ds = read_dataset(frame[frame["ID"].isin(example.subjects[:6])])
    css = compute_css(ds)
    return ds, css, css.summary(by=["DOSE_LEVEL"]), compute_cytokine_peaks(ds)


def test_write_nca_writes_every_output_in_order(results, tmp_path):
    ds, css, summary, peaks = results
    files = write_nca(css, summary, tmp_path / "out", peaks=peaks, dataset=ds, studyid="S1")
    general_files = {"nca_params.csv", "nca_params_summary.csv"}  # only with general=
    assert files == [tmp_path / "out" / name for name in NCA_OUTPUTS
                     if name not in general_files]
    assert all(f.stat().st_size > 0 for f in files)
    out = tmp_path / "out"
    table = read_csv(out / "css_observed.csv")
    assert list(table.columns) == list(css.to_frame().columns) and len(table) == len(css)
    assert table.attrs["units"] == {"START": "h", "END": "h", "R0": "ug/h", "CSS": "pg/mL",
                                    "CL": "L/h"}
    assert "CYCLE" in (out / "css_observed.csv").read_text().splitlines()[0]
    assert pd.api.types.is_integer_dtype(table["CYCLE"])  # written as 1, not 1.0
    wide = pd.read_csv(out / "summary.csv")
    assert list(wide.columns[:6]) == ["DOSE_LEVEL", "PARAM", "UNIT", "N", "N_SUBJECTS", "NMISS"]
    assert set(wide["PARAM"]) == {"CSS", "CL"}
    ledger = read_csv(out / "ledger.csv", keep_default_na=False)
    assert {"STATUS", "REASON"} <= set(ledger.columns) and len(ledger) == len(css.ledger.to_frame())
    assert ledger.attrs["units"] == {"TIME": "h"}
    cyto = read_csv(out / "cytokine_peaks.csv")
    assert {"DVID", "KIND", "PEAK", "TMAX", "FOLD", "AUC"} <= set(cyto.columns)
    assert len(cyto) == len(peaks) and cyto.attrs["units"]["PEAK"] == "pg/mL"
    cyto_summary = pd.read_csv(out / "cytokine_summary.csv")
    assert list(cyto_summary.columns[:3]) == ["DVID", "KIND", "PARAM"]
    assert len(read_csv(out / "cytokine_ledger.csv")) == len(peaks.ledger.to_frame())
    pp = pd.read_csv(out / "pp.csv", keep_default_na=False)
    assert set(pp["STUDYID"]) == {"S1"}
    assert set(pp["PPTESTCD"]) == {"CAVG", "CLSS"}  # cytokines are biomarkers: not in PP
    assert (pp.loc[pp["PPSTAT"] == "NOT DONE", "PPREASND"] != "").all()
    codes = pd.read_csv(out / "pp_codes.csv")
    assert dict(zip(codes["PPTESTCD"], codes["ORIGIN"], strict=True)) == {
        "CAVG": "CDISC CT", "CLSS": "sponsor-defined"}


def test_write_nca_without_peaks_or_figures(results, tmp_path):
    _, css, summary, _ = results
    files = write_nca(css, summary, tmp_path, figures=False)
    assert [f.name for f in files] == ["css_observed.csv", "summary.csv", "ledger.csv", "pp.csv",
                                       "pp_codes.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f.name for f in files)


def test_figures_need_the_dataset(results, tmp_path):
    _, css, summary, _ = results
    with pytest.raises(ValueError, match="dataset"):
        write_nca(css, summary, tmp_path)


def test_nca_text_shows_the_summary_and_the_counts(results):
    _, css, summary, peaks = results
    text = nca_text(css, summary, peaks, max_rows=2)
    lines = text.split("\n")
    assert lines[0].split() == ["DOSE_LEVEL", "PARAM", "UNIT", "N", "N_SUBJECTS", "MEAN",
                                "CV_PCT", "GMEAN", "GCV_PCT"]
    assert lines[3] == f"... {len(summary.wide()) - 2} more row(s) in summary.csv"
    n_ok = int(css.to_frame()["CSS"].notna().sum())
    assert lines[5].startswith("N counts segments, N_SUBJECTS subjects")
    assert lines[6].startswith(f"segments: {len(css)} ({n_ok} with Css) in 6 subject(s); BLIN "
                               "samples: ")
    assert lines[7] == f"cytokine events: {len(peaks)} rows in cytokine_peaks.csv"
    assert "cytokine" not in nca_text(css, summary)
