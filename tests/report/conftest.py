"""A small results directory written by the real writers, shared by the HTML-report tests.

The population-PK fit is prebuilt: ``data/map_fit_12.nc`` is a MAP fit
(1-cmt, CL~BSA power) of the first 12 subjects of the example study,
made with::

    ds = read_dataset(frame[frame["ID"].isin(example.subjects[:12])])
    fit(ds, PopPKSpec(covariates=("CL~BSA:power",)), method="map", seed=1).save(...)

so the tests load it (:func:`blinapk.poppk.load_fit`) instead of fitting.
The other results are computed: NCA of the same subjects, the example's
endpoints and 100 simulated adults. No exposure-response fit: its section
is the absent one.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

FIT_NC = Path(__file__).with_name("data") / "map_fit_12.nc"


@pytest.fixture(scope="session")
def results_dir(tmp_path_factory):
    """Results of NCA, fit (+ diagnostics), endpoints and simulation; no E-R."""
    from blinapk.data import read_dataset
    from blinapk.datasets import load_example, load_example_clinical
    from blinapk.diagnostics import diagnose
    from blinapk.endpoints import compute_endpoints
    from blinapk.nca import compute_css, compute_cytokine_peaks
    from blinapk.poppk import load_fit
    from blinapk.report import (
        write_diagnostics,
        write_endpoints,
        write_exposure,
        write_fit,
        write_nca,
    )
    from blinapk.report.html import write_manifest
    from blinapk.simulate import simulate_exposure, summarize_exposure

    out = tmp_path_factory.mktemp("results")
    example = load_example()
    frame = example.frame
    ds = read_dataset(frame[frame["ID"].isin(example.subjects[:12])])
    css = compute_css(ds)
    write_nca(css, css.summary(), out / "nca", peaks=compute_cytokine_peaks(ds), dataset=ds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a MAP fit: no LOO, few simulated datasets
        fit = load_fit(FIT_NC, ds)
        write_fit(fit, out / "fit", dataset=ds)
        write_diagnostics(diagnose(fit, ds, n_sim=50), out / "fit", figures=False)
    results = compute_endpoints(load_example_clinical(), by="ARM", dataset=example,
                                rfs_censoring="contact")
    write_endpoints(results, out / "endpoints")
    sims = {"adults": simulate_exposure(100, 1, population="adult", regimen="adult_rr")}
    write_exposure(sims, summarize_exposure(sims, by=()), out / "simulate")
    write_manifest(out, data="example_trial.csv", settings={"fit": {"method": "map"}})
    return out
