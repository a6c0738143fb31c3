"""Closed-form linear pharmacokinetics, written once for numpy, PyTensor and JAX.

One- and two-compartment models with first-order elimination from the
central compartment, under any sequence of IV boluses and zero-order
infusions, by superposition of closed forms.  See ``docs/pk.md``.

Units: TIME h, AMT ug, RATE ug/h, CL/Q L/h, V/V2 L, concentrations pg/mL
(``C = 1000 A / V``).

The vocabulary shared with model cards and population-PK models lives here
too: :mod:`blinapk.pk.parameters` (structures, parameter units and labels)
and :mod:`blinapk.pk.covariates` (covariate-effect forms, their design,
log-scale effect and natural-scale factor for every backend); the Emax model
shared by exposure-response and simulation is :mod:`blinapk.pk.emax`.
"""

from blinapk.pk import covariates, emax, parameters
from blinapk.pk.constants import (
    MacroConstants,
    MicroConstants,
    cl_from_css,
    css_from_rate,
    half_life,
    half_lives_2cmt,
    macro_constants,
    micro_constants,
)
from blinapk.pk.covariates import FORMS, LINEAR_FLOOR
from blinapk.pk.doses import DoseMatrix, dose_matrix
from blinapk.pk.emax import emax_fraction, log_emax_fraction
from blinapk.pk.parameters import PARAMETER_LABELS, PARAMETER_UNITS, STRUCTURES
from blinapk.pk.predict import modes, predict_conc, predict_conc_plan
from blinapk.pk.segments import SegmentPlan, compact_doses, plan_segments

__all__ = [
    "FORMS",
    "LINEAR_FLOOR",
    "PARAMETER_LABELS",
    "PARAMETER_UNITS",
    "STRUCTURES",
    "DoseMatrix",
    "MacroConstants",
    "MicroConstants",
    "SegmentPlan",
    "cl_from_css",
    "compact_doses",
    "covariates",
    "css_from_rate",
    "dose_matrix",
    "emax",
    "emax_fraction",
    "half_life",
    "half_lives_2cmt",
    "log_emax_fraction",
    "macro_constants",
    "micro_constants",
    "modes",
    "parameters",
    "plan_segments",
    "predict_conc",
    "predict_conc_plan",
]
