"""Steady-state concentration (Css) and clearance CL = R0 / Css.

Blinatumomab is infused at a constant rate for weeks and has a half-life of
about 2 h, so every sample taken long enough after a constant rate started
measures the steady-state concentration of that rate. :func:`compute_css`
finds, for each subject x cycle x constant-rate segment of the rate table
(:func:`blinapk.dosing.rate_table`: bag changes merged, interruptions and
gaps explicit), the BLIN samples taken at least ``min_time_after_start``
hours after the rate started and no later than its end, applies a BLQ rule
(:mod:`blinapk.nca.blq`), and returns

* ``CSS`` = mean (or median / geometric mean) of those samples, pg/mL;
* ``R0`` = the rate actually delivered, ug/h;
* ``CL`` = ``1000 * R0 / CSS`` L/h (or L/h/m2 with ``dose_unit="ug/m2/h"``).

Every BLIN observation row is accounted for in a ledger (used, set to zero,
excluded <LLOQ, too early after the rate started, during rate 0, before the
first or after the last infusion ...).

Timing convention: a sample at the instant of a change counts under the
previous rate (:func:`blinapk.dosing.rate_at` with ``at_change="previous"``,
segments ``(START, END]``), because concentrations are continuous in time; a
sample at the start of the first infusion is a pre-dose sample.

The work is vectorised (the rate lookup runs ``numpy.searchsorted`` on
integer subject-and-time keys; groups are reduced with ``numpy.bincount``):
no Python loop over subjects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from blinapk._html import html_repr
from blinapk.dosing import rate_at, rate_table
from blinapk.errors import DataValidationError, ModelSpecError, Violation
from blinapk.nca.blq import (
    STATUS_EXCLUDED,
    STATUS_LABELS,
    BLQPolicy,
    blq_mask,
    blq_positions,
    get_blq_policy,
)
from blinapk.pk import cl_from_css

__all__ = ["CssResult", "clearance_from_css", "compute_css"]

_SUMMARIES = ("mean", "median", "geometric")
_PER = ("segment", "dose_level")
_DOSE_UNITS = ("ug/h", "ug/m2/h")

# Reasons decided before the BLQ rule, in priority order (ledger REASON texts).
_R_MDV = "MDV=1"
_R_BEFORE = "before first infusion"
_R_AFTER = "after end of infusion"
_R_RATE0 = "during rate 0 (interruption or off treatment)"
_R_EARLY = "outside steady-state window (< {h:g} h after rate start)"
#: Columns of :meth:`CssResult.to_frame`.
CSS_COLUMNS = ("ID", "CYCLE", "DOSE_LEVEL", "START", "END", "R0", "CSS", "N", "CL", "REASON")


def clearance_from_css(r0, css):
    """Clearance from infusion rate and steady-state concentration, NaN-safe.

    ``CL [L/h] = R0 [ug/h] / Css [ug/L]`` with ``Css [ug/L] = Css [pg/mL] /
    1000`` (1 pg/mL = 1 ng/L = 1e-3 ug/L), i.e. ``CL = 1000 * R0 / Css``. The
    formula itself is :func:`blinapk.pk.cl_from_css` (written once); this
    wrapper is the single place the NCA applies it, and it returns NaN rather
    than ``inf`` for a ``Css`` of 0 or NaN.

    Parameters
    ----------
    r0 : array_like
        Infusion rate, ug/h (or ug/m2/h for a per-m2 clearance).
    css : array_like
        Steady-state concentration, pg/mL.

    Returns
    -------
    numpy.ndarray
        Clearance, L/h (or L/h/m2).

    Examples
    --------
    >>> clearance_from_css(28 / 24, 500.0)  # 28 ug/day at 500 pg/mL
    array(2.33333333)
    >>> clearance_from_css([1.0, 1.0], [0.0, np.nan])
    array([nan, nan])
    """
    r0, css = np.broadcast_arrays(np.asarray(r0, dtype=float), np.asarray(css, dtype=float))
    ok = np.isfinite(css) & (css > 0)
    out = np.full(css.shape, np.nan)
    out[ok] = cl_from_css(r0[ok], css[ok])
    return out


@dataclass(frozen=True)
class CssResult:
    """Steady-state concentrations and clearances (frozen).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per subject x segment (see :meth:`to_frame`).
    ledger : RowLedger
        Fate of every BLIN observation row (built on first access from
        ``ledger_parts``, the per-row status and reason codes).
    settings : dict
        Arguments of :func:`compute_css`.
    units : dict
        Unit of each numeric column of the table.
    """

    table: pd.DataFrame = field(repr=False)
    ledger_parts: tuple = field(repr=False, compare=False)
    settings: dict = field(default_factory=dict)
    units: dict = field(default_factory=dict)

    def _repr_html_(self) -> str:
        n_ok = int(self.table["CSS"].notna().sum())
        wide = self.summary().wide()
        cols = [c for c in ("CYCLE", "DOSE_LEVEL", "PARAM", "UNIT", "N", "N_SUBJECTS", "MEAN",
                            "CV_PCT", "GMEAN", "GCV_PCT") if c in wide.columns]
        return html_repr(f"CssResult: {len(self)} segments ({n_ok} with Css) in "
                         f"{self.table['ID'].nunique()} subjects",
                         ("Css and CL by cycle and dose level", wide[cols]),
                         note="per segment: .to_frame(); row fates: .ledger")

    @cached_property
    def ledger(self) -> Any:
        """Fate of every BLIN observation row (:class:`blinapk.data.RowLedger`)."""
        return _ledger(*self.ledger_parts)

    def to_frame(self) -> pd.DataFrame:
        """Return a copy of the result table.

        Returns
        -------
        pandas.DataFrame
            Columns ``ID, CYCLE, DOSE_LEVEL, START, END, R0, CSS, N, CL,
            REASON`` (plus ``BSA`` for per-m2 clearance); REASON is empty when
            CSS and CL are estimable.
        """
        return self.table.copy()

    def summary(self, by=("CYCLE", "DOSE_LEVEL"), value_cols=("CSS", "CL"), *, dataset=None):
        """Descriptive statistics of CSS and CL by group.

        ``N`` counts values (segments), ``N_SUBJECTS`` the distinct subjects among them.

        Parameters
        ----------
        by : sequence of str
            Grouping columns: columns of the table or, with ``dataset``,
            per-subject columns of the dataset such as ``SEX`` (first value
            per subject).
        value_cols : sequence of str
            Columns to summarise.
        dataset : Dataset, optional
            The data analysed, for grouping by its columns.

        Returns
        -------
        blinapk.nca.summary.Summary

        Raises
        ------
        ModelSpecError
            A ``by`` column is in neither the table nor the dataset.
        """
        from blinapk.nca.summary import add_subject_columns, summarize

        by = [str(b).strip().upper() if dataset is not None else b for b in by]
        table = self.table
        if dataset is not None:
            table = add_subject_columns(table, dataset, by)
        return summarize(table, list(value_cols), by=by, units=self.units)

    def __len__(self) -> int:
        return len(self.table)


def _signif(x: np.ndarray, digits: int = 3) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    out = x.copy()
    ok = np.isfinite(x) & (x != 0)
    mag = np.floor(np.log10(np.abs(x[ok])))
    scale = 10.0 ** (digits - 1 - mag)
    out[ok] = np.round(x[ok] * scale) / scale
    return out


def _dose_levels(daily, unit: str, labels, rows) -> pd.Categorical:
    """DOSE_LEVEL per output row, categories ordered by daily dose.

    The prescribed label of the rate table (``DOSE_LEVEL`` of the dose
    records) where present, else the delivered rate per day, e.g. ``"28 ug/day"``.
    """
    d = _signif(daily)
    if labels is not None and len(rows):
        gcode, guniq = pd.factorize(pd.Series(pd.array(labels).take(rows)))
    else:
        gcode, guniq = np.full(d.size, -1), []
    kcode, kuniq = pd.factorize(pd.MultiIndex.from_arrays([gcode, d]))
    texts = np.array([str(guniq[g]) if g >= 0 else f"{x:g} {unit}" for g, x in kuniq],
                     dtype=object)
    tcode, tuniq = pd.factorize(texts[kcode]) if kcode.size else (kcode, np.array([]))
    low = np.full(len(tuniq), np.inf)
    np.minimum.at(low, tcode, d)
    order = np.argsort(low, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return pd.Categorical.from_codes(rank[tcode], categories=list(np.asarray(tuniq)[order]))


def _group_reduce(group: np.ndarray, values: np.ndarray, n_groups: int, how: str):
    """Per-group count and central value of ``values`` (NaN where no value)."""
    n = np.bincount(group, minlength=n_groups)
    central = np.full(n_groups, np.nan)
    has = n > 0
    if how == "mean":
        central[has] = np.bincount(group, weights=values, minlength=n_groups)[has] / n[has]
    elif how == "geometric":
        with np.errstate(divide="ignore"):
            logs = np.log(values)
        central[has] = np.exp(np.bincount(group, weights=logs, minlength=n_groups)[has] / n[has])
    else:
        order = np.lexsort((values, group))
        v = values[order]
        starts = np.concatenate([[0], np.cumsum(n)[:-1]])
        lo = starts[has] + (n[has] - 1) // 2
        hi = starts[has] + n[has] // 2
        central[has] = 0.5 * (v[lo] + v[hi])
    return n, central


def compute_css(
    dataset,
    *,
    min_time_after_start: float = 10.0,
    summary: str = "mean",
    blq: str | BLQPolicy = "seed",
    per: str = "segment",
    dose_unit: str = "ug/h",
    dvid: str = "BLIN",
) -> CssResult:
    """Steady-state concentration and clearance per subject and dose segment.

    Parameters
    ----------
    dataset : Dataset or path or DataFrame
        A :class:`blinapk.data.Dataset`; anything else is read with
        :func:`blinapk.data.read_dataset` first (never mutated).
    min_time_after_start : float
        Samples count as steady state when taken at least this many hours
        after the constant rate started (default 10 h, about 5 half-lives).
    summary : {"mean", "median", "geometric"}
        How the eligible samples of a segment are combined (default the
        arithmetic mean, the seed-study rule).
    blq : str or BLQPolicy
        BLQ rule (:data:`blinapk.nca.blq.BLQ_POLICIES`); default ``"seed"``.
    per : {"segment", "dose_level"}
        ``"segment"``: one value per constant-rate segment of the rate table;
        ``"dose_level"``: segments of the same subject, cycle and rate (e.g.
        before and after an interruption) are pooled.
    dose_unit : {"ug/h", "ug/m2/h"}
        ``"ug/m2/h"`` divides R0 by the subject's BSA (first value), giving
        CL in L/h/m2 and DOSE_LEVEL in ug/m2/day.
    dvid : str
        Analyte of the drug concentrations.

    Returns
    -------
    CssResult
        Table (one row per subject x segment; DOSE_LEVEL is the rate in
        ug/day, or ug/m2/day, to 3 significant digits), ledger, settings, units.

    Raises
    ------
    ModelSpecError
        Unknown option.
    DataValidationError
        ``dose_unit="ug/m2/h"`` without a positive BSA for a dosed subject.

    Examples
    --------
    >>> from blinapk.datasets import load_example
    >>> res = compute_css(load_example())
    >>> sorted(res.to_frame().columns) == sorted(CSS_COLUMNS)
    True
    """
    from blinapk.data import Dataset, read_dataset

    if summary not in _SUMMARIES:
        raise ModelSpecError(f"summary must be one of {_SUMMARIES}, got {summary!r}")
    if per not in _PER:
        raise ModelSpecError(f"per must be one of {_PER}, got {per!r}")
    if dose_unit not in _DOSE_UNITS:
        raise ModelSpecError(f"dose_unit must be one of {_DOSE_UNITS}, got {dose_unit!r}")
    min_time = float(min_time_after_start)
    if not np.isfinite(min_time) or min_time < 0:
        raise ModelSpecError(f"min_time_after_start must be >= 0, got {min_time_after_start!r}")
    policy = get_blq_policy(blq)
    ds = dataset if isinstance(dataset, Dataset) else read_dataset(dataset)

    frame = ds.frame
    subjects = list(ds.subjects)
    evid = frame["EVID"].to_numpy()
    # work on numpy columns of the selected rows: selecting whole-frame rows is the slow part
    sel = np.flatnonzero((evid == 0) & frame["DVID"].eq(dvid).to_numpy(dtype=bool, na_value=False))
    obs = {c: frame[c].to_numpy()[sel] for c in ("ROW", "TIME", "DV", "CENS", "LLOQ", "LOD", "MDV")}
    obs["ID"] = frame["ID"].array.take(sel)
    dose_cols = [c for c in ("ID", "TIME", "EVID", "AMT", "RATE", "CYCLE", "DOSE_LEVEL")
                 if c in frame.columns]
    rt = rate_table(frame.loc[evid == 1, dose_cols])
    return _compute(obs, rt, subjects, ds, min_time, summary, policy, per, dose_unit, dvid)


def _compute(obs, rt, subjects, ds, min_time, summary, policy, per, dose_unit, dvid):
    # ---- rate table, sorted by subject code then START ---------------------
    rt_code = pd.Index(np.asarray(subjects)).get_indexer(rt["ID"].to_numpy()).astype(np.int64)
    order = np.lexsort((rt["START"].to_numpy(float), rt_code))
    rt = rt.iloc[order]
    rt_code = rt_code[order]
    r_start = rt["START"].to_numpy(float)
    r_end = rt["END"].to_numpy(float)
    r_rate = rt["RATE"].to_numpy(float)
    has_cycle = "CYCLE" in rt.columns
    r_cycle = rt["CYCLE"].to_numpy() if has_cycle else np.full(len(rt), pd.NA, dtype=object)
    r_label = rt["DOSE_LEVEL"].array if "DOSE_LEVEL" in rt.columns else None

    # ---- locate every observation in the rate table -------------------------
    # A sample at the instant of a change counts under the previous rate.
    at = rate_at(rt, obs["ID"], obs["TIME"], at_change="previous")
    seg = at["SEGMENT"].to_numpy()
    in_seg = seg >= 0
    found = in_seg | at["RATE_START"].notna().to_numpy()  # NaN: no infusion history yet
    after = found & ~in_seg
    rate = np.where(in_seg, at["RATE"].to_numpy(), np.nan)
    # time at a constant rate counts from the start of the run of contiguous
    # rows at the same rate (e.g. a new cycle label without a pause)
    since = at["TIME_AT_RATE"].to_numpy()
    o_time = obs["TIME"].astype(float)

    n_obs = o_time.size
    reason_labels = ["", _R_MDV, _R_BEFORE, _R_AFTER, _R_RATE0, _R_EARLY.format(h=min_time)]
    code = np.zeros(n_obs, dtype=np.int16)
    status = np.zeros(n_obs, dtype=np.int8)
    mdv = obs["MDV"] == 1
    steps = [
        (mdv, 1),
        (~found, 2),
        (after, 3),
        (in_seg & (rate == 0), 4),
        (in_seg & (rate > 0) & (since < min_time), 5),
    ]
    decided = np.zeros(n_obs, dtype=bool)
    for mask, c in steps:
        m = mask & ~decided
        code[m] = c
        decided |= m
    status[decided] = STATUS_EXCLUDED
    window = ~decided  # in a positive-rate segment, late enough, MDV 0

    # ---- output groups -------------------------------------------------------
    pos_rows = np.flatnonzero(r_rate > 0)
    if per == "segment":
        grp_of_row = np.full(len(rt), -1, dtype=np.int64)
        grp_of_row[pos_rows] = np.arange(len(pos_rows))
        first_row = pos_rows
    else:
        cyc_key = pd.Series(r_cycle[pos_rows]).astype("string").fillna("<NA>").to_numpy()
        keys = pd.MultiIndex.from_arrays([rt_code[pos_rows], cyc_key, r_rate[pos_rows]])
        gcodes, uniq = pd.factorize(keys)
        grp_of_row = np.full(len(rt), -1, dtype=np.int64)
        grp_of_row[pos_rows] = gcodes
        first_row = pos_rows[np.unique(gcodes, return_index=True)[1]]
    n_groups = len(first_row)
    g_start = np.full(n_groups, np.inf)
    g_end = np.full(n_groups, -np.inf)
    gr = grp_of_row[pos_rows]
    np.minimum.at(g_start, gr, r_start[pos_rows])
    np.maximum.at(g_end, gr, r_end[pos_rows])

    obs_group = np.where(in_seg, grp_of_row[np.maximum(seg, 0)] if len(rt) else -1, -1)

    # ---- BLQ rule on the in-window rows -------------------------------------
    w = np.flatnonzero(window)
    dv, cens, lloq, lod = (obs[c].astype(float) for c in ("DV", "CENS", "LLOQ", "LOD"))
    position = None
    if policy.needs_position:
        blq_flag, _ = blq_mask(dv[w], cens[w], lloq[w])
        position = blq_positions(obs_group[w], o_time[w], blq_flag)
    outcome = policy.apply(dv[w], cens[w], lloq[w], lod[w], position)
    remap = np.zeros(len(outcome.reason_labels), dtype=np.int16)
    for i, text in enumerate(outcome.reason_labels[1:], start=1):
        if text not in reason_labels:
            reason_labels.append(text)
        remap[i] = reason_labels.index(text)
    code[w] = remap[outcome.reason_code]
    status[w] = outcome.status
    value = np.full(n_obs, np.nan)
    value[w] = outcome.value

    use = w[outcome.status != STATUS_EXCLUDED]
    n, css = _group_reduce(obs_group[use], value[use], n_groups, summary)

    # ---- reasons for non-estimable rows ------------------------------------
    n_seg = np.bincount(obs_group[(obs_group >= 0) & ~mdv], minlength=n_groups)
    n_win = np.bincount(obs_group[w], minlength=n_groups)
    g_labels = ["", "all samples in window excluded (BLQ)",
                f"no sample >= {min_time:g} h after rate start", "no sample during segment",
                "Css is 0 (all eligible samples <LOD)"]
    g_reason = np.zeros(n_groups, dtype=np.int8)
    g_reason[(n == 0) & (n_win > 0)] = 1
    g_reason[(n == 0) & (n_win == 0) & (n_seg > 0)] = 2
    g_reason[n_seg == 0] = 3
    zero = (n > 0) & (css == 0)
    g_reason[zero] = 4
    css = np.where(zero, np.nan, css)

    r0 = r_rate[first_row]
    g_code = rt_code[first_row]
    table = pd.DataFrame(
        {
            "ID": pd.Series(subjects).iloc[g_code].to_numpy(),
            "CYCLE": r_cycle[first_row],
            "DOSE_LEVEL": _dose_levels(r0 * 24.0, "ug/day", r_label, first_row),
            "START": g_start,
            "END": g_end,
            "R0": r0,
            "CSS": css,
            "N": n.astype(np.int64),
        }
    )
    rate_for_cl = r0
    if dose_unit == "ug/m2/h":
        bsa = _bsa(ds, subjects, g_code)
        table.insert(table.columns.get_loc("R0") + 1, "BSA", bsa)
        rate_for_cl = r0 / bsa
        table["DOSE_LEVEL"] = _dose_levels(rate_for_cl * 24.0, "ug/m2/day", r_label, first_row)
    table["CL"] = clearance_from_css(rate_for_cl, css)
    table["REASON"] = pd.Categorical.from_codes(g_reason, categories=g_labels)
    if not has_cycle:
        table["CYCLE"] = pd.array([pd.NA] * n_groups, dtype="Int64")

    ledger_parts = ({c: obs[c] for c in ("ROW", "ID", "TIME")}, dvid, status, code, reason_labels)
    units = {
        "START": "h",
        "END": "h",
        "R0": "ug/h",
        "CSS": "pg/mL",
        "CL": "L/h" if dose_unit == "ug/h" else "L/h/m2",
        "DOSE_LEVEL": "ug/day" if dose_unit == "ug/h" else "ug/m2/day",
        "BSA": "m2",
        "N": "",
    }
    settings = {
        "min_time_after_start": min_time,
        "summary": summary,
        "blq": getattr(policy, "name", str(policy)),
        "per": per,
        "dose_unit": dose_unit,
        "dvid": dvid,
    }
    return CssResult(table=table, ledger_parts=ledger_parts, settings=settings, units=units)


def _bsa(ds, subjects, g_code) -> np.ndarray:
    frame = ds.frame
    if "BSA" not in frame.columns:
        raise DataValidationError(
            [Violation("missing_column", "BSA", (), "dose_unit='ug/m2/h' needs a BSA column")]
        )
    first = frame.groupby("ID", sort=False)["BSA"].first()
    bsa_by_code = first.reindex(subjects).to_numpy(float)
    bsa = bsa_by_code[g_code]
    bad = ~(np.isfinite(bsa) & (bsa > 0))
    if bad.any():
        bad_ids = sorted({str(subjects[c]) for c in g_code[bad]})
        rows = tuple(
            int(r) for r in frame.loc[frame["ID"].astype(str).isin(bad_ids), "ROW"].head(10)
        )
        raise DataValidationError(
            [Violation("bsa_missing", "BSA", rows,
                       f"BSA missing or <= 0 for subject(s) {', '.join(bad_ids[:10])}")]
        )
    return bsa


def _ledger(obs, dvid, status, code, reason_labels):
    from blinapk.data import RowLedger

    return RowLedger.from_reasons(
        pd.DataFrame({**obs, "DVID": dvid}),
        status=np.asarray(STATUS_LABELS, dtype=object)[status],
        reason=np.asarray(reason_labels, dtype=object)[code],
    )
