"""Treatment-emergent adverse events and their incidence with exact CIs.

Treatment-emergent window (MT103-211, Topp et al., Lancet Oncol 2015; the
blinatumomab label): onset from day 1 (start of the first infusion) to
``LAST_DOSE_DAY + 30`` days, both ends included. Events outside it are
listed in the ledger and not counted. Conservative readings of missing
values, each recorded in the ledger as ``modified``: a missing
``START_DAY`` counts as treatment-emergent, a missing ``LAST_DOSE_DAY``
leaves the window open, a missing ``RELATED``/``SERIOUS`` counts as
related/serious. (A retreatment course needs its own window; split the
subjects by course before calling.)

Incidence (grades by NCI CTCAE): subjects with at least one event / subjects
at risk (every subject of the subjects table in the group), in percent with
exact Clopper-Pearson 95 % CIs, per category (plus ``ANY`` for all events)
and measure: ``any grade``, ``grade >= 3``, ``worst grade 1`` .. ``worst
grade 5`` (subjects whose worst grade is exactly that; they add up to any
grade), ``related``, ``serious`` (when those columns exist).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from blinapk.data import ClinicalLedger
from blinapk.endpoints._frames import (
    as_list,
    require_columns,
    subject_index,
    table_ledger,
    with_row,
)
from blinapk.endpoints.rates import RATE_COLUMNS, RateTable, proportion

__all__ = ["TreatmentEmergent", "compute_ae_incidence", "derive_treatment_emergent"]

_ANY = "ANY"


@dataclass(frozen=True)
class TreatmentEmergent:
    """Adverse events flagged treatment-emergent (frozen).

    Attributes
    ----------
    table : pandas.DataFrame
        The input events with ``ROW``, ``WINDOW_END`` (last day of the
        window) and ``TE`` (bool).
    ledger : ClinicalLedger
        Fate of every event row: used, modified (a conservative reading of a
        missing value) or excluded (outside the window, unknown subject,
        no grade).
    window_days : int
        Days after ``LAST_DOSE_DAY`` the window extends.
    """

    table: pd.DataFrame = field(repr=False)
    ledger: ClinicalLedger = field(repr=False)
    window_days: int = 30

    def to_frame(self) -> pd.DataFrame:
        """Return a copy of the flagged events."""
        return self.table.copy()

    def events(self) -> pd.DataFrame:
        """Return the treatment-emergent events only (a copy)."""
        return self.table.loc[self.table["TE"]].reset_index(drop=True)


def derive_treatment_emergent(
    adverse_events: pd.DataFrame, subjects: pd.DataFrame, *, window_days: int = 30
) -> TreatmentEmergent:
    """Flag each adverse event as treatment-emergent or not.

    Parameters
    ----------
    adverse_events : DataFrame
        ``ID, START_DAY, GRADE`` (+ optional columns; ``ROW`` added if absent).
    subjects : DataFrame
        ``ID, LAST_DOSE_DAY``.
    window_days : int
        Window end = ``LAST_DOSE_DAY + window_days``.

    Returns
    -------
    TreatmentEmergent
    """
    ae = with_row(adverse_events)
    require_columns(ae, ["ID", "START_DAY", "GRADE"], "adverse_events")
    subj = subject_index(subjects)
    last = (ae["ID"].map(subj["LAST_DOSE_DAY"]) if "LAST_DOSE_DAY" in subj.columns
            else pd.Series(np.nan, index=ae.index)).astype(float)
    end = last + window_days
    start = pd.to_numeric(ae["START_DAY"], errors="coerce")
    known = ae["ID"].isin(subj.index)
    excluded = [
        (~known, "ID not in the subjects table"),
        (ae["GRADE"].isna(), "GRADE missing"),
        (start < 1, "onset before day 1 (before the first infusion)"),
        (start > end, f"onset after LAST_DOSE_DAY + {window_days}"),
    ]
    modified = [
        (start.isna(), "START_DAY missing: counted as treatment-emergent"),
        (start.notna() & last.isna(), "LAST_DOSE_DAY missing: window left open"),
    ]
    for col, what in (("RELATED", "related"), ("SERIOUS", "serious")):
        if col in ae.columns:
            modified.append((ae[col].isna(), f"{col} missing: counted as {what}"))
    status = np.full(len(ae), "used", dtype=object)
    reason = np.full(len(ae), "", dtype=object)
    for mask, text in modified:
        m = mask.to_numpy() & known.to_numpy()
        status[m] = "modified"
        reason[m] = [f"{r}; {text}" if r else text for r in reason[m]]
    out_mask = np.zeros(len(ae), dtype=bool)
    for mask, text in excluded:
        m = mask.to_numpy() & ~out_mask
        status[m], reason[m] = "excluded", text
        out_mask |= m
    table = ae.assign(WINDOW_END=end, TE=~out_mask)
    ledger = table_ledger(ae, "adverse_events", status, reason)
    return TreatmentEmergent(table=table, ledger=ledger, window_days=window_days)


def _measures(ev: pd.DataFrame) -> dict[str, pd.Series]:
    """Per measure, a boolean per event saying whether it qualifies."""
    grade = ev["GRADE"].astype(float)
    out = {"any grade": pd.Series(True, index=ev.index), "grade >= 3": grade >= 3}
    for col, name in (("RELATED", "related"), ("SERIOUS", "serious")):
        if col in ev.columns:
            out[name] = ev[col].isna() | (ev[col] == 1)
    return out


def _incidence_rows(ev: pd.DataFrame, ids: pd.Index, conf_level: float) -> list[dict]:
    n = len(ids)
    ev = ev.loc[ev["ID"].isin(ids)]
    rows = []
    measures = _measures(ev)
    for name in ("any grade", "grade >= 3"):
        rows.append({"MEASURE": name, **proportion(ev.loc[measures[name], "ID"].nunique(), n,
                                                   conf_level)})
    worst = ev.groupby("ID")["GRADE"].max()
    for g in range(1, 6):
        rows.append({"MEASURE": f"worst grade {g}",
                     **proportion(int((worst == g).sum()), n, conf_level)})
    for name in ("related", "serious"):
        if name in measures:
            rows.append({"MEASURE": name, **proportion(ev.loc[measures[name], "ID"].nunique(), n,
                                                       conf_level)})
    return rows


def compute_ae_incidence(
    adverse_events: pd.DataFrame,
    subjects: pd.DataFrame,
    *,
    by: str | list[str] | None = None,
    category: str | None = "CATEGORY",
    window_days: int = 30,
    conf_level: float = 0.95,
) -> RateTable:
    """Incidence of treatment-emergent adverse events with exact CIs.

    Parameters
    ----------
    adverse_events : DataFrame
        The adverse-event table (``ID, START_DAY, GRADE``; optional
        ``CATEGORY, RELATED, SERIOUS``).
    subjects : DataFrame
        The subjects table: the denominators (every subject of a group is at
        risk) and ``LAST_DOSE_DAY`` for the window.
    by : str or list of str, optional
        Subject columns to group by, e.g. ``"ARM"``.
    category : str or None
        Event column to break down by (default ``CATEGORY``; ``"TERM"`` for
        preferred terms; None: ``ANY`` only). Missing values are
        ``UNCATEGORIZED``.
    window_days : int
        Treatment-emergent window after the last dose.
    conf_level : float
        Confidence level.

    Returns
    -------
    RateTable
        Columns ``by..., CATEGORY, MEASURE, N_SUBJECTS, N_AT_RISK, PCT,
        LOWER, UPPER, REASON``; every category appears in every group; the
        ledger is that of :func:`derive_treatment_emergent`.
    """
    by = as_list(by)
    te = derive_treatment_emergent(adverse_events, subjects, window_days=window_days)
    subj = subject_index(subjects)
    require_columns(subj, by, "subjects")
    ev = te.events()
    if category is not None:
        require_columns(ev, [category], "adverse_events")
        cats = ev[category].astype(object).where(ev[category].notna(), "UNCATEGORIZED")
    else:
        cats = pd.Series(_ANY, index=ev.index, dtype=object)
    ev = ev.assign(_CAT=cats.astype(str))
    categories = [_ANY] + sorted(set(ev["_CAT"]) - {_ANY})
    groups = subj.groupby(by, sort=True, dropna=False) if by else [((), subj)]
    rows = []
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        for cat in categories:
            sub = ev if cat == _ANY else ev.loc[ev["_CAT"] == cat]
            rows += [{**dict(zip(by, key, strict=True)), "CATEGORY": cat, **r}
                     for r in _incidence_rows(sub, part.index, conf_level)]
    table = pd.DataFrame(rows, columns=[*by, "CATEGORY", "MEASURE", *RATE_COLUMNS])
    settings = {"by": by, "category": category, "window_days": window_days,
                "conf_level": conf_level}
    return RateTable(table=table, ledger=te.ledger, settings=settings)
