"""Regimen objects: validation, serialisation, presets (numbers of the BLINCYTO label)."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError

import pytest
from dosing_strategies import regimens
from hypothesis import given, settings

from blinapk.dosing import (
    PRESETS,
    CycleSpec,
    Interruption,
    Regimen,
    Step,
    WeightBasedRegimen,
    get_preset,
    regimen_from_dict,
    with_n_cycles,
)
from blinapk.errors import ModelSpecError, UnitError


def _flat(**kw):
    return Regimen("r", (CycleSpec(1, None, (Step(1, 28),)),), **kw)


@settings(max_examples=100, deadline=None)
@given(regimens())
def test_round_trip_through_json(reg):
    back = Regimen.from_dict(json.loads(json.dumps(reg.to_dict())))
    assert back == reg
    assert regimen_from_dict(reg.to_dict()) == reg


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_round_trips_and_cites_a_source(name):
    reg = get_preset(name)
    assert regimen_from_dict(json.loads(json.dumps(reg.to_dict()))) == reg
    assert "(V)" in reg.source or "(U" in reg.source
    arms = [reg.adult, reg.paediatric] if isinstance(reg, WeightBasedRegimen) else [reg]
    for arm in arms:
        assert arm.source


def test_frozen_and_replace_returns_new_object():
    reg = _flat(n_cycles=2)
    with pytest.raises(FrozenInstanceError):
        reg.n_cycles = 3
    assert with_n_cycles(reg, 3).n_cycles == 3
    assert reg.n_cycles == 2


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: CycleSpec(1, 1, (Step(2, 9),)), "day 1"),
        (lambda: CycleSpec(1, 1, (Step(1, 9), Step(1, 28))), "strictly increase"),
        (lambda: CycleSpec(1, 1, (Step(1, 9), Step(29, 28))), "after the 28-day"),
        (lambda: CycleSpec(1, 1, ()), "at least one"),
        (lambda: CycleSpec(0, 1, (Step(1, 9),)), "first"),
        (lambda: CycleSpec(2, 1, (Step(1, 9),)), "last"),
        (lambda: Step(1, 0), "dose"),
        (lambda: Step(1, float("nan")), "finite"),
        (lambda: Step(1, 5, cap=-1), "cap"),
        (lambda: Interruption(-1, 24), "start"),
        (lambda: Interruption(0, 0), "duration"),
        (lambda: Regimen("r", (CycleSpec(2, None, (Step(1, 9),)),)), "contiguous"),
        (lambda: Regimen("r", (CycleSpec(1, 1, (Step(1, 9),)),), n_cycles=2), "cycles 1-1"),
        (lambda: _flat(n_cycles=0), "out of range"),
        (lambda: _flat(bag_hours=0), "bag_hours"),
        (lambda: Regimen.from_dict({**_flat().to_dict(), "typo": 1}), "unknown Regimen key"),
        (lambda: regimen_from_dict({"kind": "nope"}), "unknown regimen kind"),
    ],
)
def test_invalid_specs_raise_model_spec_error(build, match):
    with pytest.raises(ModelSpecError, match=match):
        build()


def test_unknown_unit_is_a_unit_error():
    with pytest.raises(UnitError, match="ug/m2/day"):
        Step(1, 5, "mg/day")


def test_unknown_preset_lists_the_valid_ones():
    with pytest.raises(ModelSpecError) as err:
        get_preset("adult")
    for name in PRESETS:
        assert name in str(err.value)


def test_adult_rr_schedule_matches_label():
    # BLINCYTO label, dosage section: cycle 1 9 ug/day d1-7, 28 ug/day d8-28;
    # later 28 ug/day; cycles 1-5 4 on / 2 off; cycles 6-9 4 on / 8 off.
    reg = get_preset("adult_rr", n_cycles=9)
    c1 = reg.cycle_spec(1)
    assert [(s.day, s.dose, s.unit, s.cap) for s in c1.steps] == [
        (1, 9, "ug/day", None),
        (8, 28, "ug/day", None),
    ]
    for k in range(2, 10):
        assert [(s.day, s.dose) for s in reg.cycle_spec(k).steps] == [(1, 28)]
        assert reg.cycle_spec(k).on_days == 28
        assert reg.cycle_spec(k).off_days == (14 if k <= 5 else 56)
    assert reg.cycle_spec(1).cycle_days == 42
    starts_days = [t / 24 for t in reg.cycle_starts()]
    assert starts_days == [0, 42, 84, 126, 168, 210, 294, 378, 462]
    with pytest.raises(ModelSpecError, match="1-9"):
        get_preset("adult_rr", n_cycles=10)
    assert get_preset("adult_rr").n_cycles == 2  # default: induction


def test_paediatric_and_mrd_presets_match_label():
    paed = get_preset("paediatric_rr")
    assert [(s.dose, s.unit, s.cap) for s in paed.cycle_spec(1).steps] == [
        (5, "ug/m2/day", 9),
        (15, "ug/m2/day", 28),
    ]
    assert [(s.dose, s.cap) for s in paed.cycle_spec(2).steps] == [(15, 28)]
    mrd = get_preset("mrd")
    assert isinstance(mrd, WeightBasedRegimen) and mrd.threshold_kg == 45
    assert [(s.day, s.dose, s.unit) for s in mrd.adult.cycle_spec(1).steps] == [(1, 28, "ug/day")]
    assert [(s.dose, s.cap) for s in mrd.paediatric.cycle_spec(4).steps] == [(15, 28)]
    assert mrd.adult.n_cycles == 4
    with pytest.raises(ModelSpecError):
        get_preset("mrd", n_cycles=5)
    wb = get_preset("weight_based_rr", n_cycles=3, bag_hours=96)
    assert wb.adult == get_preset("adult_rr", n_cycles=3, bag_hours=96)
    assert wb.paediatric.bag_hours == 96


def test_dose_finding_presets_document_assumed_days():
    reg = get_preset("dose_finding_5_15_30")
    assert [(s.day, s.dose) for s in reg.cycle_spec(1).steps] == [(1, 5), (8, 15), (15, 30)]
    assert "ASSUMED" in reg.source and "(U" in reg.source
    assert [(s.dose, s.unit) for s in get_preset("flat_15_m2").cycle_spec(3).steps] == [
        (15, "ug/m2/day")
    ]


def test_needs_bsa():
    assert not get_preset("adult_rr").needs_bsa
    assert get_preset("paediatric_rr").needs_bsa
    crs = Interruption(10, 24, restart_dose=5, restart_unit="ug/m2/day")
    assert _flat(interruptions=(crs,)).needs_bsa


def test_interruption_from_days():
    it = Interruption.from_days(3, 2, restart_dose=9, reason="CRS grade 3")
    assert (it.start, it.end, it.restart_end) == (48.0, 96.0, 96.0 + 7 * 24)
    assert it.restart_step == Step(1, 9)
