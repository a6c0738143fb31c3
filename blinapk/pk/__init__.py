"""Closed-form linear pharmacokinetics, written once for numpy, PyTensor and JAX.

One- and two-compartment models with first-order elimination from the
central compartment, under any sequence of IV boluses and zero-order
infusions, by superposition of closed forms.  See ``docs/pk.md``.

Units: TIME h, AMT ug, RATE ug/h, CL/Q L/h, V/V2 L, concentrations pg/mL
(``C = 1000 A / V``).
"""

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
from blinapk.pk.doses import DoseMatrix, dose_matrix
from blinapk.pk.predict import modes, predict_conc, predict_conc_plan
from blinapk.pk.segments import SegmentPlan, compact_doses, plan_segments

__all__ = [
    "DoseMatrix",
    "MacroConstants",
    "MicroConstants",
    "SegmentPlan",
    "cl_from_css",
    "compact_doses",
    "css_from_rate",
    "dose_matrix",
    "half_life",
    "half_lives_2cmt",
    "macro_constants",
    "micro_constants",
    "modes",
    "plan_segments",
    "predict_conc",
    "predict_conc_plan",
]
