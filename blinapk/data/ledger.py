"""RowLedger: which input rows an analysis used, modified or excluded, and why.

Every analysis (NCA, popPK, ...) returns a ledger with one row per input row
it considered (every row left out is listed with its reason; counts add up).
:class:`RowLedger` describes event-table rows; :class:`ClinicalLedger` (same
checks and counts) describes rows of the clinical tables, which are keyed by
table and row.

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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd

from blinapk.data.clinical_schema import TABLES
from blinapk.errors import BlinapkError

__all__ = ["CLINICAL_LEDGER_COLUMNS", "LEDGER_COLUMNS", "STATUSES", "ClinicalLedger", "RowLedger"]

#: Allowed values of ``STATUS``, in reporting order.
STATUSES: tuple[str, ...] = ("used", "modified", "excluded")
#: Columns of a ledger table.
LEDGER_COLUMNS: tuple[str, ...] = ("ROW", "ID", "TIME", "DVID", "STATUS", "REASON")
#: Columns of a clinical ledger table.
CLINICAL_LEDGER_COLUMNS: tuple[str, ...] = ("TABLE", "ROW", "ID", "DAY", "STATUS", "REASON")


def _per_row(value, n: int, name: str) -> np.ndarray:
    if isinstance(value, str) or value is None:
        return np.full(n, "" if value is None else value, dtype=object)
    arr = np.asarray(pd.Series(value).astype(object).where(pd.notna(pd.Series(value)), ""))
    if arr.shape != (n,):
        raise BlinapkError(f"RowLedger: {name} has {arr.size} values for {n} rows")
    return arr.astype(object)


def _text_column(value, n: int, name: str):
    """One text per row (missing = ""), as a pandas string array.

    Text columns hold few distinct values (statuses, reasons, analytes), so
    the distinct ones are converted and then repeated: 10^6 rows in a few
    hundredths of a second instead of one Python string conversion per row.
    """
    if isinstance(value, str) or value is None:
        uniques, codes = ["" if value is None else value], np.zeros(n, dtype=np.intp)
    else:
        codes, uniques = pd.factorize(pd.Series(value), use_na_sentinel=True)
        if not all(isinstance(u, str) for u in uniques):
            # mixed types (1 == 1.0 == True factorise together): convert value by value
            return pd.Series(_per_row(value, n, name)).astype("str").array
        if codes.shape != (n,):
            raise BlinapkError(f"RowLedger: {name} has {codes.size} values for {n} rows")
        uniques, codes = [*uniques, ""], np.where(codes < 0, len(uniques), codes)
    # astype("str") as for a column of objects: the dtype of the pandas version installed
    return pd.Series(uniques, dtype=object).astype("str").array.take(codes)


def _status_reason(status, reason, n: int) -> dict[str, np.ndarray]:
    return {"STATUS": _text_column(status, n, "status"),
            "REASON": _text_column(reason, n, "reason")}


def _keys(table: pd.DataFrame, key: Sequence[str]) -> list:
    """Row keys: ROW numbers, or (TABLE, ROW) pairs for a multi-column key."""
    if len(key) == 1:
        return table[key[0]].tolist()
    return list(zip(*(table[c].tolist() for c in key), strict=True))


def _problems(table: pd.DataFrame, key: Sequence[str] = ("ROW",)) -> list[str]:
    out = []
    status, reason = table["STATUS"], table["REASON"].str.strip()
    bad = ~status.isin(STATUSES)
    if bad.any():
        out.append(f"STATUS must be one of {STATUSES}; rows {_keys(table[bad], key)[:10]}")
    used_with_reason = (status == "used") & (reason != "")
    if used_with_reason.any():
        rows = _keys(table[used_with_reason], key)[:10]
        out.append(f"'used' rows carry a reason: rows {rows}")
    no_reason = status.isin(("modified", "excluded")) & (reason == "")
    if no_reason.any():
        rows = _keys(table[no_reason], key)[:10]
        out.append(f"'modified'/'excluded' rows need a reason: rows {rows}")
    dup = table.duplicated(list(key), keep=False)
    if dup.any():
        out.append(f"rows listed more than once: {sorted(set(_keys(table[dup], key)))[:10]}")
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
    #: Columns that identify an input row (each key appears once in a ledger).
    KEY: ClassVar[tuple[str, ...]] = ("ROW",)

    def __post_init__(self) -> None:
        problems = _problems(self._table, self.KEY)
        if problems:
            raise BlinapkError(f"invalid {type(self).__name__}: " + "; ".join(problems))

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
        dvid = frame["DVID"] if "DVID" in frame.columns else ""
        table = pd.DataFrame(
            {
                "ROW": frame["ROW"].to_numpy(dtype=np.int64),
                "ID": frame["ID"].to_numpy(),
                "TIME": frame["TIME"].to_numpy(dtype=np.float64),
                "DVID": _text_column(dvid, n, "DVID"),
                **_status_reason(status, reason, n),
            }
        )
        return cls._sorted(table)

    @classmethod
    def _sorted(cls, table: pd.DataFrame) -> RowLedger:
        return cls(table.sort_values(list(cls.KEY), kind="stable").reset_index(drop=True))

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
            If a ROW appears in more than one ledger, or the ledgers are of
            different kinds (event-table and clinical).
        """
        ledgers = list(ledgers)
        if not ledgers:
            return cls.empty()
        if any(type(lg) is not cls for lg in ledgers):
            kinds = sorted({type(lg).__name__ for lg in ledgers})
            raise BlinapkError(f"{cls.__name__}.concat: cannot join ledgers of kinds {kinds}")
        return cls._sorted(pd.concat([lg._table for lg in ledgers], ignore_index=True))

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
        problems = _problems(self._table, self.KEY)
        counts = self.counts(by="status")
        if int(counts["N"].sum()) != self.n_in:
            problems.append("status counts do not sum to the number of rows")
        if expected is not None:
            if isinstance(expected, int | np.integer):
                if int(expected) != self.n_in:
                    problems.append(f"ledger has {self.n_in} rows, input had {int(expected)}")
            else:
                want = self._expected_keys(expected)
                have = set(_keys(self._table, self.KEY))
                if want - have:
                    problems.append(f"input rows not in the ledger: {sorted(want - have)[:10]}")
                if have - want:
                    problems.append(f"ledger rows not in the input: {sorted(have - want)[:10]}")
        if problems:
            raise BlinapkError(f"{type(self).__name__} does not add up: " + "; ".join(problems))

    @staticmethod
    def _expected_keys(expected: pd.DataFrame | Iterable[int]) -> set:
        rows = expected["ROW"] if isinstance(expected, pd.DataFrame) else expected
        return set(int(r) for r in rows)


@dataclass(frozen=True, eq=False)
class ClinicalLedger(RowLedger):
    """Frozen table ``TABLE, ROW, ID, DAY, STATUS, REASON``: the fate of clinical-table rows.

    The clinical counterpart of :class:`RowLedger`, with the same statuses,
    checks and counts. A row is identified by its table (``subjects``,
    ``assessments`` or ``adverse_events``) and its 1-based source ``ROW``;
    ``DAY`` is the assessment day or adverse-event onset (NaN for subjects).
    Build it with :meth:`from_reasons` or :meth:`concat`.

    Parameters
    ----------
    _table : DataFrame
        The ledger table (private; use :meth:`to_frame`).

    Examples
    --------
    >>> import pandas as pd
    >>> visits = pd.DataFrame({"ROW": [1, 2, 3], "ID": [7, 7, 8], "DAY": [29.0, 57, 29]})
    >>> led = ClinicalLedger.from_reasons(visits, ["used", "excluded", "used"],
    ...                                   ["", "after relapse", ""], table="assessments")
    >>> led.check({"assessments": visits})
    >>> led.excluded()
             TABLE  ROW  ID   DAY    STATUS         REASON
    0  assessments    2   7  57.0  excluded  after relapse
    """

    KEY: ClassVar[tuple[str, ...]] = ("TABLE", "ROW")

    @classmethod
    def from_reasons(
        cls,
        frame: pd.DataFrame,
        status: str | Sequence[str] | pd.Series,
        reason: str | Sequence[str] | pd.Series | None = "",
        *,
        table: str,
        day: str | None = None,
    ) -> ClinicalLedger:
        """Build a ledger for the rows of one clinical table.

        Parameters
        ----------
        frame : DataFrame
            Rows considered, with ``ROW`` and ``ID``, e.g. ``data.assessments``.
        status : str or sequence of str
            One status for all rows, or one per row.
        reason : str or sequence of str, optional
            One reason for all rows, or one per row (None/NaN/"" = no reason).
        table : str
            The table the rows come from.
        day : str, optional
            Column giving ``DAY``; default ``DAY``, else ``START_DAY``, else none (NaN).

        Returns
        -------
        ClinicalLedger
            Sorted by table, then ROW.

        Raises
        ------
        BlinapkError
            On an unknown table or status, a ``used`` row with a reason, a
            ``modified``/``excluded`` row without one, or a repeated row.
        """
        if table not in TABLES:
            raise BlinapkError(f"ClinicalLedger: table must be one of {TABLES}, got {table!r}")
        missing = [c for c in ("ROW", "ID", *([day] if day else [])) if c not in frame.columns]
        if missing:
            raise BlinapkError(f"ClinicalLedger.from_reasons: frame lacks column(s) {missing}")
        day = day or next((c for c in ("DAY", "START_DAY") if c in frame.columns), None)
        n = len(frame)
        out = pd.DataFrame(
            {
                "TABLE": pd.Series([table] * n, dtype="str").to_numpy(),
                "ROW": frame["ROW"].to_numpy(dtype=np.int64),
                "ID": frame["ID"].to_numpy(),
                "DAY": frame[day].to_numpy(dtype=np.float64) if day else np.full(n, np.nan),
                **_status_reason(status, reason, n),
            }
        )
        return cls._sorted(out)

    @classmethod
    def empty(cls) -> ClinicalLedger:
        """Return a ledger with no rows."""
        return cls.from_reasons(pd.DataFrame({"ROW": [], "ID": []}), "used", table=TABLES[0])

    @staticmethod
    def _expected_keys(expected) -> set:
        """Keys from a frame with TABLE and ROW, a {table: frame or ROWs} mapping, or pairs."""
        if isinstance(expected, pd.DataFrame):
            return set(zip(expected["TABLE"], (int(r) for r in expected["ROW"]), strict=True))
        if isinstance(expected, Mapping):
            out = set()
            for table, rows in expected.items():
                rows = rows["ROW"] if isinstance(rows, pd.DataFrame) else rows
                out |= {(table, int(r)) for r in rows}
            return out
        return {(t, int(r)) for t, r in expected}
