"""Read and validate a dataset: :func:`read_dataset` and :func:`validate_frame`."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from blinapk.data._load import Prepared, limit_in_unit, load_source, prepare
from blinapk.data._source import CsvOptions
from blinapk.data.adam import is_adam, map_adam
from blinapk.data.assays import AssayLimits, build_registry
from blinapk.data.dataset import CANONICAL_ORDER, Dataset
from blinapk.data.heuristics import unit_warnings
from blinapk.data.ledger import RowLedger
from blinapk.data.rules import RULES, run_rules
from blinapk.dosing.addl import ADDL_SOURCE, expand_addl
from blinapk.errors import DataValidationError, DataWarning, Violation
from blinapk.units import Units, read_units_file, sidecar_path

__all__ = ["read_dataset", "validate_frame"]

#: Columns converted with each declared unit.
UNIT_COLUMNS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"time": ("TIME", "NOMTIME", "II"), "amt": ("AMT",), "rate": ("RATE",),
     "dv": ("DV", "LLOQ", "LOD")}
)

DvidSpec = Mapping[str, Mapping[str, float] | AssayLimits]


@dataclass(frozen=True)
class _Checked:
    prepared: Prepared
    units: Units
    registry: Mapping[str, AssayLimits]
    violations: tuple[Violation, ...]
    source: str


def _resolve_units(source, units, hints: Mapping[str, str]) -> Units:
    declared: dict[str, str] = dict(hints)
    if not isinstance(source, pd.DataFrame):
        side = sidecar_path(source)
        if side is not None:
            declared.update(read_units_file(side))
    if isinstance(units, Units):
        return units
    declared.update({str(k).strip().lower(): v for k, v in dict(units or {}).items()})
    return Units.from_mapping(declared)


def _check(source, units, dvids, options: CsvOptions) -> _Checked:
    loaded = load_source(source, options=options, comments=True)
    hints: dict[str, str] = {}
    if loaded.had_columns and is_adam(loaded.frame.columns):
        frame, hints, notes = map_adam(loaded.frame)
        loaded = replace(loaded, frame=frame, notes=(*loaded.notes, *notes))
    declared = _resolve_units(source, units, hints)
    registry = build_registry(dvids, declared.dv)
    prepared = prepare(loaded, registry, declared.dv)
    violations = tuple(run_rules(prepared, RULES))
    name = "<DataFrame>" if isinstance(source, pd.DataFrame) else str(Path(source))
    return _Checked(prepared, declared, registry, violations, name)


def validate_frame(
    source: str | Path | pd.DataFrame,
    *,
    units: Mapping[str, str] | Units | None = None,
    dvids: DvidSpec | None = None,
    sep: str = ",",
    decimal: str = ".",
    encoding: str | None = None,
) -> list[Violation]:
    """Check a dataset against every rule in :data:`blinapk.data.RULES` without raising.

    Parameters
    ----------
    source : str, Path or DataFrame
        CSV file or DataFrame (never mutated).
    units : mapping or Units, optional
        Declared units (keys ``amt``, ``rate``, ``dv``, ``time``); they only
        matter for filling default LLOQ/LOD.
    dvids : mapping, optional
        Extra analytes, ``{"CRP": {"lloq": 0.3, "lod": 0.1}}`` (declared DV unit).
    sep, decimal, encoding
        How a CSV file is written (as :func:`read_dataset`).

    Returns
    -------
    list of Violation
        Every violation found; empty when the dataset is valid.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"ID": [1, 1], "TIME": [0.0, 2.0], "EVID": [1, 0], "AMT": [0.0, 0],
    ...                    "RATE": [1.0, 0], "DV": [0, 300.0], "MDV": [1, 0]})
    >>> [(v.rule, v.column, v.rows) for v in validate_frame(df)]
    [('dose_amount', 'AMT', (1,))]
    """
    return list(_check(source, units, dvids, CsvOptions(sep, decimal, encoding)).violations)


def _expand_doses(f: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Write out ADDL/II doses as rows, with a note saying how many.

    ADDL is 0 afterwards, so that a file written from the dataset is not expanded twice.
    """
    if "ADDL" not in f.columns or not (f["ADDL"].fillna(0) > 0).any():
        return f, ""
    extra = expand_addl(f.loc[f["ADDL"].fillna(0) > 0], first_row=int(f["ROW"].max()) + 1)
    n_src = int((f["ADDL"].fillna(0) > 0).sum())
    f = f.assign(ADDL=0.0, **{ADDL_SOURCE: np.zeros(len(f), dtype=np.int64)})
    f = pd.concat([f, extra.astype(f.dtypes.to_dict())], ignore_index=True)
    return f, (f"ADDL/II: {len(extra)} additional dose record(s) written out from {n_src} "
               f"record(s) (ROW {int(extra['ROW'].min())} on; {ADDL_SOURCE} names the source row)")


def _finalise(prepared: Prepared, declared: Units) -> tuple[pd.DataFrame, str]:
    f = prepared.frame.copy(deep=False)
    obs = (f["EVID"] == 0).to_numpy()
    derived = obs & (f["DV"] < f["LLOQ"]).to_numpy()
    if "CENS" in f.columns:
        cens = f["CENS"].fillna(pd.Series(derived.astype(np.float64), index=f.index))
    else:
        cens = pd.Series(derived, index=f.index)
    f["CENS"] = cens.astype(np.int64)
    not_dose = (f["EVID"] != 1).to_numpy()
    for col in ("AMT", "RATE"):
        f[col] = f[col].mask(not_dose & f[col].isna().to_numpy(), 0.0)
    for col in ("EVID", "MDV"):
        f[col] = f[col].astype(np.int64)
    f, note = _expand_doses(f)
    for kind, cols in UNIT_COLUMNS.items():
        num, den = declared.factor(kind)
        if (num, den) == (1, 1):
            continue
        for col in cols:
            if col in f.columns:
                f[col] = f[col] * num / den
    order = [c for c in CANONICAL_ORDER if c in f.columns]
    f = f[order + [c for c in f.columns if c not in order]]
    keys = (pd.factorize(f["ID"])[0], f["TIME"].to_numpy(),
            np.where(f["EVID"].to_numpy() == 1, 0, 1), f["ROW"].to_numpy())
    if _in_order(keys):  # the usual file: a linear check instead of a sort and a copy
        return f.reset_index(drop=True), note
    idx = np.lexsort(keys[::-1])
    return f.iloc[idx].reset_index(drop=True), note


def _in_order(keys: tuple[np.ndarray, ...]) -> bool:
    """Whether the rows are strictly increasing in ``keys`` compared lexicographically."""
    later = np.zeros(len(keys[0]) - 1 if len(keys[0]) else 0, bool)
    tied = np.ones_like(later)
    for k in keys:
        step = np.diff(k)
        later |= tied & (step > 0)
        tied &= step == 0
    return bool(later.all())


def _internal_registry(registry: Mapping[str, AssayLimits]) -> Mapping[str, AssayLimits]:
    return MappingProxyType(
        {
            k: replace(
                v,
                lloq=limit_in_unit(v, "lloq", "pg/mL"),
                lod=limit_in_unit(v, "lod", "pg/mL"),
                unit="pg/mL",
            )
            for k, v in registry.items()
        }
    )


def _skipped(prepared: Prepared) -> RowLedger:
    s = prepared.skipped
    if s is None or not len(s):
        return RowLedger.empty()
    return RowLedger.from_reasons(s, "excluded", s["REASON"])


def read_dataset(
    source: str | Path | pd.DataFrame,
    *,
    units: Mapping[str, str] | Units | None = None,
    dvids: DvidSpec | None = None,
    sep: str = ",",
    decimal: str = ".",
    encoding: str | None = None,
) -> Dataset:
    """Read, validate and convert a NONMEM-style dataset (docs/data_format.md).

    NONMEM records are honoured: ``ADDL``/``II`` doses are written out as dose
    records (:func:`blinapk.dosing.expand_addl`), ``SS`` is refused, comment
    records (a first field starting with ``#``; ``C`` in a ``C`` column) are
    left out and listed in ``Dataset.skipped``. A CDISC ADaM table (ADPC,
    ADPPK) is mapped onto the contract first (:mod:`blinapk.data.adam`); the
    mapping is reported in ``Dataset.notes``.

    Parameters
    ----------
    source : str, Path or DataFrame
        CSV file (``.`` and blank cells are missing) or DataFrame. A
        DataFrame is never mutated. Column names are case-insensitive.
    units : mapping or Units, optional
        Declared units with keys ``amt``, ``rate``, ``dv``, ``time`` (see
        :mod:`blinapk.units`). For a CSV file, a sidecar ``<stem>.units.toml``
        (or ``<name>.units.toml``) next to it is read first and ``units``
        overrides it key by key. Defaults: ug, AMT-unit per TIME-unit, pg/mL, h.
    dvids : mapping, optional
        Extra analytes and their default limits in the declared DV unit, e.g.
        ``{"CRP": {"lloq": 0.3, "lod": 0.1}}``; may override a seed analyte.
    sep : str, default ","
        Field separator of a CSV file (``";"`` for files with decimal commas).
    decimal : str, default "."
        Decimal mark of a CSV file (``","`` for decimal commas).
    encoding : str, optional
        Text encoding of a CSV file; by default UTF-8 (with or without a
        byte-order mark) or UTF-16/32 with a byte-order mark.

    Returns
    -------
    Dataset
        Frozen, sorted, in internal units (TIME h, AMT ug, RATE ug/h, DV pg/mL).

    Raises
    ------
    DataValidationError
        Listing every broken rule with its column and 1-based source rows, or
        naming why the file cannot be read (missing, not CSV, encoding,
        separator), with what to do.
    UnitError
        On an unknown unit or a malformed sidecar.

    Warns
    -----
    DataWarning
        When the values suggest a unit mistake (see :mod:`blinapk.data.heuristics`).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"id": [1, 1, 1], "time": [0.0, 24.0, 24.0], "evid": [1, 0, 1],
    ...                    "amt": [28.0, 0, 28.0], "rate": [28 / 24, 0, 28 / 24],
    ...                    "dv": [0, 0.55, 0], "mdv": [1, 0, 1]})
    >>> ds = read_dataset(df, units={"dv": "ng/mL"})
    >>> ds.frame[["ROW", "TIME", "EVID", "DV", "DVID", "LLOQ", "CENS"]]
       ROW  TIME  EVID     DV  DVID  LLOQ  CENS
    0    1   0.0     1    0.0  BLIN  50.0     0
    1    3  24.0     1    0.0  BLIN  50.0     0
    2    2  24.0     0  550.0  BLIN  50.0     0
    """
    checked = _check(source, units, dvids, CsvOptions(sep, decimal, encoding))
    if checked.violations:
        raise DataValidationError(checked.violations)
    frame, note = _finalise(checked.prepared, checked.units)
    for msg in unit_warnings(frame, checked.units):
        warnings.warn(msg, DataWarning, stacklevel=2)
    return Dataset(
        _frame=frame,
        declared_units=checked.units,
        dvids=_internal_registry(checked.registry),
        source=checked.source,
        skipped=_skipped(checked.prepared),
        notes=(*checked.prepared.notes, *((note,) if note else ())),
    )
