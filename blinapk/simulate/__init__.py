"""Virtual-trial engine: simulate blinatumomab trials with known truth.

:func:`simulate_trial` draws a virtual population
(:mod:`~blinapk.simulate.population`), doses it with a label regimen
(:mod:`blinapk.dosing`), samples it per protocol
(:mod:`~blinapk.simulate.sampling`), takes each subject's PK parameters from a
:class:`ParameterSource` (:mod:`~blinapk.simulate.source`; a literature model
card is one) and adds cytokine release (:mod:`~blinapk.simulate.cytokines`),
assay error and censoring. The result is a :class:`SimulatedTrial`: the
dataset, the truth behind it and every generating setting.

:func:`simulate_exposure` simulates exposure (Css per dose level, average
concentration, time above a threshold) of up to millions of virtual
patients (:class:`Population`) on any regimen, with parameters from a model
card or a fitted posterior (:class:`PosteriorSource`), in memory or chunked
on dask; :func:`summarize_exposure` gives distributions and probability of
target attainment. See docs/simulate.md.
"""

from blinapk.simulate.chunked import compute_exposure
from blinapk.simulate.cohort import POPULATIONS, Population, resolve_population
from blinapk.simulate.cytokines import CytokineModel, load_cytokine_model
from blinapk.simulate.exposure import DEFAULT_THRESHOLDS, simulate_exposure
from blinapk.simulate.exposure_summary import ExposureSummary, summarize_exposure
from blinapk.simulate.population import POPULATION, mosteller_bsa, simulate_population
from blinapk.simulate.posterior import CardSource, PosteriorSource
from blinapk.simulate.sampling import PROTOCOL, sampling_schedule
from blinapk.simulate.source import ParameterSource, resolve_source
from blinapk.simulate.trial import DATA_COLUMNS, INTERRUPTIONS, SimulatedTrial, simulate_trial

__all__ = [
    "DATA_COLUMNS",
    "DEFAULT_THRESHOLDS",
    "INTERRUPTIONS",
    "POPULATION",
    "POPULATIONS",
    "PROTOCOL",
    "CardSource",
    "CytokineModel",
    "ExposureSummary",
    "ParameterSource",
    "Population",
    "PosteriorSource",
    "SimulatedTrial",
    "compute_exposure",
    "load_cytokine_model",
    "mosteller_bsa",
    "resolve_population",
    "resolve_source",
    "sampling_schedule",
    "simulate_exposure",
    "simulate_population",
    "simulate_trial",
    "summarize_exposure",
]
