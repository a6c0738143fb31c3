"""``blinapk demo``: run the analyses on the shipped example study and write the results.

The demo is a list of steps (:data:`STEPS`); each step takes the example
:class:`~blinapk.data.Dataset` and its own output directory, calls the
library (analysis, then :mod:`blinapk.report`) and returns the files it
wrote. New analyses are added by appending a step.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

NAME = "demo"
HELP = ("Run the whole analysis on the shipped example study: NCA, population PK with model "
        "qualification, endpoints, exposure-response, simulated regimens, then the HTML report.")

#: Population-PK fit settings: 500 warm-up + 1000 draws x 2 chains. On the
#: ~100-subject example: ~45 s of sampling on a loaded 2-core box (nutpie,
#: JAX backend), population R-hat <= 1.01, bulk ESS > 900, no divergences.
FIT_SETTINGS = {"draws": 1000, "tune": 500, "chains": 2, "seed": 20240601}
#: Covariate effects of the demo model (1-cmt, M3 censoring: the spec defaults).
FIT_COVARIATES = ("CL~BSA:power",)


@dataclass(frozen=True)
class DemoStep:
    """One step of the demo.

    Parameters
    ----------
    name : str
        Short name; also the sub-directory of the output.
    title : str
        One line shown while running.
    run : callable
        ``run(dataset, out_dir) -> list of Path``.
    """

    name: str
    title: str
    run: Callable


def nca_step(dataset, out: Path) -> list[Path]:
    """Css/CL per segment, summary by cycle and dose level, cytokine peaks; print the summary.

    Parameters
    ----------
    dataset : Dataset
        The example study (it carries cytokine observations).
    out : Path
        Output directory.

    Returns
    -------
    list of Path
        Files written (:func:`blinapk.report.write_nca`).
    """
    from blinapk.nca import compute_css, compute_cytokine_peaks
    from blinapk.report import nca_text, write_nca

    css = compute_css(dataset)
    summary = css.summary()
    peaks = compute_cytokine_peaks(dataset)
    files = write_nca(css, summary, out, peaks=peaks, dataset=dataset, studyid="BLIN-EXAMPLE")
    print(nca_text(css, summary, peaks, max_rows=8))
    return files


def fit_step(dataset, out: Path) -> list[Path]:
    """Fit the demo model (:data:`FIT_COVARIATES`, :data:`FIT_SETTINGS`); print its summary.

    Parameters
    ----------
    dataset : Dataset
        The example study.
    out : Path
        Output directory.

    Returns
    -------
    list of Path
        Files written (:func:`blinapk.report.write_fit`, then the model
        diagnostics of :func:`blinapk.report.write_diagnostics`).
    """
    from blinapk.diagnostics import diagnose
    from blinapk.poppk import PopPKSpec, fit
    from blinapk.report import (
        diagnostics_text,
        population_markdown,
        write_diagnostics,
        write_fit,
    )

    result = fit(dataset, PopPKSpec(covariates=FIT_COVARIATES), progressbar=True, **FIT_SETTINGS)
    summary = result.summary()
    paths = write_fit(result, out, summary=summary, dataset=dataset)
    print(population_markdown(summary, blank_unit="-"))
    diag = diagnose(result, dataset)
    diag_paths = write_diagnostics(diag, out)
    print(diagnostics_text(diag))
    return list(paths.values()) + list(diag_paths.values())


def endpoints_step(dataset, out: Path) -> list[Path]:
    """Response, survival (Kaplan-Meier by arm) and adverse events of the example study.

    RFS and TTR are censored at the last contact (``rfs_censoring="contact"``):
    the example has no marrow assessment after its last treatment cycle, so
    censoring at the last CR/CRh* assessment would end every remission there.

    Parameters
    ----------
    dataset : Dataset
        The example study (its dose records give the dosing episodes).
    out : Path
        Output directory.

    Returns
    -------
    list of Path
        Files written (:func:`blinapk.report.write_endpoints`).
    """
    from blinapk.datasets import load_example_clinical
    from blinapk.endpoints import compute_endpoints
    from blinapk.report import endpoints_text, write_endpoints

    results = compute_endpoints(load_example_clinical(), by="ARM", dataset=dataset,
                                rfs_censoring="contact")
    files = write_endpoints(results, out)
    print(endpoints_text(results))
    return files


#: Exposure-response settings of the demo: IL-6 peaks vs the Css increase, exposure
#: propagated from the PK posterior (latent exposure), 1000 warm-up + 1500 draws x 2 chains.
ER_SETTINGS = {"endpoint": "il6", "exposure": "delta_css", "uncertainty": "propagated",
               "draws": 1500, "tune": 1000, "seed": 20240601}
#: Binary exposure-response of the demo: CR/CRh* within 2 cycles vs Css (logistic).
ER_BINARY_SETTINGS = {"endpoint": "crcrh", "exposure": "css", "uncertainty": "propagated",
                      "draws": 1000, "tune": 1000, "seed": 20240602}


def _er_demo(dataset, out: Path, clinical, settings) -> list[Path]:
    """Fit one E-R model on the fit step's PK posterior; write and print it."""
    from blinapk.er import fit_er
    from blinapk.poppk import PopPKSpec, fit, load_fit
    from blinapk.report import er_text, write_er

    saved = out.parent / "fit" / "fit.nc"
    pk = (load_fit(saved, dataset) if saved.exists() else
          fit(dataset, PopPKSpec(covariates=FIT_COVARIATES), progressbar=False, **FIT_SETTINGS))
    result = fit_er(clinical, pk, dataset=dataset, **settings)
    files = write_er(result, out)
    print(er_text(result))
    return files


def er_step(dataset, out: Path) -> list[Path]:
    """IL-6 peak vs Css increase (Emax, censored below LLOQ) with the fit step's PK posterior.

    Parameters
    ----------
    dataset : Dataset
        The example study.
    out : Path
        Output directory; the PK fit is read from the ``fit`` step's ``fit.nc``
        next to it (fitted again with :data:`FIT_SETTINGS` when absent).

    Returns
    -------
    list of Path
        Files written (:func:`blinapk.report.write_er`).
    """
    return _er_demo(dataset, out, None, ER_SETTINGS)


def er_response_step(dataset, out: Path) -> list[Path]:
    """CR/CRh* within 2 cycles vs Css (logistic) on the example's clinical tables.

    Arguments and result as :func:`er_step` (same PK fit, same writer).
    """
    from blinapk.datasets import load_example_clinical

    return _er_demo(dataset, out, load_example_clinical(), ER_BINARY_SETTINGS)


#: Simulated regimens of the demo: the label regimens of adults and children, each
#: given to :data:`SIM_SETTINGS` ``n`` virtual patients with parameters drawn from the
#: fit step's posterior (the model card when the fit is absent).
SIM_SCENARIOS = (("adults 9 -> 28 ug/day", "adult", "adult_rr"),
                 ("children 5 -> 15 ug/m2/day", "paediatric", "paediatric_rr"))
SIM_SETTINGS = {"n": 2000, "seed": 20240601, "n_draws": 20}
#: Model card of the simulation when the demo runs without its fit step.
SIM_CARD = "blinatumomab_zhu2020"


def simulate_step(dataset, out: Path) -> list[Path]:
    """Exposure of virtual adults and children on their label regimens (:data:`SIM_SCENARIOS`).

    Parameters
    ----------
    dataset : Dataset
        The example study (unused: the parameters come from the fit).
    out : Path
        Output directory; the fit is the ``fit`` step's ``fit.nc`` next to it
        (:data:`SIM_CARD` when absent).

    Returns
    -------
    list of Path
        Files written (:func:`blinapk.report.write_exposure`).
    """
    from blinapk.report import exposure_text, response_markdown, write_exposure
    from blinapk.simulate import simulate_exposure, summarize_exposure

    saved = out.parent / "fit" / "fit.nc"
    source = saved if saved.exists() else SIM_CARD
    results = {label: simulate_exposure(SIM_SETTINGS["n"], SIM_SETTINGS["seed"], source=source,
                                        population=population, regimen=regimen,
                                        n_draws=SIM_SETTINGS["n_draws"])
               for label, population, regimen in SIM_SCENARIOS}
    summary = summarize_exposure(results, by=())
    responses = _predicted_rates(results, out.parent / "er_crcrh" / "er.nc")
    paths = write_exposure(results, summary, out, per_patient=False, responses=responses)
    print(exposure_text(summary))
    if responses is not None:
        print(response_markdown(responses))
    return list(paths.values())


def _predicted_rates(results, er_path: Path):
    """CR/CRh* rate per simulated regimen from the ``er_crcrh`` step's fit, when it ran."""
    if not er_path.exists():
        return None
    from blinapk.er import load_er
    from blinapk.simulate import predict_response

    return predict_response(results, load_er(er_path), max_draws=SIM_SETTINGS["n_draws"] * 20)


def report_step(dataset, out: Path) -> list[Path]:
    """Write the HTML report of all results (:func:`blinapk.report.html.write_html_report`).

    Parameters
    ----------
    dataset : Dataset
        The example study (unused: the report reads the results directory).
    out : Path
        ``report`` directory under the demo's output; the report is written
        one level up, as ``report.html`` next to the step directories.

    Returns
    -------
    list of Path
        The report.
    """
    from blinapk.report.html import write_html_report

    return [write_html_report(out.parent, out.parent / "report.html",
                              title="blinapk demo: example study")]


#: Steps run by ``blinapk demo``, in order.
STEPS: list[DemoStep] = [
    DemoStep("nca", "Noncompartmental analysis: Css, CL = R0/Css, cytokine peaks", nca_step),
    DemoStep("fit", "Bayesian population PK (1-cmt, CL~BSA power, M3), NUTS, with diagnostics",
             fit_step),
    DemoStep("endpoints", "Clinical endpoints: response, Kaplan-Meier, adverse events",
             endpoints_step),
    DemoStep("er", "Exposure-response: IL-6 peak vs Css increase (Emax, PK posterior "
             "propagated)", er_step),
    DemoStep("er_crcrh", "Exposure-response: CR/CRh* within 2 cycles vs Css (logistic, PK "
             "posterior propagated)", er_response_step),
    DemoStep("simulate", "Simulated regimens: adults vs children on the label regimens "
             "(2000 virtual patients each, fit posterior)", simulate_step),
    # the report reads every step's results: keep it last
    DemoStep("report", "HTML report of all results", report_step),
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``demo`` arguments.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand parser.
    """
    parser.add_argument("--out", default="blinapk-demo", help="output directory (created)")
    parser.add_argument("--steps", default=",".join(s.name for s in STEPS),
                        help="comma-separated steps to run (default: all)")


def run(args: argparse.Namespace) -> int:
    """Run the demo steps on the example study.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        Exit code (0; 2 for an unknown step name).
    """
    from blinapk.datasets import example_path, load_example
    from blinapk.report.html import write_manifest

    wanted = [s.strip() for s in args.steps.split(",") if s.strip()]
    known = {s.name for s in STEPS}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        print(f"blinapk demo: unknown step(s) {unknown}; known: {sorted(known)}")
        return 2
    out = Path(args.out)
    ds = load_example()
    print(f"example study: {example_path()} ({len(ds.subjects)} subjects, {ds.n_rows} rows)")
    write_manifest(out, data=f"{example_path().name} (the shipped example, "
                   "blinapk.datasets.example_path())", settings=_settings(wanted))
    steps = [s for s in STEPS if s.name in wanted]
    total, start = 0, time.perf_counter()
    for i, step in enumerate(steps, 1):
        began = time.perf_counter()
        print(f"\n== step {i}/{len(steps)} {step.name}: {step.title}", flush=True)
        files = step.run(ds, out / step.name)
        total += len(files)
        where = files[0].parent if files else out / step.name
        print(f"-> {len(files)} file(s) in {where.resolve()} "
              f"[{step.name} {time.perf_counter() - began:.0f} s, elapsed "
              f"{time.perf_counter() - start:.0f} s]", flush=True)
    print(f"\ndemo done in {time.perf_counter() - start:.0f} s: {total} file(s) under "
          f"{out.resolve()}")
    report = out / "report.html"
    if "report" in wanted and report.exists():
        print(f"report: {report.resolve()}")
    return 0


def _settings(wanted: list[str]) -> dict:
    """Return the settings of the steps run, for the report header."""
    settings = {"fit": {**FIT_SETTINGS, "covariates": list(FIT_COVARIATES)}, "er": ER_SETTINGS,
                "er_crcrh": ER_BINARY_SETTINGS,
                "simulate": {**SIM_SETTINGS, "scenarios": [list(x) for x in SIM_SCENARIOS]}}
    return {k: v for k, v in settings.items() if k in wanted}
