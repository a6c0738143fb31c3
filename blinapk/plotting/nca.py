"""Plots of NCA results: Css by dose, individual profiles, cytokine release.

Every function takes a result (or the dataset it came from), draws it and
returns the matplotlib Axes or Figure; none computes a new quantity.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection

from blinapk.plotting._style import BLQ_STYLE, DAY, day_axis, micro, plain_log

__all__ = ["plot_css_by_dose", "plot_cytokines", "plot_profile_pages", "plot_profiles"]

_BLQ_STYLE = BLQ_STYLE


def _spread(n: int, width: float = 0.25) -> np.ndarray:
    """Deterministic horizontal offsets for a strip of n points (no random jitter)."""
    if n <= 1:
        return np.zeros(n)
    return np.linspace(-width, width, n)


def _levels(table: pd.DataFrame) -> list:
    col = table["DOSE_LEVEL"]
    if isinstance(col.dtype, pd.CategoricalDtype):
        present = set(col.dropna())
        return [c for c in col.cat.categories if c in present]
    order = table.groupby("DOSE_LEVEL", observed=True)["R0"].median().sort_values()
    return list(order.index)


def plot_css_by_dose(result, ax=None, *, value: str = "CSS", log: bool = True,
                     max_levels: int = 10):
    """Css (or CL) per dose level: box plot with the individual values on top.

    Parameters
    ----------
    result : CssResult or pandas.DataFrame
        :func:`blinapk.nca.compute_css` result (or its table).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    value : {"CSS", "CL"}
        Column to show.
    log : bool
        Logarithmic y axis (default).
    max_levels : int
        With more distinct dose levels than this (typically BSA-based doses
        in data without a ``DOSE_LEVEL`` label) the values are drawn against
        the delivered daily dose R0 x 24 on a log axis instead of as boxes.

    Returns
    -------
    matplotlib.axes.Axes
    """
    table = result.to_frame() if hasattr(result, "to_frame") else result
    units = getattr(result, "units", {}) or {}
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    ok = table[np.isfinite(table[value].to_numpy(dtype=float, na_value=np.nan))]
    levels = _levels(ok) if len(ok) else []
    if len(levels) > max_levels:  # e.g. BSA-based doses without a DOSE_LEVEL label
        return _css_vs_rate(table, ok, ax, value, units, log)
    data = [ok.loc[ok["DOSE_LEVEL"] == lv, value].to_numpy(float) for lv in levels]
    if data:
        ax.boxplot(data, positions=np.arange(len(levels)), widths=0.6, showfliers=False,
                   medianprops=dict(color="black"), boxprops=dict(color="0.4"),
                   whiskerprops=dict(color="0.4"), capprops=dict(color="0.4"))
    cycles = sorted(ok["CYCLE"].dropna().unique()) if "CYCLE" in ok else []
    colours = plt.get_cmap("tab10")
    for i, lv in enumerate(levels):
        sub = ok[ok["DOSE_LEVEL"] == lv]
        x = i + _spread(len(sub))
        if cycles:
            c_idx = [cycles.index(c) if c in cycles else 0 for c in sub["CYCLE"].fillna(cycles[0])]
            colour = [colours(k % 10) for k in c_idx]
        else:
            colour = "tab:blue"
        ax.scatter(x, sub[value], s=14, alpha=0.7, c=colour, zorder=3, linewidths=0)
    for k, c in enumerate(cycles):
        ax.scatter([], [], s=14, color=colours(k % 10), label=f"cycle {c:g}"
                   if isinstance(c, int | float | np.number) else f"cycle {c}")
    if cycles:
        ax.legend(frameon=False, fontsize=8)
    ax.set_xticks(np.arange(len(levels)))
    # subjects and segments counted apart: an interrupted subject has two segments at one level
    n_subj = [ok.loc[ok["DOSE_LEVEL"] == lv, "ID"].nunique() if "ID" in ok else len(d)
              for lv, d in zip(levels, data, strict=True)]
    ax.set_xticklabels([f"{micro(lv)}\n(n={s} subj., {len(d)} seg.)"
                        for lv, d, s in zip(levels, data, n_subj, strict=True)],
                       rotation=45 if len(levels) > 6 else 0, fontsize=8)
    if log and len(ok):
        plain_log(ax, "y")
    label = {"CSS": "Css", "CL": "CL = R0/Css"}.get(value, value)
    ax.set_ylabel(f"{label} ({units.get(value, '')})")
    ax.set_xlabel("dose level")
    n_ne = int(len(table) - len(ok))
    ax.set_title(f"{label} by dose level" + (f" ({n_ne} segment(s) not estimable)" if n_ne else ""),
                 fontsize=10)
    return ax


def _cycle_colours(frame):
    cycles = sorted(frame["CYCLE"].dropna().unique()) if "CYCLE" in frame else []
    cmap = plt.get_cmap("tab10")
    if not cycles:
        return ["tab:blue"] * len(frame), []
    idx = [cycles.index(c) if c in cycles else 0 for c in frame["CYCLE"].fillna(cycles[0])]
    return [cmap(k % 10) for k in idx], [(c, cmap(k % 10)) for k, c in enumerate(cycles)]


def _css_vs_rate(table, ok, ax, value, units, log):
    colour, legend = _cycle_colours(ok)
    ax.scatter(ok["R0"] * 24.0, ok[value], s=14, alpha=0.7, c=colour, linewidths=0)
    for c, col in legend:
        ax.scatter([], [], s=14, color=col, label=f"cycle {c:g}" if isinstance(c, float | int)
                   else f"cycle {c}")
    if legend:
        ax.legend(frameon=False, fontsize=8)
    plain_log(ax, "x")
    if log:
        plain_log(ax, "y")
    label = {"CSS": "Css", "CL": "CL = R0/Css"}.get(value, value)
    ax.set_xlabel("delivered dose R0 x 24 (µg/day)")
    ax.set_ylabel(f"{label} ({units.get(value, '')})")
    n_ne = int(len(table) - len(ok))
    ax.set_title(f"{label} vs delivered dose" + (f" ({n_ne} not estimable)" if n_ne else ""),
                 fontsize=10)
    return ax


#: Samples more than this long (h) off treatment apart are not joined by a line.
GAP_HOURS = 24.0


def _breaks(sid, times: np.ndarray, rates: pd.DataFrame | None) -> np.ndarray:
    """Flag each sample separated from the previous one by > GAP_HOURS off treatment."""
    from blinapk.dosing import idle_hours

    out = np.zeros(times.size, dtype=bool)
    if rates is None or not len(rates) or times.size < 2:
        return out
    idle = idle_hours(rates, [sid] * (times.size - 1), times[:-1], times[1:])
    out[1:] = idle > GAP_HOURS
    return out


def _broken_line(t: np.ndarray, y: np.ndarray, brk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pos = np.flatnonzero(brk)
    return np.insert(t, pos, np.nan), np.insert(y, pos, np.nan)


def _one_profile(ax, obs: pd.DataFrame, rates: pd.DataFrame | None, title: str, log: bool,
                 *, colour: str = "tab:blue", alpha: float = 1.0, rate_axis: bool = True):
    q = obs[obs["CENS"] == 0]
    blq = obs[obs["CENS"] == 1]
    t = q["TIME"].to_numpy(float)
    sid = obs["ID"].iloc[0] if len(obs) else None
    x, y = _broken_line(t / DAY, q["DV"].to_numpy(float), _breaks(sid, t, rates))
    ax.plot(x, y, "o-", ms=3.0, lw=0.8, color=colour, alpha=alpha, label="quantified")
    if len(blq):
        ax.scatter(blq["TIME"] / DAY, blq["LLOQ"], label="BLQ (at LLOQ)", **_BLQ_STYLE)
    if log and (q["DV"] > 0).any():
        plain_log(ax, "y")
    if title:
        ax.set_title(title, fontsize=9)
    if rate_axis and rates is not None and len(rates):
        tw = ax.twinx()
        edges = np.r_[rates["START"].to_numpy(float), rates["END"].to_numpy(float)[-1]] / DAY
        r = np.r_[rates["RATE"].to_numpy(float), 0.0] * 24.0
        tw.step(edges, r, where="post", color="tab:orange", lw=1.0, alpha=0.8)
        tw.fill_between(edges, r, step="post", color="tab:orange", alpha=0.12)
        tw.set_ylim(0, max(r.max(), 1e-9) * 3.0)  # keep the rate in the lower third
        tw.set_ylabel("rate (µg/day)", color="tab:orange", fontsize=8)
        tw.tick_params(axis="y", labelsize=7, colors="tab:orange")
        ax.set_zorder(tw.get_zorder() + 1)
        ax.patch.set_visible(False)
    return ax


def _observations(dataset, dvid: str) -> pd.DataFrame:
    frame = dataset.frame
    return frame[(frame["EVID"] == 0) & (frame["DVID"] == dvid) & (frame["MDV"] == 0)]


def _panels(fig_axes, ids, obs, rates, dvid, unit, log):
    by_id = dict(list(obs.groupby("ID", sort=False)))
    rate_by_id = dict(list(rates.groupby("ID", sort=False))) if len(rates) else {}
    span = float(obs["TIME"].max() - obs["TIME"].min()) / DAY if len(obs) else 1.0
    for a, sid in zip(fig_axes, ids, strict=False):
        _one_profile(a, by_id.get(sid, obs.iloc[:0]), rate_by_id.get(sid), f"ID {sid}", log)
        day_axis(a, span, label="time (day)", max_ticks=6)
        a.xaxis.label.set_size(8)
        a.set_ylabel(f"{dvid} ({unit})", fontsize=8)
        a.tick_params(labelsize=7)


def plot_profiles(dataset, ids: Sequence | None = None, ax=None, *, dvid: str = "BLIN",
                  log: bool = True, max_panels: int = 12):
    """Concentration-time profiles with the infusion rate underneath (time in days).

    Quantified samples are joined points (not joined across a stretch off
    treatment); BLQ samples are open red triangles at their LLOQ. The rate
    in force (from :func:`blinapk.dosing.rate_table` of the dataset's dose
    rows) is a step on a twin axis (µg/day), so interruptions and step
    doses are visible.

    Parameters
    ----------
    dataset : Dataset
        The data (:func:`blinapk.data.read_dataset`).
    ids : sequence, optional
        Subjects to draw, one panel each. Default: every subject; one panel
        each when there are at most ``max_panels``, else every subject
        overlaid in one panel (for one panel per subject on several pages,
        see :func:`plot_profile_pages`).
    ax : matplotlib.axes.Axes, optional
        Draw the selected subjects (default: all) on this one Axes (no rate
        axis) and return it.
    dvid : str
        Analyte to draw.
    log : bool
        Logarithmic concentration axis (plain tick labels).
    max_panels : int, default 12
        Most subjects drawn as separate panels when ``ids`` is None.

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.axes.Axes
    """
    from blinapk.dosing import rate_table

    frame = dataset.frame
    obs = _observations(dataset, dvid)
    unit = dataset.units.dv
    rates = rate_table(frame[frame["EVID"] == 1])
    overlay = ax is not None or (ids is None and len(dataset.subjects) > max_panels)
    ids = list(dataset.subjects) if ids is None else list(ids)
    if overlay:
        fig = None
        if ax is None:
            fig, ax = plt.subplots(figsize=(10.0, 5.0), constrained_layout=True)
        by_rate = dict(list(rates.groupby("ID", sort=False))) if len(rates) else {}
        for k, sid in enumerate(ids):
            _one_profile(ax, obs[obs["ID"] == sid], by_rate.get(sid), "", log,
                         colour=plt.get_cmap("tab20")(k % 20), alpha=0.6, rate_axis=False)
        handles = [h for h, lab in zip(*ax.get_legend_handles_labels(), strict=True)
                   if lab == "BLQ (at LLOQ)"][:1]
        if handles:
            ax.legend(handles, ["BLQ (at LLOQ)"], fontsize=8, frameon=False)
        span = float(obs["TIME"].max() - obs["TIME"].min()) / DAY if len(obs) else 1.0
        day_axis(ax, span, label="time (day)")
        ax.set_ylabel(f"{dvid} ({unit})")
        ax.set_title(f"{dvid}: {len(ids)} subjects (lines stop at treatment gaps)", fontsize=10)
        return ax if fig is None else fig
    n = len(ids)
    ncol = min(3, max(n, 1))
    nrow = int(np.ceil(n / ncol)) if n else 1
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.0 * nrow), squeeze=False,
                             constrained_layout=True)
    _panels(axes.flat, ids, obs, rates, dvid, unit, log)
    for a in list(axes.flat)[n:]:
        a.set_visible(False)
    if n:
        axes.flat[0].legend(fontsize=7, frameon=False, loc="lower right")
    return fig


def plot_profile_pages(dataset, *, dvid: str = "BLIN", log: bool = True,
                       per_page: int = 12) -> list:
    """Every subject's profile, one panel each, paged (A4 portrait, ``per_page`` a page).

    Parameters
    ----------
    dataset : Dataset
        The data.
    dvid : str
        Analyte to draw.
    log : bool
        Logarithmic concentration axis.
    per_page : int, default 12
        Subjects per page (three columns).

    Returns
    -------
    list of matplotlib.figure.Figure
        One per page, as :func:`plot_profiles` draws each panel.
    """
    from blinapk.dosing import rate_table

    frame = dataset.frame
    obs = _observations(dataset, dvid)
    rates = rate_table(frame[frame["EVID"] == 1])
    ids = list(dataset.subjects)
    pages = []
    n_pages = max(1, int(np.ceil(len(ids) / per_page)))
    nrow = int(np.ceil(per_page / 3))
    for page in range(n_pages):
        chunk = ids[page * per_page:(page + 1) * per_page]
        fig, axes = plt.subplots(nrow, 3, figsize=(8.27, 11.69), squeeze=False,
                                 constrained_layout=True)
        _panels(axes.flat, chunk, obs, rates, dvid, dataset.units.dv, log)
        for a in list(axes.flat)[len(chunk):]:
            a.set_visible(False)
        fig.suptitle(f"{dvid} profiles (BLQ at LLOQ, rate in µg/day): page {page + 1} of "
                     f"{n_pages}", fontsize=10)
        pages.append(fig)
    return pages


def plot_cytokines(data, peaks=None, *, cytokines: Sequence[str] | None = None,
                   window: tuple[float, float] = (-24.0, 48.0), kinds=("start", "step-up")):
    """Cytokine release around each treatment start and step-up.

    Two forms:

    * ``plot_cytokines(peaks)`` with a :class:`~blinapk.nca.CytokinePeaks`:
      peak concentration per cytokine, starts vs step-ups (log scale; censored
      peaks counted in the labels, not drawn as numbers);
    * ``plot_cytokines(dataset, peaks)``: individual time courses relative to
      each event of ``peaks`` (one panel per cytokine), with the peaks marked.

    Parameters
    ----------
    data : CytokinePeaks or Dataset
        What to draw (see above).
    peaks : CytokinePeaks, optional
        Events and peaks, required with a Dataset.
    cytokines : sequence of str, optional
        DVIDs to draw (default: those in the peaks table).
    window : (float, float)
        Time range around each event, h.
    kinds : tuple of str
        Event kinds to draw.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if hasattr(data, "to_frame") and peaks is None:
        return _plot_peak_strips(data.to_frame(), cytokines, kinds, data.units)
    if peaks is None:
        raise TypeError("plot_cytokines(dataset, peaks): the events come from a CytokinePeaks")
    table = peaks.to_frame()
    dv_names = list(cytokines or _ordered_dvids(table))
    frame = data.frame
    obs = frame[(frame["EVID"] == 0) & (frame["MDV"] == 0) & frame["DVID"].isin(dv_names)]
    fig, axes = plt.subplots(1, max(len(dv_names), 1), figsize=(3.4 * max(len(dv_names), 1), 3.4),
                             squeeze=False, sharey=True, constrained_layout=True)
    colours = {"start": "tab:red", "step-up": "tab:blue"}
    for a, dv in zip(axes.flat, dv_names, strict=False):
        t_dv = table[(table["DVID"] == dv) & table["KIND"].isin(kinds)]
        o_dv = obs[obs["DVID"] == dv]
        by_id = dict(list(o_dv.groupby("ID", sort=False)))
        # one collection and one scatter per event kind: an artist per event (1000s of
        # events in a trial) made this figure take a minute
        lines: dict[str, list] = {}
        points: dict[str, list] = {}
        for e in t_dv.itertuples(index=False):
            o = by_id.get(e.ID)
            if o is None:
                continue
            rel = o["TIME"].to_numpy(float) - e.START
            m = (rel >= window[0]) & (rel <= window[1])
            y = np.where(o["CENS"].to_numpy() == 1, o["LLOQ"], o["DV"])[m]
            lines.setdefault(e.KIND, []).append(np.column_stack([rel[m], y]))
            if np.isfinite(e.PEAK):
                points.setdefault(e.KIND, []).append((e.TMAX, e.PEAK))
        for kind, segs in lines.items():
            a.add_collection(LineCollection(segs, lw=0.6, alpha=0.35,
                                            color=colours.get(kind, "0.5")))
        for kind, xy in points.items():
            xy = np.asarray(xy, dtype=float)
            a.scatter(xy[:, 0], xy[:, 1], s=10, color=colours.get(kind, "0.5"), zorder=3)
        a.autoscale_view()
        lloq = o_dv["LLOQ"].median() if len(o_dv) else np.nan
        if np.isfinite(lloq):
            a.axhline(lloq, color="0.3", ls=":", lw=0.8)
            a.text(window[1], lloq, "LLOQ", ha="right", va="bottom", fontsize=7, color="0.3")
        a.axvline(0.0, color="0.3", lw=0.8)
        plain_log(a, "y")
        a.set_title(dv, fontsize=10)
        a.set_xlabel("time since start / step-up (h)", fontsize=8)
    axes.flat[0].set_ylabel(f"concentration ({data.units.dv}); BLQ drawn at LLOQ", fontsize=8)
    for kind, c in colours.items():
        if kind in kinds:
            axes.flat[0].plot([], [], color=c, label=kind)
    axes.flat[0].legend(fontsize=7, frameon=False)
    return fig


def _ordered_dvids(table) -> list:
    from blinapk.nca.cytokines import CYTOKINES

    present = list(pd.unique(table["DVID"]))
    return [c for c in CYTOKINES if c in present] + [c for c in present if c not in CYTOKINES]


def _plot_peak_strips(table, cytokines, kinds, units):
    """Peaks per cytokine and event kind; censored peaks in a <LLOQ band, ranked lowest.

    Boxes are drawn from every peak, with peaks below the LLOQ ranked below
    all quantified ones (their values are unknown, their rank is not): a
    quartile or median that falls among them lies in the <LLOQ band.
    """
    dv_names = list(cytokines or _ordered_dvids(table))
    fig, ax = plt.subplots(figsize=(1.7 * max(len(dv_names), 1) * len(kinds) + 1.5, 4.6),
                           constrained_layout=True)
    colours = {"start": "tab:red", "step-up": "tab:blue"}
    quantified = table["PEAK"].to_numpy(float)
    quantified = quantified[np.isfinite(quantified) & (quantified > 0)]
    low = 0.5 * float(quantified.min()) if quantified.size else 1.0
    labels, pos = [], 0
    for dv in dv_names:
        for kind in kinds:
            sub = table[(table["DVID"] == dv) & (table["KIND"] == kind)]
            cens = sub["PEAK_CENSORED"].to_numpy(bool) | ~np.isfinite(sub["PEAK"].to_numpy(float))
            y = np.where(cens, low, sub["PEAK"].to_numpy(float))
            n_cens = int(cens.sum())
            if y.size:
                ax.boxplot([y], positions=[pos], widths=0.6, showfliers=False, whis=(5, 95),
                           medianprops=dict(color="black"))
                q = y[~cens]
                ax.scatter(pos + _spread(q.size), q, s=10, alpha=0.6,
                           color=colours.get(kind, "0.5"), zorder=3, linewidths=0)
                if n_cens:
                    ax.scatter(pos + _spread(n_cens, 0.22), np.full(n_cens, low),
                               **{**_BLQ_STYLE, "s": 10, "linewidths": 0.5})
            pct = 100.0 * n_cens / max(len(sub), 1)
            labels.append(f"{dv}\n{kind}\nn={len(sub)}\n<LLOQ {n_cens} ({pct:.0f}%)")
            pos += 1
    ax.axhspan(low / 1.6, low * 1.35, color="0.9", zorder=0)
    ax.set_xticks(np.arange(len(labels)))
    ax.set_xticklabels(labels, fontsize=7)
    ax.set_ylim(low / 1.6, None)
    plain_log(ax, "y")
    ticks = [t for t in ax.get_yticks() if t > low * 1.4]
    ax.set_yticks([low, *ticks])
    ax.set_yticklabels(["<LLOQ", *[f"{t:g}" for t in ticks]])
    ax.set_ylabel(f"peak within 48 h ({units.get('PEAK', '')})")
    ax.set_title("Cytokine peaks: treatment start vs step-up (boxes: median, quartiles, "
                 "5-95 %, from every peak with <LLOQ ranked lowest)", fontsize=9)
    return fig
