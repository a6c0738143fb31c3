"""Read, validate and write the clinical tables (docs/clinical_data.md).

:func:`read_clinical`, :func:`validate_clinical` and :func:`write_clinical`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from blinapk.data._load import Prepared
from blinapk.data.clinical import ClinicalData
from blinapk.data.clinical_rules import run_clinical_rules
from blinapk.data.clinical_schema import (
    SCHEMAS,
    TABLES,
    ClinicalViolation,
    load_table,
    normalise_ids,
)
from blinapk.data.dataset import Dataset
from blinapk.errors import DataValidationError, DataWarning, Violation

__all__ = ["read_clinical", "validate_clinical", "write_clinical"]

Source = str | Path | pd.DataFrame


def _load_all(sources: Mapping[str, Source | None]):
    """Load the given tables; a file that does not parse is a violation, not a stop."""
    given = {k: v for k, v in sources.items() if v is not None}
    if not given:
        return {}, [Violation("no_table", None, (), f"give at least one of {', '.join(TABLES)}")]
    tables: dict[str, Prepared] = {}
    problems: list[Violation] = []
    for name, source in given.items():
        try:
            tables[name] = load_table(source, SCHEMAS[name])
        except DataValidationError as exc:
            problems += [ClinicalViolation.of(v, name) for v in exc.violations]
    tables = normalise_ids(tables)
    return tables, problems + run_clinical_rules(tables)


def validate_clinical(
    subjects: Source | None = None,
    assessments: Source | None = None,
    adverse_events: Source | None = None,
) -> list[Violation]:
    """Check clinical tables against every rule without raising.

    Parameters
    ----------
    subjects, assessments, adverse_events : str, Path or DataFrame, optional
        The tables to check (CSV file or DataFrame, never mutated).

    Returns
    -------
    list of Violation
        Every violation found (each names its ``table``); empty when valid.

    Examples
    --------
    >>> import pandas as pd
    >>> ae = pd.DataFrame({"ID": [1, 1], "TERM": ["Pyrexia", "Cytokine release syndrome"],
    ...                    "GRADE": [2, 6], "START_DAY": [1, 2]})
    >>> [(v.table, v.rule, v.column, v.rows) for v in validate_clinical(adverse_events=ae)]
    [('adverse_events', 'grade_values', 'GRADE', (2,))]
    """
    return _load_all(
        {"subjects": subjects, "assessments": assessments, "adverse_events": adverse_events}
    )[1]


def _order(frame: pd.DataFrame, subject_order: pd.Index, day: str | None) -> pd.DataFrame:
    by_row = frame.sort_values("ROW", kind="stable")
    if day is None:
        return by_row.reset_index(drop=True)
    order = subject_order.append(pd.Index(by_row["ID"])).unique()
    code = order.get_indexer(frame["ID"])
    idx = np.lexsort((frame["ROW"].to_numpy(), frame[day].to_numpy(), code))
    return frame.iloc[idx].reset_index(drop=True)


def _finalise(p: Prepared, name: str, subject_order: pd.Index) -> pd.DataFrame:
    schema = SCHEMAS[name]
    f = p.frame.copy(deep=False)
    for col in schema.integer:
        f[col] = f[col].astype(np.int64)
    head = ["ROW", *(c for c in schema.columns if c in f.columns)]
    f = f[head + [c for c in f.columns if c not in head]]
    return _order(f, subject_order, schema.day)


def _as_text(ids) -> set:
    return {str(x) for x in ids}


def _id_warnings(data: ClinicalData, dataset: Dataset) -> list[str]:
    clinical, event = list(data.ids), list(dataset.subjects)
    if any(isinstance(x, str) for x in clinical + event):
        # one side has text IDs: compare as the text a combined file would hold
        clinical, event = _as_text(clinical), _as_text(event)
    only_clinical = [x for x in dict.fromkeys(clinical) if x not in set(event)]
    only_event = [x for x in dict.fromkeys(event) if x not in set(clinical)]
    out = []
    if only_clinical:
        out.append(
            f"{len(only_clinical)} subject(s) of the clinical tables have no row in the "
            f"event table (no PK data): {_first(only_clinical)}"
        )
    if only_event:
        out.append(
            f"{len(only_event)} subject(s) of the event table have no row in the clinical "
            f"tables: {_first(only_event)}"
        )
    return out


def _first(ids: list, n: int = 10) -> str:
    shown = ", ".join(repr(x) for x in ids[:n])
    return shown + (f" (+{len(ids) - n} more)" if len(ids) > n else "")


def read_clinical(
    subjects: Source | None = None,
    assessments: Source | None = None,
    adverse_events: Source | None = None,
    *,
    dataset: Dataset | None = None,
) -> ClinicalData:
    """Read and validate the clinical tables (each optional; at least one).

    Parameters
    ----------
    subjects, assessments, adverse_events : str, Path or DataFrame, optional
        CSV file (UTF-8; ``.`` and blank cells are missing) or DataFrame, never
        mutated. Column names are case-insensitive; extra columns are kept.
    dataset : Dataset, optional
        The event table of the same study: subjects present on one side only
        are listed in a :class:`~blinapk.errors.DataWarning`.

    Returns
    -------
    ClinicalData
        Frozen, sorted tables with a ``ROW`` column (1-based source row).

    Raises
    ------
    DataValidationError
        Listing every broken rule with its table, column and 1-based source rows.

    Warns
    -----
    DataWarning
        For subjects without any assessment, and for IDs missing from
        ``dataset`` or from the clinical tables.

    Examples
    --------
    >>> import pandas as pd
    >>> subjects = pd.DataFrame({"id": [1, 2], "last_dose_day": [28, 14],
    ...     "last_contact_day": [180, 60], "death_day": [None, 60],
    ...     "death_cause": [None, "Progression"], "relapse_day": [None, 43],
    ...     "hsct_day": [90, None]})
    >>> visits = pd.DataFrame({"ID": [2, 1, 1, 2], "CYCLE": [1, 1, 2, 2],
    ...     "DAY": [29, 29, 71, 43], "MARROW_BLAST": [3.0, 1, 0.5, 12],
    ...     "CIRC_BLAST": [0, 0, 0, 1], "EXTRAMED": [0, 0, 0, 0],
    ...     "PLT": [120e3, 150e3, 210e3, 40e3], "HGB": [10.5, 11.2, 12.0, 8.1],
    ...     "ANC": [1500, 2100, 2500, 400], "MRD": [1e-3, None, 1e-5, None]})
    >>> data = read_clinical(subjects, visits)
    >>> data
    ClinicalData(subjects: 2 rows, assessments: 4 rows; 2 subjects)
    >>> data.assessments[["ROW", "ID", "CYCLE", "DAY", "MARROW_BLAST", "MRD"]]
       ROW  ID  CYCLE   DAY  MARROW_BLAST      MRD
    0    2   1    1.0  29.0           1.0      NaN
    1    3   1    2.0  71.0           0.5  0.00001
    2    1   2    1.0  29.0           3.0  0.00100
    3    4   2    2.0  43.0          12.0      NaN
    >>> data.subjects["DEATH_CAUSE"].tolist()
    [nan, 'progression']
    """
    named = {"subjects": subjects, "assessments": assessments, "adverse_events": adverse_events}
    tables, violations = _load_all(named)
    if violations:
        raise DataValidationError(violations)
    subject_order = pd.Index([], dtype=object)
    if "subjects" in tables:
        subject_order = pd.Index(_finalise(tables["subjects"], "subjects", subject_order)["ID"])
    frames = {name: _finalise(p, name, subject_order) for name, p in tables.items()}
    data = ClinicalData(
        _frames=frames,
        sources={
            k: "<DataFrame>" if isinstance(v, pd.DataFrame) else str(Path(v))
            for k, v in named.items()
            if v is not None
        },
    )
    messages = []
    if data.subjects_without_assessments:
        missing = list(data.subjects_without_assessments)
        messages.append(f"{len(missing)} subject(s) have no response assessment: {_first(missing)}")
    if dataset is not None:
        messages += _id_warnings(data, dataset)
    for msg in messages:
        warnings.warn(msg, DataWarning, stacklevel=2)
    return data


def _integral(s: pd.Series) -> bool:
    v = s.to_numpy(dtype=np.float64)
    v = v[~np.isnan(v)]
    return bool(np.isfinite(v).all() and (v == np.floor(v)).all() and (np.abs(v) < 2**53).all())


def write_clinical(data: ClinicalData, directory: str | Path) -> dict[str, Path]:
    """Write the given tables as ``<table>.csv`` files, so that reading them back is lossless.

    Rows are written in source order (``ROW``), and ``ROW`` only when it is not
    ``1..n``; numeric contract columns holding whole numbers only are written
    without a decimal point (``29``, not ``29.0``); empty cells stay empty.

    Parameters
    ----------
    data : ClinicalData
        Tables to write (only the tables that were given are written).
    directory : str or Path
        Output directory (created if needed); files of the same name are overwritten.

    Returns
    -------
    dict of str to Path
        File per table name; ``read_clinical(**write_clinical(data, d))`` reads them back.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    for name in data.tables:
        schema = SCHEMAS[name]
        frame = data.table(name).sort_values("ROW", kind="stable").reset_index(drop=True)
        if np.array_equal(frame["ROW"].to_numpy(), np.arange(1, len(frame) + 1)):
            frame = frame.drop(columns="ROW")
        for col in schema.numeric:
            if col in frame.columns and _integral(frame[col]):
                frame[col] = frame[col].astype("Int64")
        path = directory / f"{name}.csv"
        frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
        out[name] = path
    return out
