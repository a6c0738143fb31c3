"""Infusion interruptions (e.g. a pause for grade 3 CRS) and their restart dose."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from blinapk.dosing._spec import (
    HOURS_PER_DAY,
    _check_unit,
    _from_dict,
    _number,
    _optional_number,
)
from blinapk.dosing.step import Step
from blinapk.errors import ModelSpecError

__all__ = ["INTERRUPTION_SCHEDULES", "LABEL_CONTINUE_DAYS", "Interruption"]

#: What a pause does to the rest of the schedule (:attr:`Interruption.schedule`).
INTERRUPTION_SCHEDULES: tuple[str, ...] = ("fixed", "continue", "new_cycle", "label")
#: Longest pause (days) after which the label continues the same cycle (flag V).
LABEL_CONTINUE_DAYS = 7.0


@dataclass(frozen=True)
class Interruption:
    """A pause of the infusion, optionally followed by a reduced restart dose.

    Parameters
    ----------
    start : float
        Start of the pause, h since the scheduled start of cycle 1.
    duration : float
        Length of the pause (h, > 0); the rate is 0 on ``[start, start + duration)``.
    restart_dose : float, optional
        Dose given when infusion resumes (e.g. 9 ug/day after grade 3 CRS,
        flag U). None resumes the scheduled dose.
    restart_unit : {"ug/day", "ug/m2/day"}
        Unit of ``restart_dose``.
    restart_cap : float, optional
        Cap of ``restart_dose`` in ug/day.
    restart_days : float, default 7
        How long the restart dose is held before the schedule resumes (the
        label escalates back after 7 days). The restart dose only replaces
        *infusing* time of the cycle in force when the pause ends: off-periods
        stay off and the next cycle starts at its scheduled dose.
    reason : str
        Free text (e.g. ``"CRS grade 3"``).
    schedule : {"fixed", "continue", "new_cycle", "label"}, default "fixed"
        What the pause does to the rest of the schedule:

        * ``"fixed"``: nothing; the pause removes infusion time from its cycle
          and every later date stays as scheduled;
        * ``"continue"``: the cycle is continued to its full infusion length
          (e.g. 28 days inclusive of the days before and after the pause): the
          rest of the cycle and every later cycle move ``duration`` later;
        * ``"new_cycle"``: the interrupted cycle stops at the pause and the
          same cycle's schedule starts again from its day 1 when infusion
          resumes (``CYCLE`` keeps its number; a cycle-1 step dose is given
          again); later cycles follow that new cycle;
        * ``"label"``: the BLINCYTO label's rule for a pause after an adverse
          reaction: ``"continue"`` if it lasts at most
          :data:`LABEL_CONTINUE_DAYS` (7) days, else ``"new_cycle"``.

        A shifting rule applies only to a pause that starts during an
        infusion phase; one that starts in a treatment-free interval is
        ``"fixed"``.

    Notes
    -----
    Times are actual times (h since the start of cycle 1, after any earlier
    shift). The restart dose (``restart_dose``) is held for ``restart_days``
    from the end of the pause in every rule.
    """

    start: float
    duration: float
    restart_dose: float | None = None
    restart_unit: str = "ug/day"
    restart_cap: float | None = None
    restart_days: float = 7.0
    reason: str = ""
    schedule: str = "fixed"

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "start", _number(self.start, "Interruption.start", low=0.0, strict=False)
        )
        object.__setattr__(self, "duration", _number(self.duration, "Interruption.duration", low=0))
        object.__setattr__(
            self, "restart_dose", _optional_number(self.restart_dose, "Interruption.restart_dose")
        )
        object.__setattr__(
            self, "restart_unit", _check_unit(self.restart_unit, "Interruption.restart_unit")
        )
        object.__setattr__(
            self, "restart_cap", _optional_number(self.restart_cap, "Interruption.restart_cap")
        )
        object.__setattr__(
            self, "restart_days", _number(self.restart_days, "Interruption.restart_days", low=0)
        )
        object.__setattr__(self, "reason", str(self.reason))
        if self.schedule not in INTERRUPTION_SCHEDULES:
            raise ModelSpecError(f"Interruption.schedule must be one of {INTERRUPTION_SCHEDULES}, "
                                 f"got {self.schedule!r}")

    @classmethod
    def from_days(cls, day: float, duration_days: float, **kwargs: Any) -> Interruption:
        """Build from a 1-based treatment day (day 1 = first dose) and a length in days."""
        day = _number(day, "day", low=1.0, strict=False)
        return cls(
            start=(day - 1.0) * HOURS_PER_DAY,
            duration=_number(duration_days, "duration_days", low=0.0) * HOURS_PER_DAY,
            **kwargs,
        )

    @property
    def end(self) -> float:
        """End of the pause (h)."""
        return self.start + self.duration

    @property
    def restart_step(self) -> Step | None:
        """The restart dose as a :class:`Step` (None when the schedule resumes)."""
        if self.restart_dose is None:
            return None
        return Step(1.0, self.restart_dose, self.restart_unit, self.restart_cap)

    @property
    def shift_rule(self) -> str:
        """The rule applied: ``"fixed"``, ``"continue"`` or ``"new_cycle"`` (``"label"`` resolved).

        Examples
        --------
        >>> Interruption.from_days(10, 7, schedule="label").shift_rule
        'continue'
        >>> Interruption.from_days(10, 8, schedule="label").shift_rule
        'new_cycle'
        """
        if self.schedule != "label":
            return self.schedule
        short = self.duration <= LABEL_CONTINUE_DAYS * HOURS_PER_DAY
        return "continue" if short else "new_cycle"

    @property
    def restart_end(self) -> float:
        """End of the restart window (h)."""
        return self.end + self.restart_days * HOURS_PER_DAY

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Interruption:
        """Build from :meth:`to_dict` output."""
        return _from_dict(cls, data)
