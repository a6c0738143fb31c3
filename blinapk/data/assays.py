"""Known analytes (``DVID``) and their seed-study assay limits.

Seed defaults, the assay limits of the blinatumomab studies (docs/data_format.md):
blinatumomab LLOQ 50 pg/mL, LOD 3 pg/mL; cytokines (IL-2, IL-6, IL-10, TNF-alpha,
IFN-gamma) LLOQ 125 pg/mL, LOD 20 pg/mL. They are used only where a row has
no ``LLOQ``/``LOD`` of its own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from blinapk.errors import DataValidationError, Violation

__all__ = ["DEFAULT_DVID", "SEED_ASSAYS", "AssayLimits", "build_registry"]

#: DVID used when the column is absent (the file then holds only the drug).
DEFAULT_DVID = "BLIN"


@dataclass(frozen=True)
class AssayLimits:
    """Assay limits of one analyte.

    Parameters
    ----------
    lloq : float
        Lower limit of quantitation.
    lod : float
        Limit of detection (NaN when unknown).
    unit : str
        Unit of ``lloq`` and ``lod``.
    """

    lloq: float
    lod: float = math.nan
    unit: str = "pg/mL"


_CYTOKINE = AssayLimits(lloq=125.0, lod=20.0)

#: Seed-study assay limits per DVID, in pg/mL.
SEED_ASSAYS: Mapping[str, AssayLimits] = MappingProxyType(
    {
        "BLIN": AssayLimits(lloq=50.0, lod=3.0),
        "IL2": _CYTOKINE,
        "IL6": _CYTOKINE,
        "IL10": _CYTOKINE,
        "TNFA": _CYTOKINE,
        "IFNG": _CYTOKINE,
    }
)


def _number(value: object) -> float | None:
    if value is None:
        return math.nan
    if isinstance(value, bool):
        return None
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return x if (math.isnan(x) or (math.isfinite(x) and x >= 0)) else None


def build_registry(
    dvids: Mapping[str, Mapping[str, float] | AssayLimits] | None, dv_unit: str
) -> Mapping[str, AssayLimits]:
    """Merge user-registered analytes with the seed ones.

    Parameters
    ----------
    dvids : mapping or None
        ``{"CRP": {"lloq": 0.3, "lod": 0.1}}``; limits are in the *declared* DV
        unit (the unit of the file's ``DV``/``LLOQ`` columns). ``lod`` may be
        omitted. A seed DVID may be overridden. Names are case-insensitive.
    dv_unit : str
        The declared DV unit, recorded with the user's limits.

    Returns
    -------
    Mapping[str, AssayLimits]
        Read-only registry; seed limits are in pg/mL, user limits in ``dv_unit``.

    Raises
    ------
    DataValidationError
        If an entry is malformed (rule ``dvid_registry``).
    """
    registry = dict(SEED_ASSAYS)
    problems = []
    for name, spec in dict(dvids or {}).items():
        key = str(name).strip().upper()
        if not key:
            problems.append(Violation("dvid_registry", "DVID", (), "empty DVID name"))
            continue
        if isinstance(spec, AssayLimits):
            registry[key] = spec
            continue
        if not isinstance(spec, Mapping):
            problems.append(
                Violation("dvid_registry", "DVID", (), f"{key}: expected a mapping, got {spec!r}")
            )
            continue
        given = {str(k).lower(): v for k, v in spec.items()}
        extra = sorted(set(given) - {"lloq", "lod"})
        lloq, lod = _number(given.get("lloq")), _number(given.get("lod"))
        if extra or "lloq" not in given or lloq is None or lod is None or math.isnan(lloq):
            problems.append(
                Violation(
                    "dvid_registry",
                    "DVID",
                    (),
                    f"{key}: expected {{'lloq': number >= 0, 'lod': number >= 0 (optional)}}, "
                    f"got {dict(spec)!r}",
                )
            )
            continue
        if not math.isnan(lod) and lod > lloq:
            problems.append(
                Violation("dvid_registry", "DVID", (), f"{key}: lod {lod} > lloq {lloq}")
            )
            continue
        registry[key] = AssayLimits(lloq=lloq, lod=lod, unit=dv_unit)
    if problems:
        raise DataValidationError(problems)
    return MappingProxyType(registry)
