"""Rules for concentrations below the lower limit of quantitation (BLQ).

Every rule lives in this one module (the PKNCA habit). A rule maps, row by
row, ``(DV, CENS, LLOQ, LOD, position)`` to ``(value or NaN, status, reason)``
where *status* is ``"used"``, ``"modified"`` (used after the rule changed the
value) or ``"excluded"`` (value NaN), and *reason* says why (empty when used
unchanged). Rules are vectorised over numpy arrays and never raise on a
single odd row: a row they cannot decide is excluded with a reason.

What counts as BLQ
------------------
A row is BLQ when ``CENS == 1`` or ``DV < LLOQ`` (per-row ``LLOQ``). For a BLQ
row the measured value is *known* when the laboratory reported it, i.e.
``DV < LLOQ``; a censored row whose ``DV`` holds the LLOQ itself (``DV >=
LLOQ`` with ``CENS == 1``, the usual "<LLOQ" placeholder) has an *unknown*
value. Rules that need the value (the seed rule's ``< LOD`` test) exclude
unknown values with the reason ``"BLQ, value not reported"``; rules that only
substitute a limit (``LLOQ/2`` ...) do not need it.

Rules
-----
``"seed"`` (default, the seed-study assay rule)
    quantified: used; ``DV < LOD``: set to 0 (modified, ``"<LOD set to 0"``);
    ``LOD <= DV < LLOQ``: excluded (``"<LLOQ excluded"``); value unknown:
    excluded (``"BLQ, value not reported"``); LOD missing: the ``< LOD``
    test cannot be made, so excluded (``"<LLOQ excluded"``).
``"exclude"``
    every BLQ row excluded (``"BLQ excluded"``).
``"lloq/2"``, ``"lod/2"``, ``"lloq"``
    every BLQ row replaced by the limit times a factor (modified,
    ``"BLQ set to LLOQ/2"`` ...); a missing limit excludes the row.
``"pknca"``
    position-dependent (after PKNCA ``clean.conc.blq``): BLQ before the first
    quantified sample of the profile -> 0; between quantified samples ->
    dropped; after the last quantified sample -> dropped. Each action is
    configurable (``"zero"``, ``"drop"``, ``"lloq"``, ``"lloq/2"``, ``"lod/2"``).
    A profile without any quantified sample is all "first".

Missing ``DV`` on an observation row is always excluded (``"DV missing"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from blinapk.errors import ModelSpecError

__all__ = [
    "BLQ_POLICIES",
    "BLQOutcome",
    "BLQPolicy",
    "ExcludeBLQ",
    "POSITION_FIRST",
    "POSITION_LAST",
    "POSITION_MIDDLE",
    "PositionalBLQ",
    "STATUS_EXCLUDED",
    "STATUS_LABELS",
    "STATUS_MODIFIED",
    "STATUS_USED",
    "SeedRule",
    "SubstituteBLQ",
    "blq_mask",
    "blq_positions",
    "get_blq_policy",
]

STATUS_USED, STATUS_MODIFIED, STATUS_EXCLUDED = 0, 1, 2
#: Labels of the integer status codes, in code order.
STATUS_LABELS: tuple[str, str, str] = ("used", "modified", "excluded")

POSITION_FIRST, POSITION_MIDDLE, POSITION_LAST = 0, 1, 2
_POSITION_NAMES = {"first": POSITION_FIRST, "middle": POSITION_MIDDLE, "last": POSITION_LAST}

REASON_MISSING = "DV missing"
REASON_UNKNOWN = "BLQ, value not reported"


@dataclass(frozen=True)
class BLQOutcome:
    """Result of applying a BLQ rule to a vector of rows.

    Parameters
    ----------
    value : numpy.ndarray of float
        Value to analyse (NaN where excluded).
    status : numpy.ndarray of int8
        Status code per row (see :data:`STATUS_LABELS`).
    reason_code : numpy.ndarray of int16
        Index of each row's reason in ``reason_labels``.
    reason_labels : tuple of str
        Reason texts; ``reason_labels[0] == ""`` (used unchanged).
    """

    value: np.ndarray
    status: np.ndarray
    reason_code: np.ndarray
    reason_labels: tuple[str, ...]

    @property
    def status_labels(self) -> np.ndarray:
        """Status as text (``"used"``, ``"modified"``, ``"excluded"``)."""
        return np.asarray(STATUS_LABELS, dtype=object)[self.status]

    @property
    def reason(self) -> np.ndarray:
        """Reason as text per row (``""`` when used unchanged)."""
        return np.asarray(self.reason_labels, dtype=object)[self.reason_code]


class _Builder:
    """Accumulates value/status/reason changes; reasons kept as integer codes."""

    def __init__(self, dv: np.ndarray):
        self.dv = dv
        self.value = dv.copy()
        self.status = np.zeros(dv.shape[0], dtype=np.int8)
        self.code = np.zeros(dv.shape[0], dtype=np.int16)
        self.labels = [""]

    def set(self, mask, new_value, status, text) -> None:
        if text not in self.labels:
            self.labels.append(text)
        self.value[mask] = new_value if np.ndim(new_value) == 0 else new_value[mask]
        self.status[mask] = status
        self.code[mask] = self.labels.index(text)

    def finish(self) -> BLQOutcome:
        missing = np.isnan(self.dv)
        if missing.any():
            self.set(missing, np.nan, STATUS_EXCLUDED, REASON_MISSING)
        return BLQOutcome(self.value, self.status, self.code, tuple(self.labels))


def _as_arrays(dv, cens, lloq, lod):
    dv = np.atleast_1d(np.asarray(dv, dtype=float))
    n = dv.shape[0]
    cens = np.broadcast_to(np.atleast_1d(np.asarray(cens, dtype=float)), (n,))
    lloq = np.broadcast_to(np.atleast_1d(np.asarray(lloq, dtype=float)), (n,))
    lod = np.broadcast_to(np.atleast_1d(np.asarray(lod, dtype=float)), (n,))
    return dv, cens, lloq, lod


def blq_mask(dv, cens, lloq) -> tuple[np.ndarray, np.ndarray]:
    """Flag BLQ rows and whether their measured value is known.

    Parameters
    ----------
    dv, cens, lloq : array_like
        Observed value, censoring flag (1 = below LLOQ) and per-row LLOQ.

    Returns
    -------
    blq : numpy.ndarray of bool
        ``CENS == 1`` or ``DV < LLOQ``.
    known : numpy.ndarray of bool
        BLQ and the laboratory reported the value (``DV < LLOQ``).

    Examples
    --------
    >>> blq, known = blq_mask([80.0, 30.0, 50.0], [0, 1, 1], 50.0)
    >>> blq.tolist(), known.tolist()
    ([False, True, True], [False, True, False])
    """
    dv, cens, lloq, _ = _as_arrays(dv, cens, lloq, np.nan)
    below = dv < lloq
    blq = (cens == 1) | below
    return blq, blq & below


class BLQPolicy:
    """Base class of BLQ rules (subclasses are frozen dataclasses).

    Subclasses implement :meth:`apply`; ``needs_position`` tells callers
    whether to pass the position of each row in its profile.
    """

    name: ClassVar[str] = ""
    needs_position: ClassVar[bool] = False

    def apply(self, dv, cens, lloq, lod, position=None) -> BLQOutcome:
        """Apply the rule to vectors of rows.

        Parameters
        ----------
        dv, cens, lloq, lod : array_like
            Observed value, censoring flag, per-row LLOQ and LOD (NaN = none).
        position : array_like of int or str, optional
            Position of each row relative to the quantified samples of its
            profile (see :func:`blq_positions`); needed only when
            ``needs_position``.

        Returns
        -------
        BLQOutcome
        """
        raise NotImplementedError


@dataclass(frozen=True)
class SeedRule(BLQPolicy):
    """Seed-study assay rule: ``< LOD`` -> 0, ``LOD <= DV < LLOQ`` -> excluded.

    Examples
    --------
    >>> out = SeedRule().apply([80.0, 2.0, 20.0, 50.0], [0, 1, 1, 1], 50.0, 3.0)
    >>> out.value.tolist()
    [80.0, 0.0, nan, nan]
    >>> out.reason.tolist()
    ['', '<LOD set to 0', '<LLOQ excluded', 'BLQ, value not reported']
    """

    name: ClassVar[str] = "seed"

    def apply(self, dv, cens, lloq, lod, position=None) -> BLQOutcome:  # noqa: D102
        dv, cens, lloq, lod = _as_arrays(dv, cens, lloq, lod)
        blq, known = blq_mask(dv, cens, lloq)
        out = _Builder(dv)
        below_lod = known & (dv < lod)
        out.set(below_lod, 0.0, STATUS_MODIFIED, "<LOD set to 0")
        out.set(known & ~below_lod, np.nan, STATUS_EXCLUDED, "<LLOQ excluded")
        out.set(blq & ~known, np.nan, STATUS_EXCLUDED, REASON_UNKNOWN)
        return out.finish()


@dataclass(frozen=True)
class ExcludeBLQ(BLQPolicy):
    """Exclude every BLQ row.

    Examples
    --------
    >>> ExcludeBLQ().apply([80.0, 2.0], [0, 1], 50.0, 3.0).value.tolist()
    [80.0, nan]
    """

    name: ClassVar[str] = "exclude"

    def apply(self, dv, cens, lloq, lod, position=None) -> BLQOutcome:  # noqa: D102
        dv, cens, lloq, lod = _as_arrays(dv, cens, lloq, lod)
        blq, _ = blq_mask(dv, cens, lloq)
        out = _Builder(dv)
        out.set(blq, np.nan, STATUS_EXCLUDED, "BLQ excluded")
        return out.finish()


@dataclass(frozen=True)
class SubstituteBLQ(BLQPolicy):
    """Replace every BLQ row by ``factor * limit`` (``LLOQ`` or ``LOD``).

    Parameters
    ----------
    limit : {"LLOQ", "LOD"}
        Which per-row limit to substitute.
    factor : float
        Multiplier (0.5 for the classic "LLOQ/2").

    Examples
    --------
    >>> SubstituteBLQ("LLOQ", 0.5).apply([80.0, 50.0], [0, 1], 50.0, 3.0).value.tolist()
    [80.0, 25.0]
    """

    limit: str = "LLOQ"
    factor: float = 0.5
    name: ClassVar[str] = "substitute"

    def __post_init__(self):
        if self.limit not in ("LLOQ", "LOD"):
            raise ModelSpecError(f"SubstituteBLQ.limit must be 'LLOQ' or 'LOD', got {self.limit!r}")
        if not np.isfinite(self.factor) or self.factor < 0:
            raise ModelSpecError(f"SubstituteBLQ.factor must be >= 0, got {self.factor!r}")

    @property
    def label(self) -> str:
        """Text form of the substituted value, e.g. ``"LLOQ/2"``."""
        if self.factor == 1.0:
            return self.limit
        if self.factor > 0 and float(1.0 / self.factor).is_integer():
            return f"{self.limit}/{int(1.0 / self.factor)}"
        return f"{self.factor:g}*{self.limit}"

    def apply(self, dv, cens, lloq, lod, position=None) -> BLQOutcome:  # noqa: D102
        dv, cens, lloq, lod = _as_arrays(dv, cens, lloq, lod)
        blq, _ = blq_mask(dv, cens, lloq)
        fill = self.factor * (lloq if self.limit == "LLOQ" else lod)
        out = _Builder(dv)
        ok = blq & np.isfinite(fill)
        out.set(ok, fill, STATUS_MODIFIED, f"BLQ set to {self.label}")
        out.set(blq & ~ok, np.nan, STATUS_EXCLUDED, f"BLQ, {self.limit} not available")
        return out.finish()


_ACTIONS = ("zero", "drop", "lloq", "lloq/2", "lod/2")


@dataclass(frozen=True)
class PositionalBLQ(BLQPolicy):
    """Position-dependent rule after PKNCA (first -> 0, middle/last -> drop).

    Parameters
    ----------
    first, middle, last : {"zero", "drop", "lloq", "lloq/2", "lod/2"}
        Action for BLQ rows before the first quantified sample of the
        profile, between quantified samples, and after the last one.

    Examples
    --------
    >>> pos = blq_positions([0, 0, 0, 0], [0.0, 1.0, 2.0, 3.0], [True, False, True, True])
    >>> out = PositionalBLQ().apply([0.0, 80.0, 10.0, 10.0], [1, 0, 1, 1], 50.0, 3.0, pos)
    >>> out.value.tolist()
    [0.0, 80.0, nan, nan]
    """

    first: str = "zero"
    middle: str = "drop"
    last: str = "drop"
    name: ClassVar[str] = "pknca"
    needs_position: ClassVar[bool] = True

    def __post_init__(self):
        for where in ("first", "middle", "last"):
            if getattr(self, where) not in _ACTIONS:
                raise ModelSpecError(
                    f"PositionalBLQ.{where} must be one of {_ACTIONS}, got {getattr(self, where)!r}"
                )

    def apply(self, dv, cens, lloq, lod, position=None) -> BLQOutcome:  # noqa: D102
        dv, cens, lloq, lod = _as_arrays(dv, cens, lloq, lod)
        if position is None:
            raise ModelSpecError("PositionalBLQ needs the position of each row (blq_positions)")
        pos = _position_codes(position, dv.shape[0])
        blq, _ = blq_mask(dv, cens, lloq)
        out = _Builder(dv)
        fills = {"zero": np.zeros_like(dv), "lloq": lloq, "lloq/2": 0.5 * lloq, "lod/2": 0.5 * lod}
        for where, code in _POSITION_NAMES.items():
            action = getattr(self, where)
            mask = blq & (pos == code)
            if action == "drop":
                out.set(mask, np.nan, STATUS_EXCLUDED, f"BLQ ({where}) dropped")
                continue
            fill = np.asarray(fills[action], dtype=float)
            ok = mask & np.isfinite(fill)
            label = "0" if action == "zero" else action.upper()
            out.set(ok, fill, STATUS_MODIFIED, f"BLQ ({where}) set to {label}")
            out.set(mask & ~ok, np.nan, STATUS_EXCLUDED, f"BLQ ({where}), limit not available")
        return out.finish()


def _position_codes(position, n: int) -> np.ndarray:
    pos = np.atleast_1d(np.asarray(position))
    if pos.dtype.kind in "OUT":
        try:
            pos = np.array([_POSITION_NAMES[str(p)] for p in pos], dtype=np.int8)
        except KeyError as exc:
            raise ModelSpecError(f"unknown BLQ position {exc.args[0]!r}") from None
    return np.broadcast_to(pos.astype(np.int8), (n,))


def blq_positions(groups, time, blq) -> np.ndarray:
    """Position of each row relative to the quantified rows of its profile.

    Parameters
    ----------
    groups : array_like
        Profile key per row (e.g. integer codes of subject x segment).
    time : array_like of float
        Sampling time per row.
    blq : array_like of bool
        BLQ flag per row (see :func:`blq_mask`).

    Returns
    -------
    numpy.ndarray of int8
        :data:`POSITION_FIRST` (no quantified row at or before it in time),
        :data:`POSITION_LAST` (quantified rows before it but none after) or
        :data:`POSITION_MIDDLE`. Quantified rows get a position too (the
        first quantified row is "first"), which rules ignore. Vectorised; the input order is kept.

    Examples
    --------
    >>> blq_positions([1, 1, 1, 2], [0, 1, 2, 0], [True, False, True, True]).tolist()
    [0, 0, 2, 0]
    """
    groups = np.atleast_1d(np.asarray(groups))
    time = np.atleast_1d(np.asarray(time, dtype=float))
    quant = ~np.atleast_1d(np.asarray(blq, dtype=bool))
    n = groups.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int8)
    _, gcode = np.unique(groups, return_inverse=True)
    order = np.lexsort((time, gcode))
    g = gcode[order]
    q = quant[order].astype(np.int64)
    cum = np.cumsum(q)
    starts = np.r_[0, np.flatnonzero(np.diff(g)) + 1]
    sizes = np.diff(np.r_[starts, n])
    before_group = np.repeat(np.r_[0, cum[starts[1:] - 1]], sizes)
    total = np.repeat(cum[np.r_[starts[1:] - 1, n - 1]] - np.r_[0, cum[starts[1:] - 1]], sizes)
    upto = cum - before_group  # quantified rows up to and including this one
    before = upto - q
    pos_sorted = np.where(before == 0, POSITION_FIRST,
                          np.where(upto == total, POSITION_LAST, POSITION_MIDDLE))
    out = np.empty(n, dtype=np.int8)
    out[order] = pos_sorted
    return out


#: Named rules accepted wherever a ``blq=`` argument is taken.
BLQ_POLICIES: Mapping[str, BLQPolicy] = {
    "seed": SeedRule(),
    "exclude": ExcludeBLQ(),
    "lloq/2": SubstituteBLQ("LLOQ", 0.5),
    "lod/2": SubstituteBLQ("LOD", 0.5),
    "lloq": SubstituteBLQ("LLOQ", 1.0),
    "pknca": PositionalBLQ(),
}


def get_blq_policy(spec: str | BLQPolicy) -> BLQPolicy:
    """Return a BLQ rule from its name or pass a rule object through.

    Parameters
    ----------
    spec : str or BLQPolicy
        One of :data:`BLQ_POLICIES` (case-insensitive) or a rule object.

    Returns
    -------
    BLQPolicy

    Raises
    ------
    ModelSpecError
        Unknown name.
    """
    if isinstance(spec, BLQPolicy):
        return spec
    key = str(spec).strip().lower()
    if key not in BLQ_POLICIES:
        raise ModelSpecError(f"unknown BLQ rule {spec!r}; choose one of {sorted(BLQ_POLICIES)}")
    return BLQ_POLICIES[key]
