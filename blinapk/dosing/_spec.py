"""Validation helpers shared by the regimen dataclasses (private)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from blinapk.errors import ModelSpecError, UnitError

#: Dose units a :class:`~blinapk.dosing.Step` accepts.
DOSE_UNITS: tuple[str, ...] = ("ug/day", "ug/m2/day")
HOURS_PER_DAY = 24.0
#: Times closer than this (h, 0.36 ms) are the same instant; shorter infusions
#: are float noise and are not written.
TIME_TOL = 1e-7


def _number(value: Any, name: str, *, low: float | None = None, strict: bool = True) -> float:
    """Return ``value`` as a finite float, checking an optional lower bound."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ModelSpecError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(out):
        raise ModelSpecError(f"{name} must be finite, got {value!r}")
    if low is not None and (out <= low if strict else out < low):
        relation = ">" if strict else ">="
        raise ModelSpecError(f"{name} must be {relation} {low:g}, got {value!r}")
    return out


def _optional_number(value: Any, name: str) -> float | None:
    return None if value is None else _number(value, name, low=0.0)


def _check_unit(unit: Any, name: str) -> str:
    if unit not in DOSE_UNITS:
        raise UnitError(f"{name} must be one of {DOSE_UNITS}, got {unit!r}")
    return str(unit)


def _from_dict(cls: type, data: Mapping[str, Any], convert: Mapping[str, Any] | None = None):
    """Build a dataclass from a mapping, rejecting unknown keys."""
    if not isinstance(data, Mapping):
        raise ModelSpecError(f"{cls.__name__}.from_dict expects a mapping, got {type(data)}")
    known = {f.name for f in fields(cls)}
    extra = set(data) - known - {"kind"}
    if extra:
        raise ModelSpecError(
            f"unknown {cls.__name__} key(s): {sorted(extra)}; known: {sorted(known)}"
        )
    kwargs = {k: v for k, v in data.items() if k in known}
    for key, fn in (convert or {}).items():
        if key in kwargs:
            kwargs[key] = fn(kwargs[key])
    try:
        return cls(**kwargs)
    except TypeError as exc:  # missing required field
        raise ModelSpecError(f"cannot build {cls.__name__}: {exc}") from None
