"""Clinical endpoints to files: response, time-to-event, KM, log-rank, AE and alloHSCT tables.

:func:`write_endpoints` writes what ``blinapk endpoints`` leaves in its output
directory (:data:`ENDPOINT_OUTPUTS`); :func:`endpoints_text` is the short
report it prints. Column names carry their unit where there is one:
``TIME_DAYS``/``TIME_MONTHS`` (durations), ``*_DAY`` (study days),
``MEDIAN_MONTHS``, ``PCT`` (percent; ``LOWER``/``UPPER`` are its confidence
bounds, also percent); ``SURVIVAL`` and ``SURV_<n>_MONTHS`` (the rate at
``n`` months) are fractions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from blinapk.report.tables import write_csv

__all__ = ["ENDPOINT_OUTPUTS", "endpoint_tables", "endpoints_text", "write_endpoints",
           "write_endpoints_figures"]

#: Files written by :func:`write_endpoints`, in order. ``logrank.csv`` needs
#: groups (``by``), ``ae_incidence.csv`` and ``ae_forest.png`` an adverse-event
#: table, ``ae_episodes.csv`` (per cycle and start / step-up / restart) also the
#: event table, ``km_<endpoint>.png`` a curve of that endpoint; the figures need
#: ``figures=True``.
ENDPOINT_OUTPUTS = ("response.csv", "response_rates.csv", "tte.csv", "km_summary.csv", "km.csv",
                    "logrank.csv", "ae_incidence.csv", "ae_episodes.csv", "hsct.csv", "ledger.csv",
                    "km_os.png", "km_rfs.png", "km_ttr.png", "km_dfs.png", "response.png",
                    "ae_forest.png")

_PLURAL = {"day": "DAYS", "month": "MONTHS", "week": "WEEKS", "year": "YEARS"}


def _whole(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """Columns holding whole numbers (or nothing) as nullable integers: ``29``, not ``29.0``."""
    for col in columns:
        if col in frame.columns:
            v = pd.to_numeric(frame[col], errors="coerce")
            finite = v.dropna()
            if v.notna().sum() == frame[col].notna().sum() and (finite == finite.round()).all():
                frame[col] = v.astype("Int64")
    return frame


def _time_suffix(unit: str) -> str:
    return _PLURAL.get(unit, unit.upper() or "TIME")


def _response(results) -> pd.DataFrame:
    t = results.best.to_frame()
    return _whole(t, ["BEST_DAY", "CRCRH", "FIRST_REMISSION_DAY", "MRD_RESPONSE", "MRD_DAY"])


def _tte(results) -> pd.DataFrame:
    t = results.tte.to_frame().rename(columns={"TIME": "TIME_DAYS"})
    return _whole(t, ["TIME_DAYS", "EVENT", "START_DAY", "END_DAY"])


def _km_summary(results) -> pd.DataFrame:
    s = results.km_summary()
    unit = _time_suffix(results.settings["time_unit"])
    return s.rename(columns={"MEDIAN": f"MEDIAN_{unit}", "MEDIAN_LOWER": f"MEDIAN_LOWER_{unit}",
                             "MEDIAN_UPPER": f"MEDIAN_UPPER_{unit}"})


def _km_curves(results) -> pd.DataFrame:
    c = results.km_curves()
    unit = _time_suffix(results.settings["time_unit"])
    cols = ["ENDPOINT", "GROUP", "TIME", "SURVIVAL", "LOWER", "UPPER", "AT_RISK", "N_EVENT",
            "N_CENSOR"]
    if c.empty:
        return pd.DataFrame(columns=[f"TIME_{unit}" if x == "TIME" else x for x in cols])
    return c[cols].rename(columns={"TIME": f"TIME_{unit}"})


def _logrank(results) -> pd.DataFrame:
    lr = results.logrank
    return lr.to_frame().merge(lr.summary(), on="ENDPOINT", how="left")


def endpoint_tables(results: Any) -> dict[str, pd.DataFrame]:
    """Return the tables of :func:`write_endpoints` by file name, column names with units.

    Parameters
    ----------
    results : EndpointResults
        :func:`blinapk.endpoints.compute_endpoints` result.

    Returns
    -------
    dict of str to DataFrame
        ``response.csv`` (per subject), ``response_rates.csv``, ``tte.csv``
        (per subject and endpoint), ``km_summary.csv``, ``km.csv`` (curves),
        ``logrank.csv`` (per endpoint and group, with the test; with groups
        only), ``ae_incidence.csv`` (with an adverse-event table only),
        ``ae_episodes.csv`` (with the event table as well),
        ``hsct.csv`` and ``ledger.csv``.
    """
    tables = {"response.csv": _response(results),
              "response_rates.csv": results.response_rates.to_frame(),
              "tte.csv": _tte(results),
              "km_summary.csv": _km_summary(results),
              "km.csv": _km_curves(results)}
    if results.logrank is not None:
        tables["logrank.csv"] = _logrank(results)
    if results.ae_incidence is not None:
        tables["ae_incidence.csv"] = results.ae_incidence.to_frame()
    if results.ae_episodes is not None:
        tables["ae_episodes.csv"] = results.ae_episodes.copy()
    tables["hsct.csv"] = results.hsct.to_frame()
    tables["ledger.csv"] = results.ledger.to_frame()
    return tables


def write_endpoints(results: Any, out_dir: str | Path, *, figures: bool = True) -> list[Path]:
    """Write the endpoint tables (CSV) and figures (PNG).

    Parameters
    ----------
    results : EndpointResults
        :func:`blinapk.endpoints.compute_endpoints` result.
    out_dir : str or Path
        Output directory (created).
    figures : bool, default True
        Write the figures (:func:`write_endpoints_figures`).

    Returns
    -------
    list of Path
        The files written, in the order of :data:`ENDPOINT_OUTPUTS`.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = [write_csv(table, out / name) for name, table in endpoint_tables(results).items()]
    if figures:
        files += write_endpoints_figures(results, out)
    return files


def write_endpoints_figures(results: Any, out_dir: str | Path) -> list[Path]:
    """Write the endpoint figures (PNG, 110 dpi).

    ``km_<endpoint>.png`` per endpoint with a curve (``km_os.png``, ...;
    with the log-rank p value when there are groups), ``response.png``
    (response rates) and, with adverse events, ``ae_forest.png``.

    Parameters
    ----------
    results : EndpointResults
        :func:`blinapk.endpoints.compute_endpoints` result.
    out_dir : str or Path
        Existing output directory.

    Returns
    -------
    list of Path
        The files written.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only; works without a display
    import matplotlib.pyplot as plt

    from blinapk.plotting import plot_ae_forest, plot_km, plot_response

    out = Path(out_dir)
    figures = [(f"km_{e.lower()}.png", lambda km=km: plot_km(km, logrank=results.logrank))
               for e, km in results.km.items() if len(km.curves)]
    figures.append(("response.png", lambda: plot_response(results.response_rates)))
    if results.ae_incidence is not None:
        figures.append(("ae_forest.png", lambda: plot_ae_forest(results.ae_incidence)))
    written = []
    for name, make in figures:
        fig = make()
        fig.savefig(out / name, dpi=110, bbox_inches="tight")
        plt.close(fig)
        written.append(out / name)
    return written


def _fmt(x: float, digits: int = 1) -> str:
    return f"{x:.{digits}f}" if np.isfinite(x) else "NR"


def _rate(row) -> str:
    return (f"{row['N_SUBJECTS']}/{row['N_AT_RISK']} {_fmt(row['PCT'])} % "
            f"({_fmt(row['LOWER'])}-{_fmt(row['UPPER'])})")


def _rate_lines(table: pd.DataFrame, by: list[str], label: str, values) -> list[str]:
    """One line per group: the label's value of each of ``values`` (column, value) pairs."""
    keys = table[by].astype(str).agg(", ".join, axis=1) if by else pd.Series("all", table.index)
    lines = []
    for g in pd.unique(keys):
        part = table[keys == g]
        cells = []
        for name, mask in values:
            hit = part[mask(part)]
            if len(hit):
                cells.append(f"{name} {_rate(hit.iloc[0])}")
        lines.append(f"  {g}: " + "; ".join(cells))
    return [label, *lines]


def endpoints_text(results: Any) -> str:
    """Short text report: response, survival, log-rank, adverse events, alloHSCT, row counts.

    Parameters
    ----------
    results : EndpointResults
        :func:`blinapk.endpoints.compute_endpoints` result.

    Returns
    -------
    str
        Lines of text (no trailing newline), naming the files of
        :func:`write_endpoints` that hold the details.
    """
    by, st = results.by, results.settings
    level = f"{100 * st['conf_level']:g} %"
    rates = results.response_rates.to_frame()
    lines = _rate_lines(
        rates, by, f"response within cycles 1-{st['max_cycle']} (n/N, %, {level} exact CI):",
        [(e, lambda p, e=e: (p["ENDPOINT"] == e) & (p["DENOMINATOR"] == "all treated"))
         for e in ("CR/CRh*", "CR", "MRD response")])
    summary = _km_summary(results)
    unit = _time_suffix(st["time_unit"])
    marks = [c for c in summary.columns if c.startswith("SURV_") and c.endswith("_MONTHS")]
    lines += ["", f"Kaplan-Meier (median {unit.lower()} with {level} CI; survival at landmarks):"]
    for row in summary.to_dict("records"):
        med = (f"median {_fmt(row[f'MEDIAN_{unit}'])} "
               f"({_fmt(row[f'MEDIAN_LOWER_{unit}'])}-{_fmt(row[f'MEDIAN_UPPER_{unit}'])})")
        at = ", ".join(f"{c[5:].replace('_MONTHS', ' mo')} {_fmt(100 * row[c], 0)} %"
                       for c in marks if np.isfinite(row[c]))
        lines.append(f"  {row['ENDPOINT']:<4} {row['GROUP']}: n={row['N']} events={row['EVENTS']} "
                     f"{med}" + (f"; {at}" if at else ""))
    if results.logrank is not None:
        tests = results.logrank.summary()
        lines += ["", "log-rank: " + "; ".join(
            f"{t['ENDPOINT']} p = {t['P_VALUE']:.3g}" if np.isfinite(t["P_VALUE"])
            else f"{t['ENDPOINT']} not tested ({t['REASON']})" for t in tests.to_dict("records"))]
    if results.ae_incidence is not None:
        ae = results.ae_incidence.to_frame()
        lines += [""] + _rate_lines(
            ae, by, "treatment-emergent adverse events, any category:",
            [(m, lambda p, m=m: (p["CATEGORY"] == "ANY") & (p["MEASURE"] == m))
             for m in ("any grade", "grade >= 3", "serious")])
    hsct = results.hsct.to_frame()
    lines += [""] + _rate_lines(hsct, by, "alloHSCT:", [
        (m, lambda p, m=m: p["MEASURE"] == m) for m in pd.unique(hsct["MEASURE"])])
    led = results.ledger.to_frame()
    counts = []
    for table in ("subjects", "assessments", "adverse_events"):
        part = led[led["TABLE"] == table]
        if part.empty:
            continue
        n = part["STATUS"].value_counts()
        counts.append(f"{table} {len(part)} (used {n.get('used', 0)}, modified "
                      f"{n.get('modified', 0)}, excluded {n.get('excluded', 0)})")
    lines += ["", "rows: " + "; ".join(counts) + "; reasons in ledger.csv"]
    return "\n".join(lines)
