"""Map CDISC ADaM pharmacokinetic datasets (ADPC, ADPPK) onto the event-table contract.

A table is taken for ADaM when it has ``USUBJID`` but no ``ID``, or ``AVAL``
but no ``DV``. Each contract column that is absent is then filled from its
ADaM counterpart (:data:`ADAM_SOURCES`), units are taken from the ADaM unit
variables, and every step is recorded as a line of text, which
:func:`blinapk.data.read_dataset` keeps in ``Dataset.notes`` and
``blinapk validate`` prints. Contract columns already present are kept as
they are (an ADPPK file usually has ``EVID``, ``MDV``, ``AMT``).

=========  =======================================================
contract   ADaM source
=========  =======================================================
ID         ``USUBJID`` (else ``SUBJID``)
TIME       ``AFRLT`` (actual time from first dose), else ``NFRLT``
           (nominal); unit from ``AFRLTU``/``NFRLTU``/``RRLTU``
DV         ``AVAL``; unit from ``AVALU`` (rows in other units are converted)
DVID       ``PARAMCD``
AMT        ``AMT``, else 0; unit from ``DOSEU``/``AMTU``/``EXDOSU``
EVID       derived: 1 where ``AMT > 0``, else 0
MDV        derived: 1 on dose rows and where ``DV`` is missing
CENS       ``BLQFN`` (1/0) or ``BLQFL`` (``Y``)
WT/BSA/CRCL  ``WTBL``/``BSABL``/``CRCLBL``
=========  =======================================================

``ARELTM`` (time since the most recent dose) is not a contract time and is
refused when it is the only time; ADPC files carry no dose records, so the
doses must be added (``EVID 1`` rows with ``AMT`` and ``RATE``).

Examples
--------
>>> import pandas as pd
>>> adpc = pd.DataFrame({"USUBJID": ["S-1"] * 3, "AFRLT": [0.0, 24.0, 48.0],
...                      "AFRLTU": "HOURS", "AMT": [63.0, 0, 0], "RATE": [0.375, 0, 0],
...                      "AVAL": [None, 0.21, 0.25], "AVALU": [None, "ng/mL", "ng/mL"],
...                      "PARAMCD": ["", "BLIN", "BLIN"]})
>>> from blinapk.data import read_dataset
>>> ds = read_dataset(adpc)
>>> ds.observations()["DV"].tolist()  # ng/mL read as pg/mL
[210.0, 250.0]
>>> ds.notes[:2]
('ADaM input: mapped to the event table', 'ID <- USUBJID')
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np
import pandas as pd

from blinapk.errors import DataValidationError, UnitError, Violation
from blinapk.units import conversion_factor, normalise_unit

__all__ = ["ADAM_SOURCES", "is_adam", "map_adam"]

#: contract column -> ADaM variables it is taken from, in order of preference.
ADAM_SOURCES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "ID": ("USUBJID", "SUBJID"),
    "TIME": ("AFRLT", "NFRLT"),
    "DV": ("AVAL",),
    "DVID": ("PARAMCD",),
    "WT": ("WTBL",),
    "BSA": ("BSABL",),
    "CRCL": ("CRCLBL",),
})
_TIME_UNIT = ("AFRLTU", "NFRLTU", "RRLTU")
_AMT_UNIT = ("DOSEU", "AMTU", "EXDOSU")


def is_adam(columns) -> bool:
    """Tell whether upper-case ``columns`` look like an ADaM PK dataset."""
    cols = set(columns)
    return ("USUBJID" in cols and "ID" not in cols) or ("AVAL" in cols and "DV" not in cols)


def _fail(message: str, column: str | None = None) -> DataValidationError:
    return DataValidationError([Violation("adam_mapping", column, (), message)])


def _one_unit(frame: pd.DataFrame, columns: tuple[str, ...], kind: str) -> tuple[str, str] | None:
    """Return ``(column, unit)``: the single unit of the first unit column present."""
    for col in columns:
        if col not in frame.columns:
            continue
        values = frame[col].dropna().astype(str).str.strip()
        values = sorted(set(values[values != ""]))
        if not values:
            continue
        units = {_unit(kind, v, col) for v in values}
        if len(units) > 1:
            raise _fail(f"{col} holds several units {values}: convert to one unit first", col)
        return col, units.pop()
    return None


def _unit(kind: str, text: str, col: str) -> str:
    try:
        return normalise_unit(kind, text)
    except UnitError as exc:
        raise _fail(f"{col}: {exc}", col) from None


def _convert_dv(frame: pd.DataFrame, notes: list[str]) -> str | None:
    """Return the DV unit declared by AVALU; rows in another unit are converted to it."""
    if "AVALU" not in frame.columns:
        return None
    text = frame["AVALU"].astype("string").str.strip()
    given = text.notna() & (text != "")
    if not given.any():
        return None
    counts = text[given].value_counts()
    units = {u: _unit("dv", u, "AVALU") for u in counts.index}
    main = units[counts.index[0]]
    others = sorted({u for u in units.values() if u != main})
    if others:
        num0, den0 = conversion_factor("dv", main)
        factor = np.ones(len(frame))
        for raw, unit in units.items():
            num, den = conversion_factor("dv", unit)
            factor[(text == raw).fillna(False).to_numpy(dtype=bool)] = num * den0 / (den * num0)
        dv = pd.to_numeric(frame["DV"], errors="coerce")
        converted = dv.notna().to_numpy() & (factor != 1)
        frame["DV"] = frame["DV"].where(~converted, dv * factor)
        notes.append(f"AVALU: {int(converted.sum())} value(s) in {', '.join(others)} "
                     f"converted to {main}")
    return main


def map_adam(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str], tuple[str, ...]]:
    """Fill the contract columns of an ADaM table (see the module docstring).

    Parameters
    ----------
    frame : DataFrame
        Upper-case columns and ``ROW`` (:func:`blinapk.data._load.load_source`).

    Returns
    -------
    frame : DataFrame
        A new frame with the contract columns added (ADaM columns kept).
    units : dict
        Units declared by the ADaM unit variables (keys ``dv``, ``time``, ``amt``).
    notes : tuple of str
        One line per mapping step.

    Raises
    ------
    DataValidationError
        Rule ``adam_mapping``: no usable time, or mixed or unknown units.
    """
    f = frame.copy()
    notes = ["ADaM input: mapped to the event table"]
    units: dict[str, str] = {}
    for target, sources in ADAM_SOURCES.items():
        if target in f.columns:
            continue
        src = next((s for s in sources if s in f.columns), None)
        if src is None:
            continue
        f[target] = f[src].astype("string").str.strip().str.upper() if target == "DVID" else f[src]
        notes.append(f"{target} <- {src}" + (" (nominal times)" if src == "NFRLT" else ""))
    if "TIME" not in f.columns:
        rel = [c for c in ("ARELTM", "NRELTM") if c in f.columns]
        hint = (f"{rel[0]} is the time since the most recent dose; " if rel else "")
        raise _fail(f"no time since first dose: {hint}give AFRLT (actual time from first dose) "
                    "or NFRLT", "TIME")
    dv_unit = _convert_dv(f, notes) if "DV" in f.columns else None
    for kind, unit in (("dv", dv_unit), ("time", _one_unit(f, _TIME_UNIT, "time")),
                       ("amt", _one_unit(f, _AMT_UNIT, "amt"))):
        if unit is None:
            continue
        col, value = ("AVALU", unit) if kind == "dv" else unit
        units[kind] = value
        notes.append(f"{kind} unit {value} (from {col})")
    amt = pd.to_numeric(f["AMT"], errors="coerce") if "AMT" in f.columns else None
    if amt is None:
        f["AMT"] = 0.0
        notes.append("AMT = 0 (no dose column: add the dose records, EVID 1 with AMT and RATE)")
    if "EVID" not in f.columns:
        f["EVID"] = np.where((amt if amt is not None else pd.Series(0.0, index=f.index)) > 0,
                             1, 0)
        notes.append("EVID derived: 1 where AMT > 0, else 0")
    evid = pd.to_numeric(f["EVID"], errors="coerce")
    if "RATE" not in f.columns and not (evid == 1).any():
        f["RATE"] = 0.0
    if "MDV" not in f.columns:
        dv = pd.to_numeric(f["DV"], errors="coerce") if "DV" in f.columns else None
        f["MDV"] = np.where((evid != 0) | (dv.isna() if dv is not None else True), 1, 0)
        notes.append("MDV derived: 1 on dose rows and where AVAL is missing")
    if "CENS" not in f.columns:
        if "BLQFN" in f.columns:
            f["CENS"] = f["BLQFN"]
            notes.append("CENS <- BLQFN")
        elif "BLQFL" in f.columns:
            flag = f["BLQFL"].astype("string").str.strip().str.upper().fillna("")
            f["CENS"] = flag.eq("Y").astype(int)
            notes.append("CENS <- BLQFL (Y = 1)")
    return f, units, tuple(notes)
