"""Descriptive statistics of NCA results by group.

:func:`summarize` computes, per group and per value column: ``N`` (non-missing
values: segments, events or profiles, as the table has them), ``N_SUBJECTS``
(distinct subjects among them, so that a subject with two segments at one
dose level, e.g. before and after an interruption, counts once), ``NMISS``,
arithmetic ``MEAN``, ``SD`` (n - 1), ``CV_PCT`` (100 SD / mean), geometric
mean ``GMEAN`` = exp(mean log x), geometric CV ``GCV_PCT`` = 100 sqrt(exp(s^2) - 1)
with s the SD of log x, ``MEDIAN``, ``MIN`` and ``MAX``, each with the column's
unit. Geometric statistics need every value > 0; otherwise they are NaN (a zero
or negative value has no logarithm).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from blinapk._html import html_repr
from blinapk.errors import ModelSpecError

__all__ = ["STATS", "Summary", "add_subject_columns", "summarize"]

#: Statistic columns of the wide view, in order.
STATS: tuple[str, ...] = (
    "N", "N_SUBJECTS", "NMISS", "MEAN", "SD", "CV_PCT", "GMEAN", "GCV_PCT", "MEDIAN", "MIN", "MAX",
)  # fmt: skip


@dataclass(frozen=True)
class Summary:
    """Summary statistics (frozen); wide and long (tidy) views.

    Attributes
    ----------
    table : pandas.DataFrame
        Wide table: group columns, ``PARAM``, ``UNIT`` and :data:`STATS`.
    by : tuple of str
        Group columns.
    """

    table: pd.DataFrame = field(repr=False)
    by: tuple[str, ...] = ()

    def _repr_html_(self) -> str:
        return html_repr(f"Summary by {', '.join(self.by) or 'all'}", ("", self.table),
                         max_rows=20)

    def wide(self) -> pd.DataFrame:
        """One row per group x parameter, one column per statistic (a copy)."""
        return self.table.copy()

    def to_frame(self) -> pd.DataFrame:
        """Return the wide view (same as :meth:`wide`)."""
        return self.wide()

    def long(self) -> pd.DataFrame:
        """Tidy view: group columns, ``PARAM``, ``UNIT``, ``STAT``, ``VALUE``."""
        idv = [*self.by, "PARAM", "UNIT"]
        out = self.table.melt(id_vars=idv, value_vars=list(STATS), var_name="STAT",
                              value_name="VALUE")
        out["VALUE"] = pd.to_numeric(out["VALUE"], errors="coerce").astype(float)
        return out.reset_index(drop=True)


def _stats(x: np.ndarray) -> dict[str, float]:
    n_all = x.shape[0]
    x = x[np.isfinite(x)]
    n = x.shape[0]
    out = dict.fromkeys(STATS, np.nan)
    out["N"], out["NMISS"] = n, n_all - n
    if n == 0:
        return out
    mean = float(np.mean(x))
    sd = float(np.std(x, ddof=1)) if n > 1 else np.nan
    out.update(MEAN=mean, SD=sd, MEDIAN=float(np.median(x)), MIN=float(x.min()),
               MAX=float(x.max()))
    out["CV_PCT"] = 100.0 * sd / mean if mean != 0 else np.nan
    if np.all(x > 0):
        logs = np.log(x)
        out["GMEAN"] = float(np.exp(np.mean(logs)))
        if n > 1:
            s = float(np.std(logs, ddof=1))
            out["GCV_PCT"] = 100.0 * float(np.sqrt(np.expm1(s * s)))
    return out


def summarize(
    result_frame: pd.DataFrame,
    value_cols: Sequence[str] | str,
    by: Sequence[str] | str | None = None,
    *,
    units: Mapping[str, str] | None = None,
    subject: str | None = "ID",
) -> Summary:
    """Descriptive statistics of value columns by group.

    Parameters
    ----------
    result_frame : pandas.DataFrame
        A result table (e.g. ``compute_css(...).to_frame()``); not mutated.
    value_cols : str or sequence of str
        Numeric columns to summarise (NaN = not estimable, counted in NMISS).
    by : str or sequence of str, optional
        Group columns; missing group values form their own group.
    units : mapping, optional
        Unit per value column (written to ``UNIT``; ``""`` when absent).
    subject : str or None, default "ID"
        Subject column for ``N_SUBJECTS`` (missing when the table has no such column).

    Returns
    -------
    Summary
        ``.wide()`` / ``.long()`` views.

    Raises
    ------
    ModelSpecError
        A named column is absent.

    Examples
    --------
    >>> df = pd.DataFrame({"G": ["a", "a", "b"], "CSS": [100.0, 400.0, 50.0]})
    >>> s = summarize(df, "CSS", by="G", units={"CSS": "pg/mL"}).wide()
    >>> s[["G", "N", "MEAN", "GMEAN"]].round(6).values.tolist()
    [['a', 2, 250.0, 200.0], ['b', 1, 50.0, 50.0]]
    """
    values = [value_cols] if isinstance(value_cols, str) else list(value_cols)
    groups = [] if by is None else ([by] if isinstance(by, str) else list(by))
    missing = [c for c in [*values, *groups] if c not in result_frame.columns]
    if missing:
        raise ModelSpecError(f"summarize: column(s) {missing} not in the table")
    units = dict(units or {})
    has_subject = subject is not None and subject in result_frame.columns
    rows = []
    if groups:
        grouped = result_frame.groupby(groups, dropna=False, sort=True, observed=True)
        items = [((k,) if not isinstance(k, tuple) else k, g) for k, g in grouped]
    else:
        items = [((), result_frame)]
    for key, sub in items:
        for col in values:
            x = pd.to_numeric(sub[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            stats = _stats(x)
            stats["N_SUBJECTS"] = (sub[subject][np.isfinite(x)].nunique() if has_subject
                                   else pd.NA)
            rows.append({**dict(zip(groups, key, strict=True)), "PARAM": col,
                         "UNIT": units.get(col, ""), **stats})
    table = pd.DataFrame(rows, columns=[*groups, "PARAM", "UNIT", *STATS])
    table["N"] = table["N"].astype("int64")
    table["N_SUBJECTS"] = table["N_SUBJECTS"].astype("Int64")
    table["NMISS"] = table["NMISS"].astype("int64")
    return Summary(table=table, by=tuple(groups))


def add_subject_columns(table: pd.DataFrame, dataset, names: Sequence[str]) -> pd.DataFrame:
    """Append per-subject columns of the dataset (e.g. ``SEX``) to a result table.

    Each subject gets the first non-missing value of each column
    (:meth:`blinapk.data.Dataset.covariates`); columns already in ``table``
    are left as they are.

    Parameters
    ----------
    table : pandas.DataFrame
        A result table with ``ID``.
    dataset : Dataset
        The data the result came from.
    names : sequence of str
        Column names (case-insensitive).

    Returns
    -------
    pandas.DataFrame
        A copy of ``table`` with the columns added.

    Raises
    ------
    ModelSpecError
        A name is neither a column of ``table`` nor of the dataset.
    """
    wanted = [str(n).strip().upper() for n in names]
    add = [n for n in wanted if n not in table.columns]
    if not add:
        return table.copy()
    have = [c for c in dataset.frame.columns if c != "ROW"]
    unknown = [n for n in add if n not in have]
    if unknown:
        raise ModelSpecError(
            f"unknown column(s) {unknown}: not in the result ({', '.join(map(str, table.columns))})"
            f" nor in the dataset ({', '.join(have)})")
    covs = dataset.covariates(add)
    out = table.merge(covs, on="ID", how="left", validate="many_to_one")
    out.index = table.index
    return out
