"""Cytokine release after each treatment start and dose step.

Blinatumomab triggers a transient release of IL-6, IL-10, IFN-gamma (and
IL-2, TNF-alpha) within a day of the infusion start; peaks after step-ups are
much lower (Klinger et al., Blood 2012; Nägele et al. 2017; Hijazi et al.
2018). :func:`compute_cytokine_peaks` summarises, per
subject, cytokine (``DVID``) and *event* -- a segment of the rate table whose
rate rises from 0 (a start or restart, ``KIND="start"``) or steps up from a
lower positive rate (``KIND="step-up"``):

``BASELINE``
    the latest sample at or before the event time (``BASELINE_TIME`` is its
    time relative to the event, <= 0);
``PEAK``, ``TMAX``
    the largest quantified sample in the window ``(START, START + window]``
    (cut at the next event) and its time after the event;
``FOLD``
    ``PEAK / BASELINE``;
``AUC``
    linear-trapezoid area from the event (baseline value at time 0) to the
    last usable sample of the window (``AUC_TLAST``), after the BLQ rule;
    the integration is :func:`blinapk.nca.auc.auc_segments`.

Censoring: a value below LLOQ (per row; seed cytokine LLOQ 125 pg/mL, LOD
20 pg/mL) is never reported as a number. A peak or baseline below LLOQ is
NaN with ``PEAK_TEXT``/``BASELINE_TEXT`` ``"<LLOQ"`` and the flag
``PEAK_CENSORED``/``BASELINE_CENSORED``; a fold change over a censored
baseline is a lower bound, given as text (``FOLD_TEXT``, e.g. ``">12.4"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from blinapk._html import html_repr
from blinapk.errors import ModelSpecError
from blinapk.nca.blq import (
    STATUS_EXCLUDED,
    STATUS_LABELS,
    BLQPolicy,
    blq_mask,
    blq_positions,
    get_blq_policy,
)

__all__ = ["CYTOKINES", "CytokinePeaks", "compute_cytokine_peaks", "dose_events"]

#: Cytokine analytes (DVID) of the seed studies.
CYTOKINES: tuple[str, ...] = ("IL2", "IL6", "IL10", "TNFA", "IFNG")

_COLUMNS = (
    "ID", "DVID", "CYCLE", "EVENT", "KIND", "START", "RATE", "PREV_RATE",
    "BASELINE", "BASELINE_TIME", "BASELINE_TEXT", "BASELINE_CENSORED",
    "PEAK", "PEAK_TEXT", "PEAK_CENSORED", "TMAX", "FOLD", "FOLD_TEXT",
    "AUC", "AUC_TLAST", "N", "REASON",
)  # fmt: skip
_R_MDV = "MDV=1"
_R_OUTSIDE = "not in a baseline or post-event window"


@dataclass(frozen=True)
class CytokinePeaks:
    """Cytokine baseline, peak, fold change and AUC per event (frozen).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per subject x cytokine x event (see module docstring).
    ledger : RowLedger
        Fate of every cytokine observation row (BLQ outcome as used in AUC).
    settings, units : dict
    """

    table: pd.DataFrame = field(repr=False)
    ledger: Any = field(repr=False)
    settings: dict = field(default_factory=dict)
    units: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Return a copy of the result table."""
        return self.table.copy()

    def summary(self, by=("DVID", "KIND"), value_cols=("PEAK", "FOLD", "AUC", "TMAX")):
        """Descriptive statistics by group (censored values count as missing).

        Parameters
        ----------
        by, value_cols : sequence of str
            Group and value columns.

        Returns
        -------
        blinapk.nca.summary.Summary
        """
        from blinapk.nca.summary import summarize

        return summarize(self.table, list(value_cols), by=list(by), units=self.units)

    def __len__(self) -> int:
        return len(self.table)

    def _repr_html_(self) -> str:
        wide = self.summary().wide()
        cols = [c for c in ("DVID", "KIND", "PARAM", "UNIT", "N", "N_SUBJECTS", "MEDIAN", "MIN",
                            "MAX") if c in wide.columns]
        return html_repr(f"CytokinePeaks: {len(self)} subject x cytokine x event rows",
                         ("Peaks by cytokine and event", wide[cols]), max_rows=20,
                         note="per event: .to_frame(); row fates: .ledger")


def dose_events(rt: pd.DataFrame) -> pd.DataFrame:
    """Treatment starts and step-ups of a rate table.

    Parameters
    ----------
    rt : pandas.DataFrame
        :func:`blinapk.dosing.rate_table` output (``ID, START, END, RATE``).

    Returns
    -------
    pandas.DataFrame
        ``ID, START, RATE, PREV_RATE, KIND, NEXT`` (+ ``CYCLE``): one row per
        segment whose rate exceeds the rate in force just before it (0 after
        a gap or before the first dose); ``NEXT`` is the time of the
        subject's next event (inf if none).

    Examples
    --------
    >>> rt = pd.DataFrame({"ID": [1, 1, 1, 1], "START": [0.0, 168, 672, 1008],
    ...                    "END": [168.0, 672, 1008, 1680], "RATE": [0.375, 1.17, 0, 1.17]})
    >>> dose_events(rt)[["START", "KIND"]].values.tolist()
    [[0.0, 'start'], [168.0, 'step-up'], [1008.0, 'start']]
    """
    rt = rt.sort_values(["ID", "START"], kind="stable").reset_index(drop=True)
    same = rt["ID"].eq(rt["ID"].shift()) & np.isclose(rt["START"], rt["END"].shift())
    prev = np.where(same, rt["RATE"].shift().fillna(0.0), 0.0)
    rate = rt["RATE"].to_numpy(float)
    keep = rate > prev
    ev = rt.loc[keep, [c for c in ("ID", "CYCLE", "START", "RATE") if c in rt.columns]].copy()
    ev["PREV_RATE"] = prev[keep]
    ev["KIND"] = np.where(ev["PREV_RATE"] > 0, "step-up", "start")
    nxt = ev.groupby("ID", sort=False)["START"].shift(-1)
    ev["NEXT"] = nxt.fillna(np.inf).to_numpy(float)
    return ev.reset_index(drop=True)


def compute_cytokine_peaks(
    dataset,
    *,
    window: float = 48.0,
    cytokines: tuple[str, ...] = CYTOKINES,
    blq: str | BLQPolicy = "pknca",
) -> CytokinePeaks:
    """Baseline, peak, time of peak, fold change and AUC after each dose event.

    Parameters
    ----------
    dataset : Dataset or path or DataFrame
        A :class:`blinapk.data.Dataset` (anything else is read first).
    window : float
        Hours after the event to look for the peak and integrate (default 48).
    cytokines : tuple of str
        DVIDs to analyse (those absent from the data are skipped).
    blq : str or BLQPolicy
        BLQ rule for the AUC values (:mod:`blinapk.nca.blq`), applied per
        event profile (baseline at time 0, then the window samples). Default
        ``"pknca"``: BLQ before the first quantified value -> 0, later BLQ
        values dropped; it needs no reported value, unlike ``"seed"``, which
        cannot use a censored row whose DV holds the LLOQ. Peaks and
        baselines are always reported as censored below LLOQ.

    Returns
    -------
    CytokinePeaks

    Examples
    --------
    >>> from blinapk.datasets import load_example
    >>> peaks = compute_cytokine_peaks(load_example())
    >>> {"PEAK", "TMAX", "FOLD", "AUC"} <= set(peaks.to_frame().columns)
    True
    """
    from blinapk.data import Dataset, read_dataset
    from blinapk.dosing import rate_table

    window = float(window)
    if not np.isfinite(window) or window <= 0:
        raise ModelSpecError(f"window must be > 0 h, got {window!r}")
    policy = get_blq_policy(blq)
    ds = dataset if isinstance(dataset, Dataset) else read_dataset(dataset)
    frame = ds.frame
    events = dose_events(rate_table(frame.loc[frame["EVID"].to_numpy() == 1]))
    obs = frame.loc[(frame["EVID"].to_numpy() == 0) & frame["DVID"].isin(list(cytokines))]

    n = len(obs)
    mdv = obs["MDV"].to_numpy() == 1
    arrays = {c: obs[c].to_numpy(float) for c in ("TIME", "DV", "CENS", "LLOQ", "LOD")}
    arrays["BLQ"] = blq_mask(arrays["DV"], arrays["CENS"], arrays["LLOQ"])[0]
    # ledger: the BLQ outcome of the first event profile a row belongs to
    status = np.full(n, -1, dtype=np.int8)
    reason = np.where(mdv, _R_MDV, _R_OUTSIDE).astype(object)
    pos = np.arange(n)
    ev_by_id = {k: g for k, g in events.groupby("ID", sort=False)}
    rows = []
    for (sid, dvid), g in obs.loc[~mdv].groupby(["ID", "DVID"], sort=False):
        ev = ev_by_id.get(sid)
        if ev is None:
            continue
        idx = pos[obs.index.get_indexer(g.index)]
        for e in ev.itertuples(index=False):
            rows.append(_one_event(e, dvid, idx, arrays, policy, window, status, reason))
    table = pd.DataFrame(rows, columns=list(_COLUMNS))
    if "CYCLE" not in events.columns:
        table["CYCLE"] = pd.array([pd.NA] * len(table), dtype="Int64")
    for col in ("BASELINE_TEXT", "PEAK_TEXT", "FOLD_TEXT", "REASON", "KIND", "DVID"):
        table[col] = table[col].astype("string")
    table = table.sort_values(["ID", "START", "DVID"], kind="stable").reset_index(drop=True)
    table["EVENT"] = table.groupby(["ID", "DVID"], sort=False).cumcount() + 1
    status[status < 0] = STATUS_EXCLUDED
    ledger = _ledger(obs, status, reason)
    units = {"START": "h", "RATE": "ug/h", "PREV_RATE": "ug/h", "BASELINE": "pg/mL",
             "BASELINE_TIME": "h", "PEAK": "pg/mL", "TMAX": "h", "FOLD": "",
             "AUC": "h*pg/mL", "AUC_TLAST": "h", "N": ""}
    settings = {"window": window, "cytokines": tuple(cytokines),
                "blq": getattr(policy, "name", str(policy))}
    return CytokinePeaks(table=table, ledger=ledger, settings=settings, units=units)


def _one_event(e, dvid, idx, arrays, policy, window, status, reason) -> dict:
    from blinapk.nca.auc import auc_segments

    t = arrays["TIME"][idx]
    dv = arrays["DV"][idx]
    lloq = arrays["LLOQ"][idx]
    censored = arrays["BLQ"][idx]
    end = min(e.START + window, e.NEXT)
    base_i = np.flatnonzero(t <= e.START)
    post = np.flatnonzero((t > e.START) & (t <= end))
    row = dict.fromkeys(_COLUMNS, np.nan)
    row.update(ID=e.ID, DVID=dvid, CYCLE=getattr(e, "CYCLE", pd.NA), KIND=e.KIND,
               START=e.START, RATE=e.RATE, PREV_RATE=e.PREV_RATE, N=int(post.size),
               BASELINE_TEXT="", PEAK_TEXT="", FOLD_TEXT="", BASELINE_CENSORED=False,
               PEAK_CENSORED=False, REASON="")
    why = []
    b = int(base_i[-1]) if base_i.size else None
    if b is None:
        why.append("no baseline sample")
    else:
        row["BASELINE_TIME"] = t[b] - e.START
        if censored[b]:
            row.update(BASELINE_TEXT="<LLOQ", BASELINE_CENSORED=True)
        else:
            row["BASELINE"] = dv[b]
    if post.size == 0:
        why.append(f"no sample in 0-{window:g} h window")
    else:
        quant = post[~censored[post]]
        if quant.size == 0:
            row.update(PEAK_TEXT="<LLOQ", PEAK_CENSORED=True)
        else:
            k = quant[np.argmax(dv[quant])]
            row.update(PEAK=dv[k], TMAX=t[k] - e.START)
    if np.isfinite(row["PEAK"]):
        if np.isfinite(row["BASELINE"]) and row["BASELINE"] > 0:
            row["FOLD"] = row["PEAK"] / row["BASELINE"]
        elif row["BASELINE_CENSORED"]:
            row["FOLD_TEXT"] = f">{row['PEAK'] / lloq[b]:.3g}"
    # AUC profile: the baseline carried to time 0, then the window samples, after the BLQ rule
    prof = np.r_[[b] if b is not None else [], post].astype(int)
    tt = np.r_[[0.0] if b is not None else [], t[post] - e.START]
    g = idx[prof]
    pos = blq_positions(np.zeros(prof.size), tt, arrays["BLQ"][g]) if prof.size else None
    out = policy.apply(arrays["DV"][g], arrays["CENS"][g], arrays["LLOQ"][g], arrays["LOD"][g],
                       pos)
    new = status[g] < 0
    status[g[new]] = out.status[new]
    reason[g[new]] = out.reason[new]
    ok = np.isfinite(out.value)
    if b is None:
        pass
    elif not ok[0]:
        why.append("baseline not usable for AUC (BLQ rule)")
    elif ok.sum() < 2:
        why.append("AUC needs a usable sample after the event")
    else:
        row["AUC"] = float(np.sum(auc_segments(tt[ok], out.value[ok], "linear")))
        row["AUC_TLAST"] = float(tt[ok][-1])
    row["REASON"] = "; ".join(why)
    return row


def _ledger(obs, status, reason):
    from blinapk.data import RowLedger

    frame = pd.DataFrame(
        {
            "ROW": obs["ROW"].to_numpy(),
            "ID": obs["ID"].to_numpy(),
            "TIME": obs["TIME"].to_numpy(float),
            "DVID": obs["DVID"].to_numpy(),
            "STATUS": np.asarray(STATUS_LABELS, dtype=object)[status],
            "REASON": reason,
        }
    )
    return RowLedger(frame)
