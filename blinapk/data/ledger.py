"""RowLedger: which input rows an analysis used, modified or excluded, and why.

Every analysis (NCA, popPK, ...) returns a ledger with one row per input row
it considered: every row left out is listed with its reason, and the
counts add up.

Examples
--------
>>> import pandas as pd
>>> obs = pd.DataFrame({"ROW": [3, 4, 5], "ID": [1, 1, 1], "TIME": [2.0, 6.0, 24.0],
...                     "DVID": ["BLIN"] * 3, "DV": [0.0, 40.0, 310.0]})
>>> ledger = RowLedger.from_reasons(
...     obs, status=["excluded", "modified", "used"],
...     reason=["pre-dose sample", "<LLOQ set to LLOQ/2", ""])
>>> ledger.check(obs)
>>> ledger.counts(by="status")
     STATUS  N
0      used  1
1  modified  1
2  excluded  1
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from blinapk.errors import BlinapkError

__all__ = ["LEDGER_COLUMNS", "STATUSES", "RowLedger"]

#: Allowed values of ``STATUS``, in reporting order.
STATUSES: tuple[str, ...] = ("used", "modified", "excluded")
#: Columns of a ledger table.
LEDGER_COLUMNS: tuple[str, ...] = ("ROW", "ID", "TIME", "DVID", "STATUS", "REASON")


def _per_row(value, n: int, name: str) -> np.ndarray:
    if isinstance(value, str) or value is None:
        return np.full(n, "" if value is None else value, dtype=object)
    arr = np.asarray(pd.Series(value).astype(object).where(pd.notna(pd.Series(value)), ""))
    if arr.shape != (n,):
        raise BlinapkError(f"RowLedger: {name} has {arr.size} values for {n} rows")
    return arr.astype(object)


def _problems(table: pd.DataFrame) -> list[str]:
    out = []
    status, reason = table["STATUS"], table["REASON"].str.strip()
    bad = ~status.isin(STATUSES)
    if bad.any():
        out.append(f"STATUS must be one of {STATUSES}; rows {table['ROW'][bad].tolist()[:10]}")
    used_with_reason = (status == "used") & (reason != "")
    if used_with_reason.any():
        rows = table["ROW"][used_with_reason].tolist()[:10]
        out.append(f"'used' rows carry a reason: rows {rows}")
    no_reason = status.isin(("modified", "excluded")) & (reason == "")
    if no_reason.any():
        rows = table["ROW"][no_reason].tolist()[:10]
        out.append(f"'modified'/'excluded' rows need a reason: rows {rows}")
    dup = table["ROW"].duplicated(keep=False)
    if dup.any():
        out.append(f"rows listed more than once: {sorted(set(table['ROW'][dup].tolist()))[:10]}")
    return out


@dataclass(frozen=True, eq=False)
class RowLedger:
    """Frozen table ``ROW, ID, TIME, DVID, STATUS, REASON``, one row per input row.

    ``STATUS`` is ``used``, ``modified`` (used after a rule changed the value,
    e.g. ``"<LOD set to 0"``) or ``excluded``; ``REASON`` is empty for ``used``
    and required otherwise. Build it with :meth:`from_reasons` or
    :meth:`concat`, not directly.

    Parameters
    ----------
    _table : DataFrame
        The ledger table (private; use :meth:`to_frame`).
    """

    _table: pd.DataFrame = field(repr=False)

    def __post_init__(self) -> None:
        problems = _problems(self._table)
        if problems:
            raise BlinapkError("invalid RowLedger: " + "; ".join(problems))

    @classmethod
    def from_reasons(
        cls,
        frame: pd.DataFrame,
        status: str | Sequence[str] | pd.Series,
        reason: str | Sequence[str] | pd.Series | None = "",
    ) -> RowLedger:
        """Build a ledger for the rows of ``frame``.

        Parameters
        ----------
        frame : DataFrame
            Rows considered, with ``ROW``, ``ID``, ``TIME`` and optionally
            ``DVID`` (empty when absent), e.g. ``dataset.observations()``.
        status : str or sequence of str
            One status for all rows, or one per row.
        reason : str or sequence of str, optional
            One reason for all rows, or one per row (None/NaN/"" = no reason).

        Returns
        -------
        RowLedger
            Sorted by ROW.

        Raises
        ------
        BlinapkError
            On an unknown status, a ``used`` row with a reason, a
            ``modified``/``excluded`` row without one, or a repeated ROW.
        """
        n = len(frame)
        missing = [c for c in ("ROW", "ID", "TIME") if c not in frame.columns]
        if missing:
            raise BlinapkError(f"RowLedger.from_reasons: frame lacks column(s) {missing}")
        dvid = frame["DVID"].to_numpy(dtype=object) if "DVID" in frame.columns else ""
        table = pd.DataFrame(
            {
                "ROW": frame["ROW"].to_numpy(dtype=np.int64),
                "ID": frame["ID"].to_numpy(),
                "TIME": frame["TIME"].to_numpy(dtype=np.float64),
                "DVID": pd.Series(_per_row(dvid, n, "DVID")).astype("str").to_numpy(),
                "STATUS": pd.Series(_per_row(status, n, "status")).astype("str").to_numpy(),
                "REASON": pd.Series(_per_row(reason, n, "reason")).astype("str").to_numpy(),
            }
        )
        return cls(table.sort_values("ROW", kind="stable").reset_index(drop=True))

    @classmethod
    def concat(cls, ledgers: Iterable[RowLedger]) -> RowLedger:
        """Join ledgers of disjoint row sets (e.g. one per analyte) into one.

        Parameters
        ----------
        ledgers : iterable of RowLedger
            Ledgers to join.

        Returns
        -------
        RowLedger
            Sorted by ROW.

        Raises
        ------
        BlinapkError
            If a ROW appears in more than one ledger.
        """
        tables = [lg._table for lg in ledgers]
        if not tables:
            return cls.empty()
        table = pd.concat(tables, ignore_index=True)
        return cls(table.sort_values("ROW", kind="stable").reset_index(drop=True))

    @classmethod
    def empty(cls) -> RowLedger:
        """Return a ledger with no rows."""
        return cls.from_reasons(pd.DataFrame({"ROW": [], "ID": [], "TIME": []}), "used")

    def __len__(self) -> int:
        return len(self._table)

    @property
    def n_in(self) -> int:
        """Number of input rows considered."""
        return len(self._table)

    def to_frame(self) -> pd.DataFrame:
        """Return the ledger table (a copy)."""
        return self._table.copy()

    def rows(self, status: str) -> pd.DataFrame:
        """Return the rows with the given ``status`` (a copy)."""
        if status not in STATUSES:
            raise BlinapkError(f"status must be one of {STATUSES}, got {status!r}")
        return self._table.loc[self._table["STATUS"] == status].reset_index(drop=True)

    def excluded(self) -> pd.DataFrame:
        """Return the excluded rows with their reasons (a copy)."""
        return self.rows("excluded")

    def modified(self) -> pd.DataFrame:
        """Return the modified rows with their reasons (a copy)."""
        return self.rows("modified")

    def counts(self, by: str = "reason") -> pd.DataFrame:
        """Count rows per status, or per status and reason.

        Parameters
        ----------
        by : {"reason", "status"}
            ``"status"``: one row per status (zeros included), columns
            ``STATUS, N``. ``"reason"``: one row per (status, reason) present,
            columns ``STATUS, REASON, N``, in status order then by decreasing N.

        Returns
        -------
        DataFrame
            The counts; ``N`` sums to :attr:`n_in`.
        """
        t = self._table
        if by == "status":
            n = t["STATUS"].value_counts().reindex(list(STATUSES), fill_value=0)
            return pd.DataFrame({"STATUS": list(STATUSES), "N": n.to_numpy(dtype=np.int64)})
        if by != "reason":
            raise BlinapkError(f"counts(by=...) must be 'reason' or 'status', got {by!r}")
        out = t.groupby(["STATUS", "REASON"], sort=False).size().rename("N").reset_index()
        out["_order"] = out["STATUS"].map({s: i for i, s in enumerate(STATUSES)})
        out = out.sort_values(["_order", "N", "REASON"], ascending=[True, False, True])
        return out.drop(columns="_order").reset_index(drop=True)

    def check(self, expected: pd.DataFrame | Iterable[int] | int | None = None) -> None:
        """Raise unless the counts add up.

        Verifies ``n_in == n_used + n_modified + n_excluded`` with valid
        statuses, reasons where needed and each ROW once; with ``expected``,
        also that the ledger covers exactly those input rows.

        Parameters
        ----------
        expected : DataFrame, iterable of int, int or None
            The input the analysis was given: a frame with ``ROW``, the ROW
            numbers, or just their number.

        Raises
        ------
        BlinapkError
            Naming what does not add up.
        """
        problems = _problems(self._table)
        counts = self.counts(by="status")
        if int(counts["N"].sum()) != self.n_in:
            problems.append("status counts do not sum to the number of rows")
        if expected is not None:
            if isinstance(expected, int | np.integer):
                if int(expected) != self.n_in:
                    problems.append(f"ledger has {self.n_in} rows, input had {int(expected)}")
            else:
                rows = expected["ROW"] if isinstance(expected, pd.DataFrame) else expected
                want = set(int(r) for r in rows)
                have = set(self._table["ROW"].tolist())
                if want - have:
                    problems.append(f"input rows not in the ledger: {sorted(want - have)[:10]}")
                if have - want:
                    problems.append(f"ledger rows not in the input: {sorted(have - want)[:10]}")
        if problems:
            raise BlinapkError("RowLedger does not add up: " + "; ".join(problems))
