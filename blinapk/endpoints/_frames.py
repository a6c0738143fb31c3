"""Shared plumbing of the endpoint layer: row numbers, required columns, ledgers.

The clinical tables arrive validated (upper-case contract columns, a 1-based
``ROW`` column). Hand-built frames without ``ROW`` are numbered 1..n in their
order. :func:`table_ledger` is the one place that decides what a clinical-table
row looks like in a :class:`~blinapk.data.ClinicalLedger`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from blinapk.data import ClinicalLedger
from blinapk.errors import DataValidationError, Violation

__all__ = [
    "DAYS_PER_MONTH",
    "as_list",
    "require_columns",
    "subject_index",
    "table_ledger",
    "with_row",
]

#: Days per month for month-scale times (365.25 / 12).
DAYS_PER_MONTH: float = 30.4375

# The day a row happened on, as the ledger's DAY.
_LEDGER_TIME = {"assessments": "DAY", "adverse_events": "START_DAY", "subjects": None}


def with_row(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``frame`` with a 1-based ``ROW`` column (added if absent)."""
    out = frame.copy()
    if "ROW" not in out.columns:
        out["ROW"] = np.arange(1, len(out) + 1, dtype=np.int64)
    return out.reset_index(drop=True)


def as_list(columns: str | Sequence[str] | None) -> list[str]:
    """Return ``columns`` as a list (None -> [], a string -> [string])."""
    if columns is None:
        return []
    if isinstance(columns, str):
        return [columns]
    return list(columns)


def require_columns(frame: pd.DataFrame, columns: Iterable[str], table: str) -> None:
    """Raise one DataValidationError naming every required column ``frame`` lacks.

    Parameters
    ----------
    frame : DataFrame
        The table.
    columns : iterable of str
        Columns the caller needs.
    table : str
        Table name for the message, e.g. ``"assessments"``.

    Raises
    ------
    DataValidationError
        With one ``missing_column`` violation per absent column.
    """
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataValidationError(
            [Violation("missing_column", c, (), f"the {table} table needs column {c}")
             for c in missing]
        )


def subject_index(subjects: pd.DataFrame) -> pd.DataFrame:
    """Return the subjects table indexed by ``ID`` (with ``ROW``), IDs unique.

    Raises
    ------
    DataValidationError
        If an ID appears on more than one row.
    """
    subjects = with_row(subjects)
    require_columns(subjects, ["ID"], "subjects")
    dup = subjects["ID"].duplicated(keep=False)
    if dup.any():
        rows = tuple(int(r) for r in subjects.loc[dup, "ROW"])
        raise DataValidationError(
            [Violation("duplicate_id", "ID", rows, "the subjects table has one row per subject")]
        )
    return subjects.set_index("ID", drop=False)


def table_ledger(
    frame: pd.DataFrame,
    table: str,
    status: str | Sequence[str] | pd.Series,
    reason: str | Sequence[str] | pd.Series | None = "",
    time: str | None = None,
) -> ClinicalLedger:
    """Build the ledger of a clinical-table frame (``ROW`` and ``ID`` needed).

    ``DAY`` is the row's day (``DAY`` for assessments, ``START_DAY`` for
    adverse events, empty for subjects unless ``time`` names a column).

    Parameters
    ----------
    frame : DataFrame
        Rows considered.
    table : {"assessments", "adverse_events", "subjects"}
        Which clinical table the rows come from.
    status, reason
        As :meth:`blinapk.data.ClinicalLedger.from_reasons`.
    time : str, optional
        Column to use as ``DAY`` instead of the table's default.

    Returns
    -------
    ClinicalLedger
    """
    time_col = time or _LEDGER_TIME[table]
    day = time_col if time_col in frame.columns else None
    rows = frame.drop(columns=[c for c in ("DAY", "START_DAY") if c != day and c in frame],
                      errors="ignore")
    return ClinicalLedger.from_reasons(rows, status=status, reason=reason, table=table, day=day)
