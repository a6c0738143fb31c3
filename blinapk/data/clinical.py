"""The validated, frozen :class:`ClinicalData` returned by :func:`blinapk.data.read_clinical`."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

import numpy as np
import pandas as pd

from blinapk.data.clinical_schema import SCHEMAS, TABLES
from blinapk.data.dataset import frame_hash
from blinapk.data.ledger import ClinicalLedger
from blinapk.errors import BlinapkError

__all__ = ["ClinicalData"]


def _empty_table(name: str) -> pd.DataFrame:
    """Return a table with no row and the required columns (for a table not given)."""
    schema = SCHEMAS[name]
    cols: dict[str, pd.Series] = {"ROW": pd.Series(dtype=np.int64)}
    for col in schema.required:
        if col in schema.integer:
            cols[col] = pd.Series(dtype=np.int64)
        elif col in schema.numeric:
            cols[col] = pd.Series(dtype=np.float64)
        else:
            cols[col] = pd.Series(dtype="str")
    return pd.DataFrame(cols)


@dataclass(frozen=True, eq=False)
class ClinicalData:
    """Validated clinical tables: subjects, response assessments and adverse events.

    Built by :func:`blinapk.data.read_clinical`; do not construct it directly.
    Every accessor returns a copy, so the tables cannot be changed after
    reading. A table that was not given reads as an empty table with its
    required columns; :attr:`tables` lists the tables that were given.

    Parameters
    ----------
    _frames : Mapping[str, DataFrame]
        The validated, sorted tables that were given, by name (private).
    sources : Mapping[str, str]
        Where each given table came from (file path or ``"<DataFrame>"``).
    """

    _frames: Mapping[str, pd.DataFrame] = field(repr=False)
    sources: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self._frames) - set(TABLES))
        if unknown:
            raise BlinapkError(f"ClinicalData: unknown table(s) {unknown}; known: {TABLES}")
        object.__setattr__(self, "_frames", MappingProxyType(dict(self._frames)))
        object.__setattr__(self, "sources", MappingProxyType(dict(self.sources)))

    @property
    def tables(self) -> tuple[str, ...]:
        """Names of the tables that were given, in :data:`TABLES` order."""
        return tuple(t for t in TABLES if t in self._frames)

    def table(self, name: str) -> pd.DataFrame:
        """Return one table by name (a copy).

        Parameters
        ----------
        name : {"subjects", "assessments", "adverse_events"}
            Table name.

        Returns
        -------
        DataFrame
            ``ROW``, the contract columns present, then extra columns in source order.
        """
        if name not in TABLES:
            raise BlinapkError(f"unknown clinical table {name!r}; known: {TABLES}")
        frame = self._frames.get(name)
        return _empty_table(name) if frame is None else frame.copy(deep=False)

    @property
    def subjects(self) -> pd.DataFrame:
        """One row per subject, in source order (a copy)."""
        return self.table("subjects")

    @property
    def assessments(self) -> pd.DataFrame:
        """Response assessments by subject (subjects-table order), DAY, then ROW (a copy)."""
        return self.table("assessments")

    @property
    def adverse_events(self) -> pd.DataFrame:
        """Adverse events by subject (subjects-table order), START_DAY, then ROW (a copy)."""
        return self.table("adverse_events")

    @property
    def n_rows(self) -> Mapping[str, int]:
        """Number of rows of each given table."""
        return {t: len(self._frames[t]) for t in self.tables}

    @cached_property
    def ids(self) -> tuple:
        """Subject IDs: the subjects table's, else first appearance in the other tables."""
        if "subjects" in self._frames:
            return tuple(self._frames["subjects"]["ID"].tolist())
        seen = [self._frames[t]["ID"] for t in self.tables]
        return tuple(pd.unique(pd.concat(seen, ignore_index=True)).tolist()) if seen else ()

    @cached_property
    def subjects_without_assessments(self) -> tuple:
        """Subjects (of the subjects table) with no assessment; empty unless both were given."""
        if not {"subjects", "assessments"} <= set(self._frames):
            return ()
        seen = set(self._frames["assessments"]["ID"].tolist())
        return tuple(x for x in self.ids if x not in seen)

    @cached_property
    def hash(self) -> str:
        """sha256 over the given tables' canonical serialisations (see ``frame_hash``)."""
        h = hashlib.sha256(b"blinapk-clinical-v1\n")
        for name in self.tables:
            h.update(f"{name}\x1f{frame_hash(self._frames[name])}\n".encode())
        return h.hexdigest()

    def ledger(
        self,
        name: str,
        status: str | Sequence[str] | pd.Series,
        reason: str | Sequence[str] | pd.Series | None = "",
    ) -> ClinicalLedger:
        """Ledger of every row of table ``name`` (in table order) with its status and reason.

        Parameters
        ----------
        name : {"subjects", "assessments", "adverse_events"}
            Table whose rows the analysis considered.
        status, reason
            As in :meth:`ClinicalLedger.from_reasons`, one per row of
            ``self.table(name)`` or one for all.

        Returns
        -------
        ClinicalLedger
            Sorted by table and ROW.
        """
        return ClinicalLedger.from_reasons(self.table(name), status, reason, table=name)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{t}: {n} rows" for t, n in self.n_rows.items()) or "no table"
        return f"ClinicalData({sizes}; {len(self.ids)} subjects)"
