"""Dosing regimens for continuous-infusion blinatumomab.

Declarative regimens (:class:`Regimen`, :class:`WeightBasedRegimen`), the
label presets (:data:`PRESETS`, :func:`get_preset`), contract dose records
(:func:`dose_records`), NONMEM ``ADDL``/``II`` records written out
(:func:`expand_addl`) and piecewise-constant rate tables (:func:`rate_table`,
:func:`rate_at`, with an explicit convention for a time exactly at a rate
change: :data:`AT_CHANGE`). See docs/dosing.md.
"""

from blinapk.dosing.addl import ADDL_SOURCE, expand_addl
from blinapk.dosing.bsa import ADULT_WEIGHT_KG, choose_arm, daily_dose, dose_rate
from blinapk.dosing.courses import retreatment
from blinapk.dosing.interruption import INTERRUPTION_SCHEDULES, LABEL_CONTINUE_DAYS
from blinapk.dosing.presets import PRESETS, get_preset
from blinapk.dosing.rates import AT_CHANGE, bolus_table, idle_hours, rate_at, rate_table
from blinapk.dosing.records import DOSE_COLUMNS, dose_records
from blinapk.dosing.regimen import (
    DOSE_UNITS,
    LABEL_BAG_HOURS,
    CycleSpec,
    Interruption,
    Regimen,
    Step,
    WeightBasedRegimen,
    regimen_from_dict,
    with_n_cycles,
)
from blinapk.dosing.schedule import RateSchedule, rate_schedule

__all__ = [
    "ADDL_SOURCE",
    "ADULT_WEIGHT_KG",
    "AT_CHANGE",
    "DOSE_COLUMNS",
    "DOSE_UNITS",
    "INTERRUPTION_SCHEDULES",
    "LABEL_BAG_HOURS",
    "LABEL_CONTINUE_DAYS",
    "PRESETS",
    "CycleSpec",
    "Interruption",
    "RateSchedule",
    "Regimen",
    "Step",
    "WeightBasedRegimen",
    "bolus_table",
    "choose_arm",
    "daily_dose",
    "dose_rate",
    "dose_records",
    "expand_addl",
    "get_preset",
    "idle_hours",
    "rate_at",
    "rate_schedule",
    "rate_table",
    "regimen_from_dict",
    "retreatment",
    "with_n_cycles",
]
