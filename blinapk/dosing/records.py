"""Turn a regimen and a subjects table into contract dose records.

The regimen is first laid out once as a *template* (constant-rate segments
in time, each pointing at a dose step), interruptions and bag changes are
applied to the template, and only then is it expanded over subjects with
numpy (rates depend on a subject only through BSA). Subjects sharing the same
arm and the same interruptions therefore cost one vectorised expansion.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from blinapk.dosing.bsa import choose_arm, step_rate
from blinapk.dosing.regimen import (
    AnyRegimen,
    Interruption,
    Regimen,
    WeightBasedRegimen,
)
from blinapk.dosing.template import Template, apply_interruptions, bag_split, lay_out
from blinapk.errors import DataValidationError, ModelSpecError, Violation

__all__ = ["DOSE_COLUMNS", "SubjectGroup", "dose_records", "expand_groups"]

#: Columns of the frame returned by :func:`dose_records`, in order.
DOSE_COLUMNS = ("ID", "TIME", "EVID", "AMT", "RATE", "DV", "MDV", "CYCLE", "DOSE_LEVEL")


def _column(frame: pd.DataFrame, name: str) -> str | None:
    matches = [c for c in frame.columns if str(c).upper() == name.upper()]
    return matches[0] if matches else None


def _subjects(subjects: Any, id_col: str) -> tuple[pd.Series, pd.DataFrame]:
    """Return the IDs (in order) and a frame of upper-cased numeric covariates."""
    if isinstance(subjects, (int, np.integer)) and not isinstance(subjects, bool):
        if subjects < 1:
            raise DataValidationError([Violation("no_subjects", None, (), "need >= 1 subject")])
        return pd.Series(np.arange(1, int(subjects) + 1), name="ID"), pd.DataFrame()
    if not isinstance(subjects, pd.DataFrame):
        subjects = pd.DataFrame({id_col: list(subjects)})
    col = _column(subjects, id_col)
    if col is None:
        raise DataValidationError(
            [Violation("missing_column", id_col.upper(), (), f"subjects need an {id_col} column")]
        )
    ids = subjects[col].reset_index(drop=True).rename("ID")
    rows = np.arange(1, len(ids) + 1)
    problems = []
    if ids.isna().any():
        problems.append(
            Violation("missing_id", "ID", tuple(rows[ids.isna().to_numpy()]), "ID is missing")
        )
    dup = ids.duplicated(keep=False).to_numpy() & ids.notna().to_numpy()
    if dup.any():
        problems.append(Violation("duplicate_id", "ID", tuple(rows[dup]), "one row per subject"))
    if len(ids) == 0:
        problems.append(Violation("no_subjects", None, (), "the subjects table is empty"))
    covs = {}
    for name in ("BSA", "WT"):
        c = _column(subjects, name)
        if c is not None:
            raw = subjects[c].reset_index(drop=True)
            num = pd.to_numeric(raw, errors="coerce")
            bad = (num.isna() & raw.notna()).to_numpy()
            if bad.any():
                problems.append(Violation("not_numeric", name, tuple(rows[bad]), "not a number"))
            covs[name] = num.to_numpy(dtype=float, na_value=np.nan)
    if problems:
        raise DataValidationError(problems)
    return ids, pd.DataFrame(covs, index=pd.RangeIndex(len(ids)))


def _require(covs: pd.DataFrame, name: str, positions: np.ndarray, why: str) -> list[Violation]:
    """Violations for subjects at ``positions`` lacking a positive, finite ``name``."""
    if name not in covs:
        rows = tuple(int(p) + 1 for p in positions)
        return [Violation("missing_column", name, rows, f"{name} is required: {why}")]
    values = covs[name].to_numpy()[positions]
    bad = ~(np.isfinite(values) & (values > 0))
    if not bad.any():
        return []
    rows = tuple(int(p) + 1 for p in positions[bad])
    return [Violation(f"missing_{name.lower()}", name, rows, f"{name} must be > 0: {why}")]


def _per_subject(interruptions: Any, ids: pd.Series) -> list[tuple[Interruption, ...]] | None:
    """Return one tuple of interruptions per subject, or None when shared by all."""
    if interruptions is None:
        return None
    if isinstance(interruptions, Interruption):
        interruptions = (interruptions,)
    if isinstance(interruptions, pd.DataFrame):
        interruptions = _from_frame(interruptions)
    if not isinstance(interruptions, Mapping):
        return None
    position = {v: i for i, v in enumerate(ids.tolist())}
    out: list[tuple[Interruption, ...]] = [()] * len(ids)
    unknown = [k for k in interruptions if k not in position]
    if unknown:
        raise DataValidationError(
            [Violation("unknown_id", "ID", (), f"interruptions for unknown subject(s) {unknown}")]
        )
    for key, value in interruptions.items():
        value = (value,) if isinstance(value, Interruption) else tuple(value)
        out[position[key]] = value
    return out


def _from_frame(frame: pd.DataFrame) -> dict[Any, list[Interruption]]:
    """Interruptions from a table ``ID, START, DURATION[, RESTART_DOSE, ...]`` (h)."""
    cols = {str(c).upper(): c for c in frame.columns}
    missing = [c for c in ("ID", "START", "DURATION") if c not in cols]
    if missing:
        raise DataValidationError(
            [Violation("missing_column", c, (), "interruption tables need it") for c in missing]
        )
    optional = ("restart_dose", "restart_unit", "restart_cap", "restart_days", "reason",
                "schedule")
    out: dict[Any, list[Interruption]] = {}
    for row, rec in enumerate(frame.to_dict("records"), start=1):
        kwargs = {k: rec[cols[k.upper()]] for k in optional if k.upper() in cols}
        kwargs = {k: v for k, v in kwargs.items() if not (v is None or v is pd.NA or v != v)}
        try:
            it = Interruption(rec[cols["START"]], rec[cols["DURATION"]], **kwargs)
        except ValueError as exc:
            raise DataValidationError(
                [Violation("bad_interruption", "START", (row,), str(exc))]
            ) from None
        out.setdefault(rec[cols["ID"]], []).append(it)
    return out


def dose_records(
    regimen: AnyRegimen,
    subjects: Any,
    *,
    interruptions: Any = None,
    bag_hours: float | None = None,
    id_col: str = "ID",
) -> pd.DataFrame:
    """Write the contract dose rows a regimen gives each subject.

    Parameters
    ----------
    regimen : Regimen or WeightBasedRegimen
        What is prescribed (see :func:`~blinapk.dosing.get_preset`).
    subjects : DataFrame, sequence of IDs or int
        One row per subject with ``id_col`` and, as the regimen needs them,
        ``BSA`` (m2, for ug/m2/day steps) and ``WT`` (kg, to choose the arm of
        a weight-based regimen). Column names are case-insensitive. An int
        ``n`` means subjects ``1..n`` (flat regimens only). Never mutated.
    interruptions : Interruption, sequence, mapping or DataFrame, optional
        Pauses in addition to ``regimen.interruptions``: an Interruption or a
        sequence of them (every subject); a mapping ``ID -> Interruption(s)``;
        or a table with ``ID, START, DURATION`` (h) and optional
        ``RESTART_DOSE, RESTART_UNIT, RESTART_CAP, RESTART_DAYS, REASON, SCHEDULE``.
    bag_hours : float, optional
        Bag length overriding ``regimen.bag_hours`` (label: 24, 48, 72, 96 or
        168 h). Splits records without changing rates or total amount.
    id_col : str, default "ID"
        Identifier column of ``subjects``; the output column is always ``ID``.

    Returns
    -------
    pandas.DataFrame
        Columns ``ID, TIME, EVID, AMT, RATE, DV, MDV, CYCLE, DOSE_LEVEL``:
        ``TIME`` h since the scheduled start of cycle 1, ``EVID`` 1, ``AMT``
        ug, ``RATE`` ug/h (> 0, infusions only), ``DV`` 0, ``MDV`` 1,
        ``CYCLE`` 1-based, ``DOSE_LEVEL`` the prescribed dose (e.g.
        ``"5 ug/m2/day"``; caps change ``RATE``, not the label). Sorted by
        subject (input order) then TIME.

    Raises
    ------
    DataValidationError
        Missing/duplicated IDs, or a subject lacking a BSA (per-m2 dose) or WT
        (weight-based regimen); every offending row of ``subjects`` is named.
    ModelSpecError
        If interruptions remove every infusion.

    Examples
    --------
    >>> from blinapk.dosing import get_preset
    >>> d = dose_records(get_preset("adult_rr", n_cycles=1), [101])
    >>> d[["TIME", "AMT", "RATE", "DOSE_LEVEL"]].to_dict("list")  # doctest: +NORMALIZE_WHITESPACE
    {'TIME': [0.0, 168.0], 'AMT': [63.0, 588.0], 'RATE': [0.375, 1.1666666666666667],
     'DOSE_LEVEL': ['9 ug/day', '28 ug/day']}
    """
    bag = None if bag_hours is None else bag_hours
    if bag is not None and not (np.isfinite(bag) and bag > 0):
        raise ModelSpecError(f"bag_hours must be > 0, got {bag!r}")
    ids, groups = expand_groups(regimen, subjects, interruptions, id_col)
    labels: dict[str, int] = {}
    parts = []
    for g in groups:
        reg_bag = g.regimen.bag_hours if bag is None else bag
        if reg_bag is not None and not (np.isfinite(reg_bag) and reg_bag > 0):
            raise ModelSpecError(f"bag_hours must be > 0, got {reg_bag!r}")
        parts.append(_expand(bag_split(g.template, reg_bag), g.positions, g.bsa, labels))
    return _frame(parts, ids, labels)


@dataclass(frozen=True, eq=False)
class SubjectGroup:
    """Subjects sharing one arm and the same interruptions: one template.

    Attributes
    ----------
    regimen : Regimen
        The arm.
    arm : str
        ``"adult"`` / ``"paediatric"`` for a weight-based regimen, else the regimen's name.
    template : Template
        The arm laid out with the group's interruptions (no bags).
    positions : ndarray of int
        0-based positions of the subjects in the input.
    bsa : ndarray
        Their BSA (NaN where not given).
    """

    regimen: Regimen
    arm: str
    template: Template
    positions: np.ndarray
    bsa: np.ndarray


def expand_groups(regimen: AnyRegimen, subjects: Any, interruptions: Any = None,
                  id_col: str = "ID") -> tuple[pd.Series, list[SubjectGroup]]:
    """Validate the subjects and group them by arm and interruptions.

    Parameters
    ----------
    regimen, subjects, interruptions, id_col
        As :func:`dose_records`.

    Returns
    -------
    (Series, list of SubjectGroup)
        The subject IDs in input order, and the groups (each with its template).

    Raises
    ------
    DataValidationError, ModelSpecError
        As :func:`dose_records`.
    """
    if not isinstance(regimen, (Regimen, WeightBasedRegimen)):
        raise ModelSpecError(f"regimen must be a Regimen or WeightBasedRegimen, got {regimen!r}")
    ids, covs = _subjects(subjects, id_col)
    n = len(ids)
    problems: list[Violation] = []
    if isinstance(regimen, WeightBasedRegimen):
        everyone = np.arange(n)
        problems += _require(covs, "WT", everyone, f"{regimen.name!r} chooses the arm by weight")
        if problems:
            raise DataValidationError(problems)
        arm = choose_arm(covs["WT"].to_numpy(), regimen.threshold_kg)
        arms = [
            (regimen.adult, "adult", np.flatnonzero(arm == "adult")),
            (regimen.paediatric, "paediatric", np.flatnonzero(arm == "paediatric")),
        ]
    else:
        arms = [(regimen, regimen.name, np.arange(n))]

    personal = _per_subject(interruptions, ids)
    shared = (
        ()
        if personal is not None or interruptions is None
        else tuple((interruptions,) if isinstance(interruptions, Interruption) else interruptions)
    )
    bsa = covs["BSA"].to_numpy() if "BSA" in covs else np.full(n, np.nan)
    out = []
    for reg, arm_name, positions in arms:
        if positions.size == 0:
            continue
        base = lay_out(reg)
        groups: dict[tuple[Interruption, ...], Any] = {}
        if personal is None:
            groups[shared] = positions
        else:
            for p in positions:
                groups.setdefault(personal[p], []).append(int(p))
        for extra, members in groups.items():
            tpl = apply_interruptions(base, reg, reg.interruptions + tuple(extra))
            pos = np.asarray(members, dtype=int)
            if tpl.needs_bsa:
                why = f"regimen {reg.name!r} doses in ug/m2/day"
                problems += _require(covs, "BSA", pos, why)
                if problems:
                    continue
            out.append(SubjectGroup(reg, arm_name, tpl, pos, bsa[pos]))
    if problems:
        raise DataValidationError(problems)
    return ids, out


def _expand(tpl: Template, pos: np.ndarray, bsa: np.ndarray, labels: dict[str, int]) -> dict:
    """Outer product template x subjects, as flat arrays."""
    n_t = tpl.start.size
    rates = np.column_stack(
        [np.broadcast_to(step_rate(s, bsa if s.per_m2 else None), bsa.shape) for s in tpl.steps]
    )
    level = np.array([labels.setdefault(s.label, len(labels)) for s in tpl.steps])
    rate = rates[:, tpl.step].ravel()
    dur = np.tile(tpl.end - tpl.start, pos.size)
    return {
        "pos": pos,
        "n_t": n_t,
        "sid": np.repeat(pos, n_t),
        "TIME": np.tile(tpl.start, pos.size),
        "AMT": rate * dur,
        "RATE": rate,
        "CYCLE": np.tile(tpl.cycle, pos.size),
        "level": np.tile(level[tpl.step], pos.size),
    }


def _frame(parts: list[dict], ids: pd.Series, labels: dict[str, int]) -> pd.DataFrame:
    """Scatter the parts into one frame ordered by subject (input order) then time."""
    # Each part holds its subjects' rows in subject-major, time-minor order, with
    # the same number of rows per subject: the destination of every row is known
    # without sorting.
    per_subject = np.zeros(len(ids), dtype=np.int64)
    for p in parts:
        per_subject[p["pos"]] = p["n_t"]
    offset = np.cumsum(per_subject) - per_subject
    m = int(per_subject.sum())
    cols = {k: np.empty(m, dtype=parts[0][k].dtype) for k in ("sid", "TIME", "AMT", "RATE")}
    cols |= {"CYCLE": np.empty(m, dtype=np.int64), "level": np.empty(m, dtype=np.int64)}
    for p in parts:
        dest = (offset[p["pos"]][:, None] + np.arange(p["n_t"])).ravel()
        for k in cols:
            cols[k][dest] = p[k]
    # build the label column from a categorical: one string per level, not per row
    level = pd.Categorical.from_codes(cols["level"], categories=list(labels)).astype("str")
    return pd.DataFrame(
        {
            "ID": ids.array.take(cols["sid"]),
            "TIME": cols["TIME"],
            "EVID": np.ones(m, dtype=np.int64),
            "AMT": cols["AMT"],
            "RATE": cols["RATE"],
            "DV": np.zeros(m),
            "MDV": np.ones(m, dtype=np.int64),
            "CYCLE": cols["CYCLE"],
            "DOSE_LEVEL": level,
        },
        copy=False,
    )
