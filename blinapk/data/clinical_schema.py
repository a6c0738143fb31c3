"""The three clinical tables: their columns, and loading one into a coerced table.

The subjects, assessments and adverse-event tables share the event table's
habits: case-insensitive column names, extra columns passed through, a ``ROW``
column with the 1-based source row, and an empty cell meaning "not done / not
known" (never zero). Loading never raises on bad *content*: the rules in
:mod:`blinapk.data.clinical_rules` report it, all at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from blinapk.data._load import (
    Loaded,
    Prepared,
    _blank,
    _coerce_numeric,
    _normalise_id,
    _take,
    load_source,
)
from blinapk.errors import Violation

__all__ = [
    "ADVERSE_EVENTS",
    "ASSESSMENTS",
    "SCHEMAS",
    "SUBJECTS",
    "TABLES",
    "ClinicalViolation",
    "TableSchema",
    "normalise_ids",
    "load_table",
]

#: Table names, in reading and reporting order (also the keywords of ``read_clinical``).
TABLES: tuple[str, ...] = ("subjects", "assessments", "adverse_events")


@dataclass(frozen=True)
class TableSchema:
    """The contract of one clinical table.

    Parameters
    ----------
    name : str
        Table name, one of :data:`TABLES`.
    columns : tuple of str
        Contract columns in output order (after ``ROW``); others are extras.
    required : tuple of str
        Columns that must be present (their cells may still be empty).
    numeric : tuple of str
        Columns coerced to float64 (non-numeric text is reported).
    text : tuple of str
        Columns kept as stripped text (read as text from a CSV file).
    never_missing : tuple of str
        Columns whose cells must not be empty.
    day : str or None
        Day column that orders a subject's rows (None: source order).
    upper, lower : tuple of str
        Text columns folded to upper / lower case.
    integer : tuple of str
        Numeric columns returned as int64 (they are also never missing).
    allow_no_rows : bool
        Whether a header without data rows is a valid table.
    """

    name: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    numeric: tuple[str, ...]
    text: tuple[str, ...]
    never_missing: tuple[str, ...]
    day: str | None = None
    upper: tuple[str, ...] = ()
    lower: tuple[str, ...] = ()
    integer: tuple[str, ...] = ()
    allow_no_rows: bool = False


_SUBJECT_DAYS = (
    "LAST_DOSE_DAY", "LAST_CONTACT_DAY", "DEATH_DAY", "RELAPSE_DAY", "HSCT_DAY",
)  # fmt: skip

SUBJECTS = TableSchema(
    name="subjects",
    columns=("ID", "ARM", "STUDY", "BLAST", "AGE", "SEX", "BSA", "WT", "LAST_DOSE_DAY",
             "LAST_CONTACT_DAY", "DEATH_DAY", "DEATH_CAUSE", "RELAPSE_DAY", "HSCT_DAY"),
    required=("ID", "LAST_DOSE_DAY", "LAST_CONTACT_DAY", "DEATH_DAY", "DEATH_CAUSE",
              "RELAPSE_DAY", "HSCT_DAY"),
    numeric=("BLAST", "AGE", "BSA", "WT", *_SUBJECT_DAYS),
    text=("ID", "ARM", "STUDY", "SEX", "DEATH_CAUSE"),
    never_missing=("ID",),
    lower=("DEATH_CAUSE",),
)  # fmt: skip

ASSESSMENTS = TableSchema(
    name="assessments",
    columns=("ID", "CYCLE", "DAY", "MARROW_BLAST", "CIRC_BLAST", "EXTRAMED", "PLT", "HGB",
             "ANC", "MRD"),
    required=("ID", "CYCLE", "DAY", "MARROW_BLAST", "CIRC_BLAST", "EXTRAMED", "PLT", "HGB",
              "ANC", "MRD"),
    numeric=("CYCLE", "DAY", "MARROW_BLAST", "CIRC_BLAST", "EXTRAMED", "PLT", "HGB", "ANC",
             "MRD"),
    text=("ID",),
    never_missing=("ID", "DAY"),
    day="DAY",
)  # fmt: skip

ADVERSE_EVENTS = TableSchema(
    name="adverse_events",
    columns=("ID", "TERM", "CATEGORY", "GRADE", "START_DAY", "END_DAY", "RELATED", "SERIOUS"),
    required=("ID", "TERM", "GRADE", "START_DAY"),
    numeric=("GRADE", "START_DAY", "END_DAY", "RELATED", "SERIOUS"),
    text=("ID", "TERM", "CATEGORY"),
    never_missing=("ID", "TERM", "GRADE", "START_DAY"),
    day="START_DAY",
    upper=("CATEGORY",),
    integer=("GRADE",),
    allow_no_rows=True,  # a study may report no adverse event at all
)  # fmt: skip

#: Schema of each table, by name.
SCHEMAS: Mapping[str, TableSchema] = {s.name: s for s in (SUBJECTS, ASSESSMENTS, ADVERSE_EVENTS)}


@dataclass(frozen=True)
class ClinicalViolation(Violation):
    """A :class:`~blinapk.errors.Violation` that also names its clinical table.

    ``rows`` are 1-based source rows of ``table``.

    Examples
    --------
    >>> print(ClinicalViolation("flag_values", "EXTRAMED", (4,), "EXTRAMED must be 0 or 1",
    ...                         table="assessments"))
    [flag_values] assessments column EXTRAMED, row(s) 4: EXTRAMED must be 0 or 1
    """

    table: str = ""

    def __str__(self) -> str:
        head = f"[{self.rule}] "
        return f"{head}{self.table} {super().__str__()[len(head) :]}"

    @classmethod
    def of(cls, violation: Violation, table: str) -> ClinicalViolation:
        """Return ``violation`` tagged with ``table``."""
        return cls(violation.rule, violation.column, violation.rows, violation.message, table)


def _text(s: pd.Series, fold: str | None) -> pd.Series:
    """Return stripped text; blank and missing-value spellings become missing."""
    codes, uniques = pd.factorize(s)
    text = pd.Series(uniques, dtype=object).astype("str").str.strip()
    if fold is not None:
        text = getattr(text.str, fold)()
    return _take(text.mask(_blank(text)), codes, s)


def _whole(x) -> bool:
    return isinstance(x, float | np.floating) and float(x).is_integer() and abs(x) < 2**53


def _whole_floats_to_int(s: pd.Series) -> pd.Series:
    """Whole-number float IDs as integers, so that they normalise like the integers they are.

    A DataFrame column ``[1.0, NaN, 2.0]`` or ``[1.0, "P-3"]`` would otherwise
    give the texts ``"1.0"`` and no longer match ``1`` in another table.
    """
    if s.dtype == object or (pd.api.types.is_float_dtype(s.dtype) and s.isna().any()):
        codes, uniques = pd.factorize(s)  # per distinct value, not per row
        if any(_whole(u) for u in uniques):
            fixed = np.array([int(u) if _whole(u) else u for u in uniques] + [None], dtype=object)
            return pd.Series(fixed[codes], index=s.index, name=s.name)  # code -1 -> None
    return s


def load_table(source: str | pd.DataFrame, schema: TableSchema) -> Prepared:
    """Load one clinical table and coerce its contract columns (source order).

    Parameters
    ----------
    source : str, Path or DataFrame
        CSV file or DataFrame (never mutated).
    schema : TableSchema
        The table's contract.

    Returns
    -------
    Prepared
        ``frame`` has float64 numeric columns, text columns and ``ROW``;
        ``non_numeric`` masks the cells holding text. IDs are normalised by
        :func:`normalise_ids`, over all tables at once.

    Raises
    ------
    DataValidationError
        If a CSV file cannot be parsed at all (rule ``csv_parse``).
    """
    loaded: Loaded = load_source(source, text_columns=schema.text)
    raw = loaded.frame
    frame = raw.copy(deep=False)
    non_numeric: dict[str, pd.Series] = {}
    for col in schema.numeric:
        if col in frame.columns:
            frame[col], bad = _coerce_numeric(raw[col])
            if bad is not None:
                non_numeric[col] = bad
    for col in schema.text:
        if col in frame.columns and col != "ID":
            fold = "upper" if col in schema.upper else "lower" if col in schema.lower else None
            frame[col] = _text(raw[col], fold)
    if "ID" in frame.columns:
        frame["ID"] = _whole_floats_to_int(raw["ID"])  # normalised by normalise_ids
    return Prepared(
        raw=raw,
        frame=frame,
        given=frozenset(raw.columns),
        non_numeric=non_numeric,
        table_issues=loaded.table_issues,
        had_columns=loaded.had_columns,
    )


def normalise_ids(tables: Mapping[str, Prepared]) -> dict[str, Prepared]:
    """Normalise the ``ID`` of every table together, as in one combined file.

    The event table's rule applies to the IDs of all tables at once: int64
    when every ID is an integer (``"7"``, ``7.0`` and ``7`` are one subject),
    otherwise text in every table, so that an ID matches across tables
    exactly when it would in one file (``"007"`` and ``7`` stay distinct).

    Parameters
    ----------
    tables : mapping of str to Prepared
        Loaded tables, by name.

    Returns
    -------
    dict of str to Prepared
        The same tables, with ``ID`` of one kind.
    """
    out = dict(tables)
    named = [name for name, p in tables.items() if "ID" in p.frame.columns]
    if not named:
        return out
    pieces = [tables[name].frame["ID"] for name in named]
    ids = _normalise_id(pd.concat([p.astype(object) for p in pieces], ignore_index=True))
    start = 0
    for name, piece in zip(named, pieces, strict=True):
        frame = tables[name].frame.copy(deep=False)
        frame["ID"] = ids.iloc[start : start + len(piece)].set_axis(piece.index)
        start += len(piece)
        out[name] = replace(tables[name], frame=frame)
    return out
