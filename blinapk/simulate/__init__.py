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
"""

from blinapk.simulate.clinical import ClinicalTables, write_clinical_tables
from blinapk.simulate.clinical_model import ClinicalModel, load_clinical_model
from blinapk.simulate.cytokines import CytokineModel, load_cytokine_model
from blinapk.simulate.population import POPULATION, mosteller_bsa, simulate_population
from blinapk.simulate.sampling import PROTOCOL, sampling_schedule
from blinapk.simulate.source import ParameterSource, resolve_source
from blinapk.simulate.trial import DATA_COLUMNS, INTERRUPTIONS, SimulatedTrial, simulate_trial

__all__ = [
    "DATA_COLUMNS",
    "INTERRUPTIONS",
    "POPULATION",
    "PROTOCOL",
    "ClinicalModel",
    "ClinicalTables",
    "CytokineModel",
    "ParameterSource",
    "SimulatedTrial",
    "load_clinical_model",
    "load_cytokine_model",
    "mosteller_bsa",
    "resolve_source",
    "sampling_schedule",
    "simulate_population",
    "simulate_trial",
    "write_clinical_tables",
]
