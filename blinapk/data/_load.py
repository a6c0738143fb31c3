"""Load a CSV file or DataFrame into a normalised, type-coerced table.

Nothing here raises on bad *content*: problems are recorded for the rules in
:mod:`blinapk.data.rules`, so that every violation is reported at once.
Only unreadable files raise here (:mod:`blinapk.data._source`: missing, not
CSV, wrong encoding or separator, CSV syntax errors). NONMEM comment records
are left out and returned in ``Loaded.skipped``.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from blinapk.data._source import CsvOptions, Source, read_source
from blinapk.data.assays import DEFAULT_DVID, AssayLimits
from blinapk.errors import DataValidationError, Violation
from blinapk.units import conversion_factor

__all__ = [
    "CONTRACT_NUMERIC",
    "REQUIRED",
    "Loaded",
    "Prepared",
    "load_source",
    "prepare",
]

#: Required columns (docs/data_format.md).
REQUIRED: tuple[str, ...] = ("ID", "TIME", "EVID", "AMT", "RATE", "DV", "MDV")

#: Contract columns that must hold numbers when present.
CONTRACT_NUMERIC: tuple[str, ...] = (
    "TIME", "EVID", "AMT", "RATE", "DV", "MDV", "LLOQ", "LOD", "CENS",
    "BSA", "WT", "AGE", "CRCL", "BLAST", "CYCLE", "NOMTIME", "ADDL", "II", "SS",
)  # fmt: skip

#: Extra strings read as missing besides pandas' defaults ("." is NONMEM's missing value).
NA_VALUES = (".",)
_MISSING_TEXT = frozenset({"", ".", "nan", "na", "n/a", "none", "null", "<na>"})
_INT_LIKE = r"[+-]?\d+(?:\.0*)?"


@dataclass(frozen=True)
class Loaded:
    """The source as a frame with upper-case columns and a ``ROW`` column."""

    frame: pd.DataFrame
    path: Path | None
    table_issues: tuple[Violation, ...] = ()
    had_columns: bool = True
    skipped: pd.DataFrame | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Prepared:
    """Coerced table (declared units, source order) plus what rules need to know."""

    raw: pd.DataFrame
    frame: pd.DataFrame
    given: frozenset[str]
    non_numeric: Mapping[str, pd.Series] = field(default_factory=dict)
    blank_dvid: pd.Series | None = None
    table_issues: tuple[Violation, ...] = ()
    had_columns: bool = True
    known_dvids: frozenset[str] = frozenset()
    skipped: pd.DataFrame | None = None
    notes: tuple[str, ...] = ()


def _read_csv(path: Path, text_columns: Collection[str], options: CsvOptions, comments: bool
              ) -> tuple[pd.DataFrame, list[str], Source]:
    """Parse a CSV file into a frame with integer column labels, plus its header names."""
    src = read_source(path, options, comments=comments)
    names = src.names
    if not names:
        return pd.DataFrame(), [], src
    as_text = {i: "str" for i, n in enumerate(names) if n.strip().upper() in text_columns}
    try:
        with warnings.catch_warnings():
            # a data line with more fields than the header would silently shift or drop values
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.BytesIO(src.data),
                header=None,
                skiprows=1,
                names=list(range(len(names))),
                dtype=as_text,
                na_values=list(NA_VALUES),
                encoding="utf-8-sig",
                sep=options.sep,
                decimal=options.decimal,
                skip_blank_lines=True,
                index_col=False,
                on_bad_lines="error",
            )
    except (
        pd.errors.ParserError,
        pd.errors.ParserWarning,
        ValueError,
        UnicodeDecodeError,
    ) as exc:
        raise DataValidationError(
            [Violation("csv_parse", None, (), _parse_message(path.name, str(exc), src, options))]
        ) from exc
    return frame, names, src


def _parse_message(name: str, text: str, src: Source, options: CsvOptions) -> str:
    if src.line_of is not None:  # lines were removed: name the line of the file
        def real(m: re.Match) -> str:
            k = int(m.group(1))
            return f"line {src.line_of[k - 1] if 0 < k <= len(src.line_of) else k}"

        text = re.sub(r"line (\d+)", real, text)
    hint = ""
    if "Expected" in text and options.sep == "," and options.decimal == ".":
        hint = (" (a decimal comma in a comma-separated file splits a number in two: write "
                "decimal points, or separate fields with ';' and pass sep=';', decimal=',')")
    return f"cannot parse {name}: {text.strip()}{hint}"


def _comments_ledger(src: Source, names: list[str]) -> pd.DataFrame:
    """Comment records removed from a file: ROW, ID (first field when it is ID), REASON."""
    first_is_id = bool(names) and names[0].strip().upper() == "ID"
    return pd.DataFrame({
        "ROW": np.array([r for r, _, _ in src.skipped], dtype=np.int64),
        "ID": [f if first_is_id else "" for _, f, _ in src.skipped],
        "TIME": np.full(len(src.skipped), np.nan),
        "REASON": [why for _, _, why in src.skipped],
    })


def _comment_column(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, list[Violation]]:
    """Honour a NONMEM ``C`` column: drop it, and the rows it flags as comments."""
    if "C" not in frame.columns:
        return frame, _EMPTY_SKIPPED, []
    text = frame["C"].astype("string").str.strip().fillna("")
    comment = text.str.upper().str.startswith("C") | text.str.startswith("#")
    data = text.isin(["", ".", "0", "0.0"]) | frame["C"].isna()
    bad = ~(comment | data)
    issues = []
    if bad.any():
        rows = tuple(int(r) for r in frame.loc[bad, "ROW"])
        shown = ", ".join(f"row {r}: {v!r}" for r, v in zip(rows[:5], text[bad][:5], strict=False))
        issues.append(Violation("comment_flag", "C", rows,
                                "the NONMEM comment column C must hold C or # (skip the row) or "
                                f"be blank, '.' or 0 (use the row) ({shown})"))
    gone = frame.loc[comment.to_numpy(dtype=bool)]
    skipped = pd.DataFrame({
        "ROW": gone["ROW"].to_numpy(dtype=np.int64),
        "ID": gone["ID"].astype("string").fillna("").to_numpy(dtype=object)
        if "ID" in gone.columns else np.full(len(gone), "", dtype=object),
        "TIME": pd.to_numeric(gone["TIME"], errors="coerce").to_numpy(dtype=float)
        if "TIME" in gone.columns else np.full(len(gone), np.nan),
        "REASON": "comment record (C column)",
    })
    kept = frame.loc[~comment.to_numpy(dtype=bool)].drop(columns="C").reset_index(drop=True)
    return kept, skipped, issues


_EMPTY_SKIPPED = pd.DataFrame({"ROW": np.zeros(0, np.int64), "ID": np.zeros(0, object),
                               "TIME": np.zeros(0), "REASON": np.zeros(0, object)})


def load_source(
    source: str | Path | pd.DataFrame,
    text_columns: Collection[str] = ("ID", "DVID"),
    *,
    options: CsvOptions | None = None,
    comments: bool = False,
) -> Loaded:
    """Read ``source`` into a frame with stripped upper-case columns and ``ROW``.

    Parameters
    ----------
    source : str, Path or DataFrame
        CSV file or DataFrame (never mutated).
    text_columns : collection of str
        Upper-case names of the columns a CSV file is read as text (so that
        ``007`` or ``1.10`` keep their spelling until the caller normalises them).
    options : CsvOptions, optional
        Separator, decimal mark and encoding of a CSV file.
    comments : bool, default False
        Honour NONMEM comment records (lines whose first field starts with
        ``#`` or is ``C``, and a ``C`` column); they are left out of the frame
        and listed in ``Loaded.skipped``.

    Returns
    -------
    Loaded
        Frame in source order plus table-level issues (duplicate columns, bad ROW).

    Raises
    ------
    DataValidationError
        If the file cannot be read as CSV at all (rules ``file_not_found``,
        ``not_csv``, ``csv_parse``, ``csv_separator``).
    """
    path = None
    options = options or CsvOptions()
    skipped = _EMPTY_SKIPPED
    notes: tuple[str, ...] = ()
    rows_given = None
    if isinstance(source, pd.DataFrame):
        frame = source.copy(deep=False)
        names = [str(c) for c in source.columns]
        frame.columns = pd.RangeIndex(len(names))
    elif isinstance(source, str | Path):
        path = Path(source)
        frame, names, src = _read_csv(path, {*text_columns, *(("C",) if comments else ())},
                                      options, comments)
        notes = src.notes
        if not names:
            return Loaded(pd.DataFrame({"ROW": np.zeros(0, np.int64)}), path, (), False,
                          notes=notes)
        skipped = _comments_ledger(src, names)
        rows_given = src.rows
    else:
        raise TypeError(f"source must be a path or a DataFrame, got {type(source).__name__}")

    upper = [n.strip().upper() for n in names]
    issues: list[Violation] = []
    keep: list[int] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(upper):
        if name in seen:
            issues.append(
                Violation(
                    "duplicate_column",
                    name,
                    (),
                    f"column {names[i]!r} duplicates {names[seen[name]]!r} "
                    "(names are case-insensitive); the later one was ignored",
                )
            )
        else:
            seen[name] = i
            keep.append(i)
    frame = frame.iloc[:, keep]
    frame.columns = [upper[i] for i in keep]
    frame = frame.reset_index(drop=True)
    n = len(frame)
    if "ROW" in frame.columns:
        row = pd.to_numeric(frame["ROW"], errors="coerce")
        ok = row.notna() & np.isfinite(row) & (row >= 1) & (row == np.floor(row))
        if not ok.all() or row.duplicated().any():
            bad = np.flatnonzero(~ok.to_numpy() | row.duplicated(keep=False).to_numpy()) + 1
            issues.append(
                Violation(
                    "row_column",
                    "ROW",
                    tuple(int(b) for b in bad),
                    "ROW is reserved for the source row number and must hold unique integers "
                    ">= 1 (it is honoured when present, e.g. for a frame taken from a Dataset); "
                    "rows are numbered by position here",
                )
            )
            rows = np.arange(1, n + 1, dtype=np.int64)
        else:
            rows = row.to_numpy(dtype=np.int64)
        frame = frame.drop(columns="ROW")
    else:
        rows = np.arange(1, n + 1, dtype=np.int64) if rows_given is None else rows_given
    frame.insert(0, "ROW", rows)
    if comments:
        frame, flagged, flag_issues = _comment_column(frame)
        issues += flag_issues
        if len(flagged):
            skipped = pd.concat([skipped, flagged], ignore_index=True)
            notes = (*notes, f"{len(flagged)} row(s) flagged as comments in column C skipped")
    return Loaded(frame, path, tuple(issues), True, skipped=skipped, notes=notes)


def _blank(s: pd.Series) -> pd.Series:
    """Missing or blank-text cells."""
    out = s.isna()
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        cand = ~out
        if cand.any():
            text = s[cand].astype(str).str.strip().str.lower()
            out = out.copy()
            out[cand] = text.isin(_MISSING_TEXT).to_numpy()
    return out


def _coerce_numeric(s: pd.Series) -> tuple[pd.Series, pd.Series | None]:
    """Float64 version of ``s`` and the mask of cells holding non-numeric text."""
    kind = getattr(s.dtype, "kind", "O")
    if kind in "mMc" or isinstance(s.dtype, pd.DatetimeTZDtype | pd.PeriodDtype):
        # datetimes / timedeltas would become nanosecond counts and complex numbers would
        # lose their imaginary part: both are silent corruptions, so the cells are refused
        return pd.Series(np.nan, index=s.index, dtype=np.float64), s.notna()
    if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
        return s.astype(np.float64), None
    num = pd.to_numeric(s, errors="coerce").astype(np.float64)
    cand = num.isna() & s.notna()
    if not cand.any():
        return num, None
    bad = cand.copy()
    bad[cand] = ~_blank(s[cand]).to_numpy()
    return num, (bad if bad.any() else None)


def _normalise_id(s: pd.Series) -> pd.Series:
    """IDs: int64 when every ID is an integer that fits, else (stripped) text."""
    if pd.api.types.is_integer_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        if s.dtype == np.uint64 and (s > np.iinfo(np.int64).max).any():
            return s.astype(str).astype("str")
        return s.astype(np.int64)
    if pd.api.types.is_float_dtype(s.dtype):
        v = s.to_numpy()
        if np.isfinite(v).all() and (v == np.floor(v)).all() and (np.abs(v) < 2**53).all():
            return s.astype(np.int64)
        return s.map(lambda x: repr(float(x)) if not math.isnan(x) else x).astype("str")
    # work on the distinct values only: a 10^6-row table has few subjects
    codes, uniques = pd.factorize(s)
    text = pd.Series(uniques).astype("str").str.strip()
    text = text.mask(text == "")
    missing = (codes < 0).any() or text.isna().any()
    if not missing and len(text) and text.str.fullmatch(_INT_LIKE).all():
        digits = text.str.replace(r"\.0*$", "", regex=True)
        try:
            ints = np.array(digits.to_numpy(dtype=object), dtype=np.int64)
        except (OverflowError, ValueError):
            ints = None
        if ints is not None and pd.unique(ints).size == pd.unique(text.to_numpy()).size:
            return pd.Series(ints[codes], index=s.index, name=s.name)
    return _take(text, codes, s)


def _take(values: pd.Series, codes: np.ndarray, like: pd.Series) -> pd.Series:
    """Expand per-distinct-value ``values`` back to rows (code -1 = missing)."""
    arr = values.to_numpy(dtype=object)
    out = np.empty(len(codes), dtype=object)
    ok = codes >= 0
    out[ok] = arr[codes[ok]]
    out[~ok] = None
    return pd.Series(out, index=like.index, name=like.name).astype("str")


def _normalise_dvid(s: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(s.dtype):
        v = s.to_numpy()
        ok = np.isfinite(v) & (v == np.floor(v))
        s = pd.Series(
            np.where(ok, np.where(ok, v, 0).astype(np.int64).astype(str), s.astype(str)),
            index=s.index,
        ).where(s.notna())
    codes, uniques = pd.factorize(s)
    text = pd.Series(uniques, dtype=object).astype("str").str.strip().str.upper()
    return _take(text.mask(text == ""), codes, s)


def limit_in_unit(limits: AssayLimits, which: str, dv_unit: str) -> float:
    """Return ``limits.lloq`` or ``limits.lod`` expressed in ``dv_unit``."""
    value = getattr(limits, which)
    if limits.unit == dv_unit:
        return float(value)
    num_from, den_from = conversion_factor("dv", limits.unit)
    num_to, den_to = conversion_factor("dv", dv_unit)
    return float(value) * num_from * den_to / (den_from * num_to)


def prepare(loaded: Loaded, registry: Mapping[str, AssayLimits], dv_unit: str) -> Prepared:
    """Coerce types and fill DVID / LLOQ / LOD defaults (still declared units, source order).

    Parameters
    ----------
    loaded : Loaded
        Output of :func:`load_source`.
    registry : mapping
        Known analytes and their limits.
    dv_unit : str
        Declared DV unit (seed limits are converted into it).

    Returns
    -------
    Prepared
        The coerced frame and what the rules need (non-numeric masks, blank DVIDs).
    """
    raw = loaded.frame
    given = frozenset(raw.columns)
    frame = raw.copy(deep=False)
    non_numeric: dict[str, pd.Series] = {}
    for col in CONTRACT_NUMERIC:
        if col in frame.columns:
            frame[col], bad = _coerce_numeric(raw[col])
            if bad is not None:
                non_numeric[col] = bad
    if "ID" in frame.columns:
        frame["ID"] = _normalise_id(raw["ID"])
    n = len(frame)
    blank_dvid = None
    if "DVID" in frame.columns:
        dvid = _normalise_dvid(raw["DVID"])
        missing = dvid.isna()
        if "EVID" in frame.columns:
            on_obs = (frame["EVID"] == 0).to_numpy()
        else:
            on_obs = np.ones(n, bool)
        blank_dvid = missing & on_obs
        frame["DVID"] = dvid.where(~(missing & ~on_obs), DEFAULT_DVID).astype("str")
    else:
        frame["DVID"] = pd.Series(
            pd.Series([DEFAULT_DVID], dtype="str").array.take(np.zeros(n, dtype=np.intp)))
    for col in ("LLOQ", "LOD"):
        default = pd.Series(
            {k: limit_in_unit(v, col.lower(), dv_unit) for k, v in registry.items()},
            dtype=np.float64,
        )
        codes, uniques = pd.factorize(frame["DVID"])
        per = default.reindex(uniques).to_numpy(dtype=np.float64)
        filled = np.where(codes >= 0, per[np.maximum(codes, 0)], np.nan)
        filler = pd.Series(filled, index=frame.index)
        if col in frame.columns:
            frame[col] = frame[col].fillna(filler)
        else:
            frame[col] = filler
    return Prepared(
        raw=raw,
        frame=frame,
        given=given,
        non_numeric=non_numeric,
        blank_dvid=blank_dvid,
        table_issues=loaded.table_issues,
        had_columns=loaded.had_columns,
        known_dvids=frozenset(registry),
        skipped=loaded.skipped,
        notes=loaded.notes,
    )
