"""One dose level of a regimen (:class:`Step`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from blinapk.dosing._spec import _check_unit, _from_dict, _number, _optional_number

__all__ = ["Step", "dose_label"]


def dose_label(dose: float, unit: str) -> str:
    """Return the ``DOSE_LEVEL`` label of a prescribed dose, e.g. ``"9 ug/day"``."""
    return f"{dose:g} {unit}"


@dataclass(frozen=True)
class Step:
    """One dose level inside a cycle's infusion phase.

    Parameters
    ----------
    day : float
        1-based day of the cycle on which the step starts (day 1 = cycle start).
        The step lasts until the next step starts or the infusion phase ends.
    dose : float
        Prescribed dose, > 0, in ``unit``.
    unit : {"ug/day", "ug/m2/day"}
        ``ug/m2/day`` doses are multiplied by the subject's BSA.
    cap : float, optional
        Maximum daily dose in ug/day (e.g. 9 or 28 for the paediatric label).
    """

    day: float
    dose: float
    unit: str = "ug/day"
    cap: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "day", _number(self.day, "Step.day", low=1.0, strict=False))
        object.__setattr__(self, "dose", _number(self.dose, "Step.dose", low=0.0))
        object.__setattr__(self, "unit", _check_unit(self.unit, "Step.unit"))
        object.__setattr__(self, "cap", _optional_number(self.cap, "Step.cap"))

    @property
    def per_m2(self) -> bool:
        """Whether the dose is scaled by body-surface area."""
        return self.unit == "ug/m2/day"

    @property
    def key(self) -> tuple[float, str, float | None]:
        """``(dose, unit, cap)``: what determines the delivered rate."""
        return (self.dose, self.unit, self.cap)

    @property
    def label(self) -> str:
        """``DOSE_LEVEL`` label, e.g. ``"5 ug/m2/day"``."""
        return dose_label(self.dose, self.unit)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {"day": self.day, "dose": self.dose, "unit": self.unit, "cap": self.cap}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Step:
        """Build from :meth:`to_dict` output."""
        return _from_dict(cls, data)
