"""Named label and study regimens, each with its source.

Numbers come from the BLINCYTO label and the published studies named in each
preset's ``source`` string, with an evidence flag: **V** read in the source
text, **U** unverified (memory or a secondary source). Tests check the V
numbers; U presets are provided for simulation and say what was assumed.
The presets and their sources are listed in docs/dosing.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType

from blinapk.dosing.regimen import (
    AnyRegimen,
    CycleSpec,
    Regimen,
    Step,
    WeightBasedRegimen,
    with_n_cycles,
)
from blinapk.errors import ModelSpecError

__all__ = ["PRESETS", "get_preset"]

_LABEL = "BLINCYTO (blinatumomab) US prescribing information, Dosage and Administration"
_RR_SCHEDULE = (
    "induction cycles 1-2 and consolidation cycles 3-5: 4 weeks on, 2 weeks off (42-day "
    "cycle); continued therapy cycles 6-9: 4 weeks on, 8 weeks off (V)"
)


def _rr(name: str, first: tuple[Step, ...], later: Step, source: str) -> Regimen:
    """R/R ALL schedule: cycle 1 with ``first`` steps, cycles 2-9 at ``later``."""
    return Regimen(
        name,
        (
            CycleSpec(1, 1, first, 28, 14),
            CycleSpec(2, 5, (later,), 28, 14),
            CycleSpec(6, 9, (later,), 28, 56),
        ),
        n_cycles=2,
        source=source,
    )


_ADULT_RR = _rr(
    "adult_rr",
    (Step(1, 9), Step(8, 28)),
    Step(1, 28),
    f"{_LABEL}, R/R B-ALL, patients >= 45 kg: cycle 1 9 ug/day days 1-7 then 28 ug/day "
    f"days 8-28, later cycles 28 ug/day days 1-28 (V); {_RR_SCHEDULE}. "
    "Default n_cycles=2 (induction); up to 9.",
)
_PAED_RR = _rr(
    "paediatric_rr",
    (Step(1, 5, "ug/m2/day", cap=9), Step(8, 15, "ug/m2/day", cap=28)),
    Step(1, 15, "ug/m2/day", cap=28),
    f"{_LABEL}, R/R B-ALL, patients < 45 kg: cycle 1 5 ug/m2/day (<= 9 ug/day) days 1-7 "
    "then 15 ug/m2/day (<= 28 ug/day) days 8-28, later cycles 15 ug/m2/day (<= 28 ug/day) "
    f"(V); recommended by the paediatric phase 1 MT103-205 (MTD 15 ug/m2/day, V); "
    f"{_RR_SCHEDULE}. Default n_cycles=2 (induction); up to 9.",
)


def _mrd(name: str, step: Step, who: str) -> Regimen:
    return Regimen(
        name,
        (CycleSpec(1, 4, (step,), 28, 14),),
        n_cycles=4,
        source=f"{_LABEL}, MRD-positive B-ALL, {who}: {step.label}"
        + (f" (<= {step.cap:g} ug/day)" if step.cap else "")
        + " days 1-28 from day 1, no step dose, 2 weeks off; induction cycle 1 + up to 3 "
        "consolidation cycles = up to 4 cycles (V). Default n_cycles=4.",
    )


_MRD_ADULT = _mrd("mrd_adult", Step(1, 28), "patients >= 45 kg")
_MRD_PAED = _mrd("mrd_paediatric", Step(1, 15, "ug/m2/day", cap=28), "patients < 45 kg")

_MT103_206 = (
    "Adult R/R ALL dose finding MT103-206 (Topp et al., J Clin Oncol 2014) cohorts (U: cohort "
    "doses from a secondary source)"
)


def _per_m2(name: str, doses: tuple[float, ...], days: tuple[int, ...], note: str) -> Regimen:
    steps = tuple(Step(d, x, "ug/m2/day") for d, x in zip(days, doses, strict=True))
    return Regimen(
        name,
        (CycleSpec(1, 1, steps, 28, 14), CycleSpec(2, None, (Step(1, doses[-1], "ug/m2/day"),))),
        n_cycles=2,
        source=f"{_MT103_206}: {note}. No cap (adults dosed per m2). Default n_cycles=2.",
    )


_AALL1331 = Regimen(
    "aall1331",
    (CycleSpec(1, None, (Step(1, 15, "ug/m2/day", cap=28),), 28, 7),),
    n_cycles=2,
    source="Children's Oncology Group AALL1331 (Brown et al., JAMA 2021; Hogan et al., Lancet "
    "Oncol 2023): blinatumomab blocks of 15 ug/m2/day by continuous infusion for 4 weeks then "
    "1 week off (5-week blocks), no step dose (U: block structure and dose from secondary "
    "sources; the 28 ug/day cap follows the label, U). Default n_cycles=2 (the two blocks "
    "of the high/intermediate-risk arm); any number.",
)

_PRESETS: dict[str, AnyRegimen] = {
    "adult_rr": _ADULT_RR,
    "paediatric_rr": _PAED_RR,
    "weight_based_rr": WeightBasedRegimen(
        "weight_based_rr",
        _ADULT_RR,
        _PAED_RR,
        45.0,
        source=f"{_LABEL}: flat ug/day dosing for patients >= 45 kg, ug/m2/day dosing with "
        "ug/day caps below 45 kg (V); arms as presets adult_rr / paediatric_rr.",
    ),
    "mrd_adult": _MRD_ADULT,
    "mrd_paediatric": _MRD_PAED,
    "mrd": WeightBasedRegimen(
        "mrd",
        _MRD_ADULT,
        _MRD_PAED,
        45.0,
        source=f"{_LABEL}, MRD-positive B-ALL: 28 ug/day for patients >= 45 kg, 15 ug/m2/day "
        "(<= 28 ug/day) below 45 kg, from day 1, up to 4 cycles (V).",
    ),
    "aall1331": _AALL1331,
    "flat_15_m2": _per_m2(
        "flat_15_m2",
        (15.0,),
        (1,),
        "15 ug/m2/day from day 1 in every cycle (cohort doses U)",
    ),
    "dose_finding_5_15": _per_m2(
        "dose_finding_5_15",
        (5.0, 15.0),
        (1, 8),
        "5 ug/m2/day week 1 then 15 ug/m2/day; later cycles 15 ug/m2/day (U; step day 8 "
        "assumed, as in the label's 1-week step)",
    ),
    "dose_finding_5_15_30": _per_m2(
        "dose_finding_5_15_30",
        (5.0, 15.0, 30.0),
        (1, 8, 15),
        "5 -> 15 -> 30 ug/m2/day; step days 1, 8, 15 ASSUMED (U, one-week steps); later "
        "cycles 30 ug/m2/day assumed (U)",
    ),
}

#: Read-only mapping ``name -> Regimen | WeightBasedRegimen``; see ``.source`` of each.
PRESETS: Mapping[str, AnyRegimen] = MappingProxyType(_PRESETS)


def get_preset(
    name: str, *, n_cycles: int | None = None, bag_hours: float | None = None
) -> AnyRegimen:
    """Return a named regimen, optionally with another number of cycles or bag length.

    Parameters
    ----------
    name : str
        One of ``PRESETS`` (``adult_rr``, ``paediatric_rr``, ``weight_based_rr``,
        ``mrd``, ``mrd_adult``, ``mrd_paediatric``, ``aall1331``, ``flat_15_m2``,
        ``dose_finding_5_15``, ``dose_finding_5_15_30``).
    n_cycles : int, optional
        Number of cycles (R/R presets define 1-9, MRD presets 1-4, ``aall1331``
        and dose-finding presets any number).
    bag_hours : float, optional
        Infusion bag length (h) stored on the regimen (both arms if weight-based).

    Returns
    -------
    Regimen or WeightBasedRegimen

    Raises
    ------
    ModelSpecError
        Unknown name (the message lists the valid ones) or ``n_cycles`` out of range.

    Examples
    --------
    >>> get_preset("adult_rr", n_cycles=9).cycle_spec(6).off_days
    56.0
    """
    try:
        regimen = PRESETS[name]
    except (KeyError, TypeError):
        raise ModelSpecError(
            f"unknown regimen preset {name!r}; valid presets: {', '.join(sorted(PRESETS))}"
        ) from None
    if n_cycles is not None:
        regimen = with_n_cycles(regimen, n_cycles)
    if bag_hours is not None:
        if isinstance(regimen, WeightBasedRegimen):
            regimen = replace(
                regimen,
                adult=replace(regimen.adult, bag_hours=bag_hours),
                paediatric=replace(regimen.paediatric, bag_hours=bag_hours),
            )
        else:
            regimen = replace(regimen, bag_hours=bag_hours)
    return regimen
