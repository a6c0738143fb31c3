"""Declared units of a dataset and their conversion to blinapk's internal units.

Internal units (docs/design.md): TIME h, AMT ug, RATE ug/h, DV pg/mL.
A dataset may declare other units for the four quantities; the reader converts
once, at the boundary, and every later step works in internal units.

Conversion factors are kept as exact ratios ``numerator / denominator`` and
applied as ``x * numerator / denominator`` so that, for example, minutes are
divided by 60 rather than multiplied by a rounded 1/60.

Examples
--------
>>> u = Units.from_mapping({"amt": "mg", "dv": "ng/mL"})
>>> u.rate  # RATE defaults to AMT unit per TIME unit (NONMEM convention)
'mg/h'
>>> conversion_factor("dv", "ng/mL")
(1000, 1)
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from fractions import Fraction
from pathlib import Path

from blinapk.errors import UnitError

__all__ = [
    "AMOUNT_UNITS",
    "CONC_UNITS",
    "INTERNAL_UNITS",
    "TIME_UNITS",
    "Units",
    "conversion_factor",
    "normalise_unit",
    "read_units_file",
    "sidecar_path",
]

#: Amount units in ug.
AMOUNT_UNITS: dict[str, Fraction] = {
    "ng": Fraction(1, 1000),
    "ug": Fraction(1),
    "mg": Fraction(1000),
    "g": Fraction(1_000_000),
}

#: Time units in h.
TIME_UNITS: dict[str, Fraction] = {
    "min": Fraction(1, 60),
    "h": Fraction(1),
    "day": Fraction(24),
    "week": Fraction(168),
}

#: Concentration units in pg/mL (1 pg/mL = 1 ng/L = 1e-3 ug/L).
CONC_UNITS: dict[str, Fraction] = {
    "pg/mL": Fraction(1),
    "ng/L": Fraction(1),
    "ng/mL": Fraction(1000),
    "ug/L": Fraction(1000),
    "ug/mL": Fraction(1_000_000),
    "mg/L": Fraction(1_000_000),
}

_AMOUNT_ALIASES = {
    "ng": "ng", "ug": "ug", "µg": "ug", "μg": "ug", "mcg": "ug", "mg": "mg", "g": "g",
}  # fmt: skip
_TIME_ALIASES = {
    "min": "min", "mins": "min", "minute": "min", "minutes": "min",
    "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
    "d": "day", "day": "day", "days": "day",
    "wk": "week", "week": "week", "weeks": "week",
}  # fmt: skip
_VOLUME_ALIASES = {"ml": "mL", "l": "L"}

_KEYS = ("amt", "rate", "dv", "time")


def _split(unit: str) -> tuple[str, str]:
    parts = [p.strip() for p in unit.split("/")]
    if len(parts) != 2 or not all(parts):
        raise KeyError(unit)  # reported as an unknown unit with the known ones
    return parts[0], parts[1]


def normalise_unit(kind: str, unit: str) -> str:
    """Return the canonical spelling of a unit, or raise UnitError.

    Parameters
    ----------
    kind : {"amt", "rate", "dv", "time"}
        The quantity the unit is declared for.
    unit : str
        The unit as written by the user; case-insensitive, ``µg``/``mcg``
        accepted for ``ug``, ``hr``/``hours`` for ``h``, ``d``/``days`` for ``day``.

    Returns
    -------
    str
        Canonical unit, e.g. ``"ug"``, ``"mg/day"``, ``"ng/mL"``, ``"h"``.

    Raises
    ------
    UnitError
        If the unit is unknown for that quantity.
    """
    if not isinstance(unit, str) or not unit.strip():
        raise UnitError(f"{kind} unit must be a non-empty string, got {unit!r}")
    text = unit.strip().lower().replace(" ", "")
    try:
        if kind == "amt":
            return _AMOUNT_ALIASES[text]
        if kind == "time":
            return _TIME_ALIASES[text]
        if kind == "rate":
            amount, per = _split(text)
            return f"{_AMOUNT_ALIASES[amount]}/{_TIME_ALIASES[per]}"
        if kind == "dv":
            mass, volume = _split(text)
            canonical = f"{_AMOUNT_ALIASES.get(mass, mass)}/{_VOLUME_ALIASES.get(volume, volume)}"
            if canonical in CONC_UNITS:
                return canonical
            raise KeyError(text)
    except KeyError:
        known = _known(kind)
        raise UnitError(f"unknown {kind} unit {unit!r}; known: {known}") from None
    raise UnitError(f"unknown unit kind {kind!r}; expected one of {_KEYS}")


def _known(kind: str) -> str:
    if kind == "amt":
        return ", ".join(AMOUNT_UNITS)
    if kind == "time":
        return ", ".join(TIME_UNITS)
    if kind == "rate":
        return "<amount>/<time> with amount in " + ", ".join(AMOUNT_UNITS) + " and time in " + (
            ", ".join(TIME_UNITS)
        )
    return ", ".join(CONC_UNITS)


def conversion_factor(kind: str, unit: str) -> tuple[int, int]:
    """Exact factor converting a declared unit to the internal unit.

    Parameters
    ----------
    kind : {"amt", "rate", "dv", "time"}
        Quantity.
    unit : str
        Declared unit (any accepted spelling).

    Returns
    -------
    (int, int)
        ``(numerator, denominator)``: ``internal = declared * numerator / denominator``.

    Examples
    --------
    >>> conversion_factor("rate", "ug/day")
    (1, 24)
    >>> conversion_factor("time", "min")
    (1, 60)
    """
    canonical = normalise_unit(kind, unit)
    if kind == "amt":
        f = AMOUNT_UNITS[canonical]
    elif kind == "time":
        f = TIME_UNITS[canonical]
    elif kind == "dv":
        f = CONC_UNITS[canonical]
    else:
        amount, per = canonical.split("/")
        f = AMOUNT_UNITS[amount] / TIME_UNITS[per]
    return f.numerator, f.denominator


@dataclass(frozen=True)
class Units:
    """Units of the four dimensioned quantities of a dataset.

    Parameters
    ----------
    amt : str
        Unit of ``AMT`` (ng, ug, mg, g).
    rate : str
        Unit of ``RATE`` (amount per min, h, day or week).
    dv : str
        Unit of ``DV``, ``LLOQ`` and ``LOD`` (pg/mL, ng/L, ng/mL, ug/L, ug/mL, mg/L).
    time : str
        Unit of ``TIME`` and ``NOMTIME`` (min, h, day, week).
    """

    amt: str = "ug"
    rate: str = "ug/h"
    dv: str = "pg/mL"
    time: str = "h"

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, normalise_unit(f.name, getattr(self, f.name)))

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, str] | Units | None = None) -> Units:
        """Build units from a mapping with keys ``amt``, ``rate``, ``dv``, ``time``.

        Missing keys take the internal default, except ``rate``, which defaults
        to the declared AMT unit per declared TIME unit (the NONMEM convention).

        Parameters
        ----------
        mapping : mapping or Units or None
            Declared units; keys are case-insensitive.

        Returns
        -------
        Units
            The declared units, canonically spelled.

        Raises
        ------
        UnitError
            On an unknown key or unit.
        """
        if isinstance(mapping, Units):
            return mapping
        given = {str(k).strip().lower(): v for k, v in dict(mapping or {}).items()}
        unknown = sorted(set(given) - set(_KEYS))
        if unknown:
            raise UnitError(f"unknown unit key(s) {unknown}; expected some of {list(_KEYS)}")
        amt = normalise_unit("amt", given.get("amt", "ug"))
        time = normalise_unit("time", given.get("time", "h"))
        rate = given.get("rate", f"{amt}/{time}")
        return cls(amt=amt, rate=rate, dv=given.get("dv", "pg/mL"), time=time)

    def to_dict(self) -> dict[str, str]:
        """Return the units as a plain ``{key: unit}`` dict."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def factor(self, kind: str) -> tuple[int, int]:
        """Return the exact ``(numerator, denominator)`` to internal units for ``kind``."""
        return conversion_factor(kind, getattr(self, kind))

    @property
    def is_internal(self) -> bool:
        """True when every unit equals (converts 1:1 to) the internal unit."""
        return all(self.factor(k) == (1, 1) for k in _KEYS)

    def __str__(self) -> str:
        return f"AMT {self.amt}, RATE {self.rate}, DV {self.dv}, TIME {self.time}"


#: The units every blinapk computation uses after reading.
INTERNAL_UNITS = Units()


def sidecar_path(csv_path: str | Path) -> Path | None:
    """Return the units sidecar of a CSV file, if one exists.

    Two spellings are accepted next to ``study.csv``: ``study.units.toml``
    and ``study.csv.units.toml``.

    Parameters
    ----------
    csv_path : str or Path
        The data file.

    Returns
    -------
    Path or None
        The sidecar, or None when there is none.

    Raises
    ------
    UnitError
        If both spellings exist (ambiguous).
    """
    path = Path(csv_path)
    candidates = [path.with_suffix(".units.toml"), path.with_name(path.name + ".units.toml")]
    found = list(dict.fromkeys(p for p in candidates if p.is_file()))
    if len(found) > 1:
        raise UnitError(f"two unit sidecars for {path.name}: {found[0].name}, {found[1].name}")
    return found[0] if found else None


def read_units_file(path: str | Path) -> dict[str, str]:
    """Read a units sidecar (TOML with keys ``amt``, ``rate``, ``dv``, ``time``).

    Parameters
    ----------
    path : str or Path
        The TOML file, e.g.::

            amt = "mg"
            dv = "ng/mL"
            time = "day"

    Returns
    -------
    dict
        The declared units (validated spelling, not yet defaulted).

    Raises
    ------
    UnitError
        On a malformed file, an unknown key or an unknown unit.
    """
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UnitError(f"cannot parse units file {path}: {exc}") from exc
    out = {}
    for key, value in raw.items():
        k = key.strip().lower()
        if k not in _KEYS:
            raise UnitError(f"units file {path}: unknown key {key!r}; expected some of {_KEYS}")
        out[k] = normalise_unit(k, value)
    return out
