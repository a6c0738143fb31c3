"""Virtual-trial engine: simulate blinatumomab trials with known truth.

:func:`simulate_trial` draws a virtual population
(:mod:`~blinapk.simulate.population`), doses it with a label regimen
(:mod:`blinapk.dosing`), samples it per protocol
(:mod:`~blinapk.simulate.sampling`), takes each subject's PK parameters from a
:class:`ParameterSource` (:mod:`~blinapk.simulate.source`; a literature model
card is one) and adds cytokine release (:mod:`~blinapk.simulate.cytokines`),
assay error and censoring, and the clinical tables (subjects, response
assessments, adverse events) from documented truths that depend on exposure
and cytokines (:mod:`~blinapk.simulate.clinical`). The result is a
:class:`SimulatedTrial`: the dataset, the clinical tables, the truth behind
them and every generating setting. See
docs/simulate.md.

Dose finding (docs/dose_finding.md): the 3+3 and rolling six designs as
decision tables (:mod:`~blinapk.simulate.dose_designs`), one trial on a
timeline (:mod:`~blinapk.simulate.dose_finding`), operating characteristics
over many trials (:mod:`~blinapk.simulate.dose_oc`), the exact 3+3
(:mod:`~blinapk.simulate.dose_exact`) and DLT probabilities from exposure
(:mod:`~blinapk.simulate.dose_toxicity`).

:func:`simulate_exposure` simulates exposure (Css per dose level, average
concentration, time above a threshold) of up to millions of virtual
patients (:class:`Population`) on any regimen, with parameters from a model
card or a fitted posterior (:class:`PosteriorSource`), in memory or chunked
on dask; :func:`summarize_exposure` gives distributions and probability of
target attainment; with exposure-response models,
:func:`predict_response` gives the predicted response and adverse-event
rates per regimen with credible intervals, and
:func:`dlt_probabilities_from_er` the DLT probability per dose for dose
finding. See docs/simulate.md.
"""

from blinapk.simulate.chunked import compute_exposure
from blinapk.simulate.clinical import ClinicalTables, write_clinical_tables
from blinapk.simulate.clinical_model import ClinicalModel, load_clinical_model
from blinapk.simulate.cohort import POPULATIONS, Population, resolve_population
from blinapk.simulate.cytokines import CytokineModel, load_cytokine_model
from blinapk.simulate.dose_designs import (
    ROLLING_SIX,
    THREE_PLUS_THREE,
    EscalationDesign,
    rolling_six,
    three_plus_three,
)
from blinapk.simulate.dose_exact import three_plus_three_exact
from blinapk.simulate.dose_finding import (
    Accrual,
    DoseFindingTrial,
    run_dose_finding,
    simulate_dose_finding,
)
from blinapk.simulate.dose_oc import DoseFindingOC, operating_characteristics
from blinapk.simulate.dose_toxicity import (
    dlt_probabilities_from_er,
    dlt_probabilities_from_exposure,
    predict_dose_levels,
)
from blinapk.simulate.exposure import DEFAULT_THRESHOLDS, simulate_exposure
from blinapk.simulate.exposure_summary import ExposureSummary, summarize_exposure
from blinapk.simulate.population import POPULATION, mosteller_bsa, simulate_population
from blinapk.simulate.posterior import CardSource, PosteriorSource
from blinapk.simulate.response import predict_response
from blinapk.simulate.sampling import PROTOCOL, sampling_schedule
from blinapk.simulate.source import ParameterSource, resolve_source
from blinapk.simulate.trial import DATA_COLUMNS, INTERRUPTIONS, SimulatedTrial, simulate_trial

__all__ = [
    "Accrual",
    "CardSource",
    "ClinicalModel",
    "ClinicalTables",
    "CytokineModel",
    "DATA_COLUMNS",
    "DEFAULT_THRESHOLDS",
    "DoseFindingOC",
    "DoseFindingTrial",
    "EscalationDesign",
    "ExposureSummary",
    "INTERRUPTIONS",
    "POPULATION",
    "POPULATIONS",
    "PROTOCOL",
    "ParameterSource",
    "Population",
    "PosteriorSource",
    "ROLLING_SIX",
    "SimulatedTrial",
    "THREE_PLUS_THREE",
    "compute_exposure",
    "dlt_probabilities_from_er",
    "dlt_probabilities_from_exposure",
    "load_clinical_model",
    "load_cytokine_model",
    "mosteller_bsa",
    "operating_characteristics",
    "predict_dose_levels",
    "predict_response",
    "resolve_population",
    "resolve_source",
    "rolling_six",
    "run_dose_finding",
    "sampling_schedule",
    "simulate_dose_finding",
    "simulate_exposure",
    "simulate_population",
    "simulate_trial",
    "summarize_exposure",
    "three_plus_three",
    "three_plus_three_exact",
    "write_clinical_tables",
]
