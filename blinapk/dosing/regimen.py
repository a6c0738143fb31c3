"""Declarative treatment regimens: cycles, step doses and interruptions.

A :class:`Regimen` describes *what is prescribed*, never who receives it:
cycle blocks (:class:`CycleSpec`, e.g. 4 weeks on / 2 weeks off for cycles
1-5 and 4 on / 8 off for cycles 6-9), dose steps inside a cycle
(:class:`Step`, in ``ug/day`` or ``ug/m2/day`` with an optional cap in
``ug/day``), planned interruptions (:class:`Interruption`) and the infusion
bag length. :class:`WeightBasedRegimen` pairs a flat (adult) and a BSA
(paediatric) regimen and chooses per subject by body weight, as the label does.

Every object is a frozen dataclass that validates itself on construction
(:class:`~blinapk.errors.ModelSpecError`, or :class:`~blinapk.errors.UnitError`
for an unknown unit) and round-trips through plain, JSON-safe dicts
(``to_dict`` / ``from_dict``). Changes are made with
:func:`dataclasses.replace` or :func:`with_n_cycles`, which return new objects.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from blinapk.dosing._spec import (
    DOSE_UNITS,
    HOURS_PER_DAY,
    _from_dict,
    _number,
    _optional_number,
)
from blinapk.dosing.interruption import Interruption
from blinapk.dosing.step import Step, dose_label
from blinapk.errors import ModelSpecError

__all__ = [
    "DOSE_UNITS",
    "HOURS_PER_DAY",
    "LABEL_BAG_HOURS",
    "CycleSpec",
    "Interruption",
    "Regimen",
    "AnyRegimen",
    "Step",
    "WeightBasedRegimen",
    "dose_label",
    "regimen_from_dict",
    "with_n_cycles",
]

#: Infusion bag lengths (h) offered by the label (evidence flag U: unverified, not
#: read in the label text itself; see docs/dosing.md).
LABEL_BAG_HOURS: tuple[float, ...] = (24.0, 48.0, 72.0, 96.0, 168.0)


@dataclass(frozen=True)
class CycleSpec:
    """Schedule shared by a range of cycles.

    Parameters
    ----------
    first, last : int
        1-based cycle range covered (inclusive). ``last=None`` means "every
        later cycle".
    steps : sequence of Step
        Dose steps; the first starts on day 1, days strictly increase and all
        start within the infusion phase.
    on_days : float, default 28
        Length of the continuous-infusion phase (days).
    off_days : float, default 14
        Treatment-free interval after it (days); the cycle lasts
        ``on_days + off_days``.
    """

    first: int
    last: int | None
    steps: tuple[Step, ...]
    on_days: float = 28.0
    off_days: float = 14.0

    def __post_init__(self) -> None:
        if isinstance(self.first, bool) or int(self.first) != self.first or self.first < 1:
            raise ModelSpecError(f"CycleSpec.first must be an integer >= 1, got {self.first!r}")
        object.__setattr__(self, "first", int(self.first))
        if self.last is not None:
            if int(self.last) != self.last or self.last < self.first:
                raise ModelSpecError(
                    f"CycleSpec.last must be an integer >= first ({self.first}), got {self.last!r}"
                )
            object.__setattr__(self, "last", int(self.last))
        object.__setattr__(self, "on_days", _number(self.on_days, "CycleSpec.on_days", low=0.0))
        object.__setattr__(
            self, "off_days", _number(self.off_days, "CycleSpec.off_days", low=0.0, strict=False)
        )
        steps = tuple(s if isinstance(s, Step) else Step.from_dict(s) for s in self.steps)
        if not steps:
            raise ModelSpecError("CycleSpec.steps must hold at least one Step")
        if steps[0].day != 1.0:
            raise ModelSpecError(f"the first step must start on day 1, got day {steps[0].day:g}")
        days = [s.day for s in steps]
        if any(b <= a for a, b in zip(days, days[1:], strict=False)):
            raise ModelSpecError(f"step days must strictly increase, got {days}")
        if days[-1] - 1.0 >= self.on_days:
            raise ModelSpecError(
                f"step on day {days[-1]:g} starts after the {self.on_days:g}-day infusion phase"
            )
        object.__setattr__(self, "steps", steps)

    @property
    def cycle_days(self) -> float:
        """Cycle length in days (``on_days + off_days``)."""
        return self.on_days + self.off_days

    def covers(self, cycle: int) -> bool:
        """Whether 1-based ``cycle`` falls in this block."""
        return cycle >= self.first and (self.last is None or cycle <= self.last)

    def intervals(self) -> tuple[tuple[float, float, Step], ...]:
        """Return ``(start_h, end_h, step)`` of each step, relative to the cycle start."""
        starts = [(s.day - 1.0) * HOURS_PER_DAY for s in self.steps]
        ends = starts[1:] + [self.on_days * HOURS_PER_DAY]
        return tuple(zip(starts, ends, self.steps, strict=True))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {
            "first": self.first,
            "last": self.last,
            "steps": [s.to_dict() for s in self.steps],
            "on_days": self.on_days,
            "off_days": self.off_days,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CycleSpec:
        """Build from :meth:`to_dict` output."""
        return _from_dict(cls, data, {"steps": lambda v: tuple(Step.from_dict(s) for s in v)})


@dataclass(frozen=True)
class Regimen:
    """A dosing regimen: cycle blocks, steps, planned interruptions, bag length.

    Parameters
    ----------
    name : str
        Short identifier.
    cycles : sequence of CycleSpec
        Blocks covering cycles 1..``n_cycles`` without gaps or overlaps.
    n_cycles : int, default 1
        Number of cycles given.
    interruptions : sequence of Interruption
        Pauses applied to every subject (per-subject pauses are passed to
        :func:`~blinapk.dosing.dose_records`).
    bag_hours : float, optional
        Infusion bag length (h); each constant-rate run is written as one
        record per bag. None writes one record per run. Exposure does not
        depend on it.
    source : str
        Where the regimen comes from, with its evidence flag (V read in the
        source, D derived from V numbers, U unverified; docs/dosing.md).

    Examples
    --------
    >>> r = Regimen("flat", (CycleSpec(1, None, (Step(1, 28),)),), n_cycles=2)
    >>> Regimen.from_dict(r.to_dict()) == r
    True
    """

    name: str
    cycles: tuple[CycleSpec, ...]
    n_cycles: int = 1
    interruptions: tuple[Interruption, ...] = ()
    bag_hours: float | None = None
    source: str = ""

    kind: ClassVar[str] = "regimen"

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", str(self.name))
        object.__setattr__(self, "source", str(self.source))
        cycles = tuple(
            c if isinstance(c, CycleSpec) else CycleSpec.from_dict(c) for c in self.cycles
        )
        if not cycles:
            raise ModelSpecError(f"regimen {self.name!r} has no CycleSpec")
        if not _is_whole_number(self.n_cycles):
            raise ModelSpecError(f"n_cycles must be an integer, got {self.n_cycles!r}")
        object.__setattr__(self, "n_cycles", int(self.n_cycles))
        expected = 1
        for block in cycles:
            if block.first != expected:
                raise ModelSpecError(
                    f"regimen {self.name!r}: cycle blocks must be contiguous from cycle 1; "
                    f"expected a block starting at cycle {expected}, got {block.first}"
                )
            if block.last is None and block is not cycles[-1]:
                raise ModelSpecError("only the last cycle block may be open-ended (last=None)")
            expected = (block.last or block.first) + 1
        object.__setattr__(self, "cycles", cycles)
        if self.n_cycles < 1 or self.n_cycles > self.max_cycles:
            raise ModelSpecError(
                f"regimen {self.name!r} defines cycles 1-{self.max_cycles:g}; "
                f"n_cycles={self.n_cycles} is out of range"
            )
        object.__setattr__(
            self,
            "interruptions",
            tuple(
                i if isinstance(i, Interruption) else Interruption.from_dict(i)
                for i in self.interruptions
            ),
        )
        object.__setattr__(self, "bag_hours", _optional_number(self.bag_hours, "bag_hours"))

    @property
    def max_cycles(self) -> float:
        """Largest cycle number the blocks define (``inf`` when open-ended)."""
        last = self.cycles[-1].last
        return math.inf if last is None else float(last)

    def cycle_spec(self, cycle: int) -> CycleSpec:
        """Return the block that governs 1-based ``cycle``."""
        for block in self.cycles:
            if block.covers(cycle):
                return block
        raise ModelSpecError(f"regimen {self.name!r} does not define cycle {cycle}")

    def cycle_starts(self) -> tuple[float, ...]:
        """Start of each given cycle (h since the start of cycle 1)."""
        starts, t = [], 0.0
        for k in range(1, self.n_cycles + 1):
            starts.append(t)
            t += self.cycle_spec(k).cycle_days * HOURS_PER_DAY
        return tuple(starts)

    @property
    def needs_bsa(self) -> bool:
        """Whether any given step or restart dose is per m2 (so BSA is required)."""
        steps = [s for k in range(1, self.n_cycles + 1) for s in self.cycle_spec(k).steps]
        steps += [i.restart_step for i in self.interruptions if i.restart_step is not None]
        return any(s.per_m2 for s in steps)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict (``kind`` = ``"regimen"``)."""
        return {
            "kind": self.kind,
            "name": self.name,
            "cycles": [c.to_dict() for c in self.cycles],
            "n_cycles": self.n_cycles,
            "interruptions": [i.to_dict() for i in self.interruptions],
            "bag_hours": self.bag_hours,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Regimen:
        """Build from :meth:`to_dict` output."""
        if data.get("kind", cls.kind) != cls.kind:
            raise ModelSpecError(f"expected kind {cls.kind!r}, got {data.get('kind')!r}")
        return _from_dict(
            cls,
            data,
            {
                "cycles": lambda v: tuple(CycleSpec.from_dict(c) for c in v),
                "interruptions": lambda v: tuple(Interruption.from_dict(i) for i in v),
            },
        )


@dataclass(frozen=True)
class WeightBasedRegimen:
    """Flat dosing at or above a body-weight threshold, BSA dosing below it.

    Parameters
    ----------
    name : str
        Short identifier.
    adult : Regimen
        Regimen for subjects with ``WT >= threshold_kg``.
    paediatric : Regimen
        Regimen for subjects with ``WT < threshold_kg``.
    threshold_kg : float, default 45
        The label's threshold (flag V).
    source : str
        Where the rule comes from.
    """

    name: str
    adult: Regimen
    paediatric: Regimen
    threshold_kg: float = 45.0
    source: str = ""

    kind: ClassVar[str] = "weight_based"

    def __post_init__(self) -> None:
        for arm in ("adult", "paediatric"):
            if not isinstance(getattr(self, arm), Regimen):
                raise ModelSpecError(f"WeightBasedRegimen.{arm} must be a Regimen")
        object.__setattr__(
            self, "threshold_kg", _number(self.threshold_kg, "threshold_kg", low=0.0)
        )
        object.__setattr__(self, "name", str(self.name))
        object.__setattr__(self, "source", str(self.source))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict (``kind`` = ``"weight_based"``)."""
        return {
            "kind": self.kind,
            "name": self.name,
            "adult": self.adult.to_dict(),
            "paediatric": self.paediatric.to_dict(),
            "threshold_kg": self.threshold_kg,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WeightBasedRegimen:
        """Build from :meth:`to_dict` output."""
        if data.get("kind", cls.kind) != cls.kind:
            raise ModelSpecError(f"expected kind {cls.kind!r}, got {data.get('kind')!r}")
        return _from_dict(cls, data, {"adult": Regimen.from_dict, "paediatric": Regimen.from_dict})


AnyRegimen = Regimen | WeightBasedRegimen


def regimen_from_dict(data: Mapping[str, Any]) -> AnyRegimen:
    """Rebuild a :class:`Regimen` or :class:`WeightBasedRegimen` from its dict.

    Parameters
    ----------
    data : mapping
        Output of ``to_dict()``; its ``kind`` key selects the class.

    Returns
    -------
    Regimen or WeightBasedRegimen
    """
    kinds = {Regimen.kind: Regimen, WeightBasedRegimen.kind: WeightBasedRegimen}
    kind = data.get("kind", Regimen.kind) if isinstance(data, Mapping) else None
    if kind not in kinds:
        raise ModelSpecError(f"unknown regimen kind {kind!r}; expected one of {sorted(kinds)}")
    return kinds[kind].from_dict(data)


def _is_whole_number(value: Any) -> bool:
    """Whether ``value`` is a whole number (not a bool, not text)."""
    if isinstance(value, bool | str | bytes):
        return False
    try:
        return int(value) == value
    except (TypeError, ValueError, OverflowError):
        return False


def with_n_cycles(regimen: AnyRegimen, n_cycles: int) -> AnyRegimen:
    """Return a copy of ``regimen`` giving ``n_cycles`` cycles (both arms if weight-based).

    Raises
    ------
    ModelSpecError
        If the regimen does not define that many cycles.
    """
    if isinstance(regimen, WeightBasedRegimen):
        return replace(
            regimen,
            adult=replace(regimen.adult, n_cycles=n_cycles),
            paediatric=replace(regimen.paediatric, n_cycles=n_cycles),
        )
    return replace(regimen, n_cycles=n_cycles)
