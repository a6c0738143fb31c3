"""Validation rules of the dataset contract, as data.

Each :class:`Rule` is a name, a one-line description, the columns it needs and
a vectorised check returning :class:`~blinapk.errors.Violation` objects that
name the column and the 1-based source rows. :data:`RULES` is the ordered
tuple the reader runs; every violation of every rule is collected and raised
together as one :class:`~blinapk.errors.DataValidationError`.
A rule whose columns are missing is skipped (``missing_column`` reports them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from blinapk.data._load import REQUIRED, Prepared
from blinapk.errors import Violation

__all__ = ["RULES", "Rule", "run_rules"]

_SHOW = 5


@dataclass(frozen=True)
class Rule:
    """One rule of the dataset contract.

    Parameters
    ----------
    name : str
        Machine-readable name, used as ``Violation.rule``.
    description : str
        What the rule requires, in one sentence.
    check : callable
        ``check(prepared) -> iterable of Violation`` (vectorised, no per-row loops).
    columns : tuple of str
        Columns the check needs; the rule is skipped when one is absent.
    """

    name: str
    description: str
    check: Callable[[Prepared], Iterable[Violation]]
    columns: tuple[str, ...] = ()

    def __call__(self, prepared: Prepared) -> list[Violation]:
        """Run the check, or return no violation when a needed column is missing."""
        if any(c not in prepared.frame.columns for c in self.columns):
            return []
        return list(self.check(prepared))


def _plain(x):
    """Python scalar for messages (``7``, not ``np.int64(7)``)."""
    return x.item() if isinstance(x, np.generic) else x


def _rows(frame: pd.DataFrame, mask: pd.Series | np.ndarray) -> tuple[int, ...]:
    return tuple(int(r) for r in np.sort(frame["ROW"].to_numpy()[np.asarray(mask, dtype=bool)]))


def _examples(frame: pd.DataFrame, mask, col: str, source: pd.DataFrame | None = None) -> str:
    src = frame if source is None else source
    sel = src.loc[np.asarray(mask, dtype=bool), ["ROW", col]].sort_values("ROW").head(_SHOW)
    shown = ", ".join(
        f"row {int(r)}: {_plain(v)!r}" for r, v in zip(sel["ROW"], sel[col], strict=True)
    )
    return shown + (" ..." if int(np.asarray(mask, dtype=bool).sum()) > _SHOW else "")


def _violation(name, p: Prepared, col, mask, message, show=True) -> list[Violation]:
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return []
    if show:
        message = f"{message} ({_examples(p.frame, mask, col, p.raw if col in p.raw else None)})"
    return [Violation(name, col, _rows(p.frame, mask), message)]


def _obs(p: Prepared) -> np.ndarray:
    return (p.frame["EVID"] == 0).to_numpy()


def _dose(p: Prepared) -> np.ndarray:
    return (p.frame["EVID"] == 1).to_numpy()


# --- table-level -----------------------------------------------------------------


def _check_empty(p: Prepared):
    if len(p.frame) == 0:
        what = "header only, no data rows" if p.had_columns else "empty file (no header)"
        yield Violation("empty", None, (), f"the dataset has no data rows: {what}")


def _table_issue(name: str):
    def check(p: Prepared):
        return [v for v in p.table_issues if v.rule == name]

    return check


def _required(columns: Sequence[str]):
    """Check factory: each of ``columns`` is present (shared with the clinical tables)."""

    def check(p: Prepared):
        if not p.had_columns:
            return
        for col in columns:
            if col not in p.given:
                yield Violation(
                    "missing_column", col, (), f"required column {col} is missing (columns "
                    f"present: {', '.join(c for c in p.raw.columns if c != 'ROW') or 'none'})"
                )

    return check


def _check_empty_column(p: Prepared):
    if len(p.raw) == 0:
        return
    for col in p.raw.columns:
        if col == "ROW":
            continue
        s = p.raw[col]
        nonnull = s.dropna()
        if len(nonnull) and not (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)):
            continue
        if len(nonnull) and str(nonnull.iloc[0]).strip():
            continue
        if len(nonnull) == 0 or nonnull.astype(str).str.strip().eq("").all():
            yield Violation(
                "empty_column", col, (), f"column {col} is entirely empty; fill it or remove it"
            )


# --- cell-level --------------------------------------------------------------------


_DECIMAL_COMMA = r"\s*[+-]?\d*,\d+\s*"
_CLOCK = r"\s*(\d{4}-\d{2}-\d{2}|\d{1,2}[/.]\d{1,2}[/.]\d{2,4})?[ T]?(\d{1,2}:\d{2}(:\d{2})?)?\s*"


def _hint(col: str, values: pd.Series) -> str:
    """Return what probably went wrong, from the offending cells ("" when unclear)."""
    kind = getattr(values.dtype, "kind", "O")
    if kind == "M" or isinstance(values.dtype, pd.DatetimeTZDtype):
        text = pd.Series(["2024-01-01 08:00"])
    else:
        text = values.astype("string").fillna("")
    if len(text) and text.str.fullmatch(_DECIMAL_COMMA).all():
        return "; decimal commas? Write decimal points, or pass decimal=',' (--decimal ,)"
    if col in ("TIME", "NOMTIME") and len(text) and (
        text.str.fullmatch(_CLOCK) & text.str.contains(r"[:/-]")
    ).all():
        return ("; clock times or dates are not times: TIME is hours since the subject's first "
                "dose (compute date-time minus first-dose date-time, in hours)")
    return ""


def _check_non_numeric(p: Prepared):
    for col, bad in p.non_numeric.items():
        cells = p.raw.loc[np.asarray(bad, dtype=bool), col] if col in p.raw else pd.Series([])
        yield from _violation(
            "non_numeric", p, col, bad,
            f"{col} must be numeric; found text or a non-real value{_hint(col, cells)}"
        )


def _never_missing(columns: Sequence[str]):
    """Check factory: no cell of ``columns`` is empty (text cells are ``non_numeric``'s)."""

    def check(p: Prepared):
        for col in columns:
            if col not in p.frame.columns:
                continue
            miss = p.frame[col].isna().to_numpy()
            if col in p.non_numeric:
                miss = miss & ~p.non_numeric[col].to_numpy()
            yield from _violation(
                "missing_value", p, col, miss, f"{col} must not be missing", False
            )

    return check


def _check_non_finite(p: Prepared):
    for col in p.frame.columns:
        s = p.frame[col]
        if col == "ROW" or not pd.api.types.is_float_dtype(s.dtype):
            continue
        yield from _violation("non_finite", p, col, np.isinf(s.to_numpy()), f"{col} is infinite")


def _check_negative(p: Prepared):
    f = p.frame
    for col in ("TIME", "AMT", "RATE", "LLOQ", "LOD", "II"):
        if col in f.columns:
            neg = (f[col] < 0).to_numpy()
            extra = " (NONMEM modelled rates -1/-2 are not supported)" if col == "RATE" else ""
            yield from _violation("negative", p, col, neg, f"{col} must be >= 0{extra}")
    if "DV" in f.columns and "MDV" in f.columns:
        neg = ((f["DV"] < 0) & (f["MDV"] == 0)).to_numpy()
        yield from _violation("negative", p, "DV", neg, "DV must be >= 0 where MDV == 0")
    # covariates (missing is allowed; 0 is left to the model that uses the covariate)
    for col in ("BSA", "WT", "AGE", "CRCL", "BLAST"):
        if col in f.columns:
            bad = (f[col] < 0).to_numpy()
            yield from _violation("negative", p, col, bad, f"{col} must be >= 0 when given")


def _check_time_decreasing(p: Prepared):
    f = p.frame
    prev = f.groupby("ID", sort=False)["TIME"].shift()
    bad = (f["TIME"] < prev).to_numpy()
    if bad.any():
        sel = np.flatnonzero(bad)[:_SHOW]
        shown = ", ".join(
            f"row {int(f['ROW'].iat[i])}: ID {_plain(f['ID'].iat[i])!r} TIME {f['TIME'].iat[i]:g} "
            f"after {prev.iat[i]:g}"
            for i in sel
        )
        more = " ..." if bad.sum() > _SHOW else ""
        yield Violation(
            "time_decreasing",
            "TIME",
            _rows(f, bad),
            f"TIME decreases within a subject (in file order) ({shown}{more})",
        )


def _in_set(s: pd.Series, allowed: Sequence[int]) -> np.ndarray:
    return s.isin(list(allowed)).to_numpy()


def _check_evid(p: Prepared):
    f = p.frame
    bad = ~_in_set(f["EVID"], (0, 1, 2)) & f["EVID"].notna().to_numpy()
    yield from _violation("evid_values", p, "EVID", bad, "EVID must be 0, 1 or 2")


def _check_mdv(p: Prepared):
    bad = ~_in_set(p.frame["MDV"], (0, 1))
    if "MDV" in p.non_numeric:
        bad = bad & ~p.non_numeric["MDV"].to_numpy()
    yield from _violation("mdv_values", p, "MDV", bad, "MDV must be 0 or 1")


def _check_mdv_non_obs(p: Prepared):
    f = p.frame
    bad = ((f["MDV"] == 0) & f["EVID"].isin([1, 2])).to_numpy()
    yield from _violation(
        "mdv_non_observation", p, "MDV", bad, "MDV must be 1 on dose (EVID 1) and EVID 2 rows"
    )


def _check_missing_dv(p: Prepared):
    f = p.frame
    bad = _obs(p) & (f["MDV"] == 0).to_numpy() & f["DV"].isna().to_numpy()
    if "DV" in p.non_numeric:
        bad = bad & ~p.non_numeric["DV"].to_numpy()
    yield from _violation(
        "missing_dv", p, "DV", bad, "observation with MDV == 0 has no DV (set MDV = 1)", False
    )


def _check_dose_amount(p: Prepared):
    f = p.frame
    bad = _dose(p) & ~(f["AMT"] > 0).to_numpy()
    if "AMT" in p.non_numeric:
        bad = bad & ~p.non_numeric["AMT"].to_numpy()
    yield from _violation("dose_amount", p, "AMT", bad, "dose rows (EVID 1) need AMT > 0")
    # NM-TRAN refuses dosing information on an observation record; ignoring it would
    # silently lose a dose that was coded with the wrong EVID
    stray = f["EVID"].isin([0, 2]).to_numpy() & (f["AMT"] > 0).to_numpy()
    yield from _violation(
        "dose_amount", p, "AMT", stray,
        "AMT > 0 on a non-dose row (EVID 0 or 2): a dose coded with the wrong EVID? "
        "Set EVID 1 for a dose, AMT 0 otherwise",
    )


def _check_dose_rate(p: Prepared):
    bad = _dose(p) & p.frame["RATE"].isna().to_numpy()
    if "RATE" in p.non_numeric:
        bad = bad & ~p.non_numeric["RATE"].to_numpy()
    yield from _violation(
        "dose_rate_missing", p, "RATE", bad, "dose rows need RATE (0 for a bolus)", False
    )


def _check_dvid(p: Prepared):
    known = p.known_dvids
    dvid = p.frame["DVID"]
    unknown = (dvid.notna() & ~dvid.isin(sorted(known))).to_numpy()
    if unknown.any():
        names = sorted(set(dvid[unknown]))
        yield from _violation(
            "unknown_dvid",
            p,
            "DVID",
            unknown,
            f"unknown DVID {names}; known: {sorted(known)} (register others with "
            "read_dataset(..., dvids={'NAME': {'lloq': x, 'lod': y}}))",
            False,
        )
    if p.blank_dvid is not None:
        yield from _violation(
            "unknown_dvid", p, "DVID", p.blank_dvid, "observation rows need a DVID", False
        )


def _check_cens_values(p: Prepared):
    s = p.frame["CENS"]
    bad = s.notna().to_numpy() & ~_in_set(s, (0, 1))
    yield from _violation("cens_values", p, "CENS", bad, "CENS must be 0 or 1")
    if "EVID" in p.frame.columns:
        stray = (s == 1).to_numpy() & p.frame["EVID"].isin([1, 2]).to_numpy()
        yield from _violation(
            "cens_values", p, "CENS", stray, "CENS == 1 on a dose or other-event row (EVID 1/2)"
        )


def _check_cens_above(p: Prepared):
    f = p.frame
    bad = ((f["CENS"] == 1) & (f["DV"] > f["LLOQ"])).to_numpy()
    if bad.any():
        sel = f.loc[bad].head(_SHOW)
        shown = ", ".join(
            f"row {int(r)}: DV {d:g} > LLOQ {q:g}"
            for r, d, q in zip(sel["ROW"], sel["DV"], sel["LLOQ"], strict=True)
        )
        yield Violation(
            "cens_above_lloq", "DV", _rows(f, bad), f"CENS == 1 but DV is above LLOQ ({shown})"
        )


def _check_lod_lloq(p: Prepared):
    f = p.frame
    bad = (f["LOD"] > f["LLOQ"]).to_numpy()
    yield from _violation("lod_above_lloq", p, "LOD", bad, "LOD must not exceed LLOQ", False)


def _full_duplicates(f: pd.DataFrame, keep: str | bool = "first") -> np.ndarray:
    """Rows identical (except ROW) to another row; hashed first, then confirmed exactly."""
    body = f.drop(columns="ROW")
    if len(body) == 0:
        return np.zeros(0, bool)
    out = np.zeros(len(f), bool)
    if {"ID", "TIME"} <= set(body.columns):
        # identical rows share ID and TIME: only rows that share them are hashed in full
        shared = body[["ID", "TIME"]].duplicated(keep=False).to_numpy()
        if not shared.any():
            return out
        if not shared.all():
            out[np.flatnonzero(shared)] = _full_duplicates(f.loc[shared], keep)
            return out
    hashed = pd.util.hash_pandas_object(body, index=False)
    cand = hashed.duplicated(keep=False).to_numpy()
    if cand.any():
        out[np.flatnonzero(cand)] = body.loc[cand].duplicated(keep=keep).to_numpy()
    return out


def _has_bad_cell(p: Prepared) -> np.ndarray:
    """Rows with a non-numeric cell: their coerced NaN would make unequal rows look equal."""
    out = np.zeros(len(p.frame), bool)
    for bad in p.non_numeric.values():
        out |= np.asarray(bad, dtype=bool)
    return out


def _check_duplicate_row(p: Prepared):
    f = p.frame.loc[~_has_bad_cell(p)]
    later = _full_duplicates(f)
    if not later.any():
        return
    cols = [c for c in f.columns if c != "ROW"]
    involved = f.loc[_full_duplicates(f, keep=False)]
    first = involved.groupby(cols, dropna=False, sort=False)["ROW"].transform("first")
    pairs = [
        f"row {int(r)} = row {int(q)}"
        for r, q in zip(involved["ROW"], first, strict=True)
        if r != q
    ][:_SHOW]
    yield Violation(
        "duplicate_row", None, _rows(f, later), f"identical rows ({', '.join(pairs)})"
    )


def _check_duplicate_dose(p: Prepared):
    f = p.frame
    dose = _dose(p) & ~_has_bad_cell(p)
    doses = f.loc[dose]
    cand = ~_full_duplicates(doses)
    sub = doses.loc[cand, ["ID", "TIME", "AMT", "RATE"]]
    dup = sub.duplicated(keep=False)
    if dup.any():
        mask = np.zeros(len(f), bool)
        mask[np.flatnonzero(dose)[np.flatnonzero(cand)[dup.to_numpy()]]] = True
        yield Violation(
            "duplicate_dose",
            "AMT",
            _rows(f, mask),
            "dose rows with the same ID, TIME, AMT and RATE (a duplicated dose record)",
        )


#: Largest ADDL accepted on one record (a daily dose for 270 years): a guard against a typo
#: that would expand into millions of rows.
MAX_ADDL = 100_000


def _addl(p: Prepared) -> tuple[np.ndarray, np.ndarray]:
    """Rows with an ADDL given (not 0 or missing), and rows whose ADDL is a valid count."""
    addl = p.frame["ADDL"].to_numpy(dtype=float)
    given = np.isfinite(addl) & (addl != 0)
    whole = np.isfinite(addl) & (addl == np.floor(addl)) & (addl >= 0) & (addl <= MAX_ADDL)
    return given, whole


def _check_addl(p: Prepared):
    f = p.frame
    given, whole = _addl(p)
    yield from _violation(
        "addl_values", p, "ADDL", given & ~whole,
        f"ADDL (additional doses) must be a whole number from 0 to {MAX_ADDL}",
    )
    if "EVID" in f.columns:
        stray = given & ~_dose(p)
        yield from _violation(
            "addl_values", p, "ADDL", stray, "ADDL > 0 on a row that is not a dose (EVID 1)"
        )


def _check_addl_ii(p: Prepared):
    f = p.frame
    given, whole = _addl(p)
    ii = f["II"].to_numpy(dtype=float) if "II" in f.columns else np.full(len(f), np.nan)
    no_ii = given & whole & ~(ii > 0)
    yield from _violation(
        "addl_without_ii", p, "II", no_ii,
        "ADDL > 0 needs the dosing interval II > 0 (in the TIME unit)", "II" in f.columns,
    )


def _check_ss(p: Prepared):
    ss = p.frame["SS"].to_numpy(dtype=float)
    bad = np.isfinite(ss) & (ss != 0)
    yield from _violation(
        "steady_state", p, "SS", bad,
        "SS (steady-state dosing) is not supported: write the dosing history explicitly (for "
        "repeated doses ADDL/II expands it; a continuous infusion is one dose record from its "
        "start, and blinatumomab reaches steady state within a day) and set SS to 0",
    )


def _check_obs_without_dose(p: Prepared):
    f = p.frame
    obs, dose = pd.Series(_obs(p)), pd.Series(_dose(p))
    ids = f["ID"]
    has_obs = obs.groupby(ids.to_numpy(), sort=False).any()
    has_dose = dose.groupby(ids.to_numpy(), sort=False).any()
    lonely = has_obs.index[(has_obs & ~has_dose).to_numpy()]
    if len(lonely):
        mask = ids.isin(list(lonely)).to_numpy() & obs.to_numpy()
        shown = ", ".join(repr(_plain(x)) for x in list(lonely)[:_SHOW])
        yield Violation(
            "obs_without_dose",
            "ID",
            _rows(f, mask),
            f"subject(s) {shown} have observations but no dose record",
        )


RULES: tuple[Rule, ...] = (
    Rule("empty", "The dataset has at least one data row.", _check_empty),
    Rule("csv_parse", "The file parses as CSV.", _table_issue("csv_parse")),
    Rule("comment_flag", "A NONMEM comment column C holds C/# (skip) or blank/./0 (use).",
         _table_issue("comment_flag")),
    Rule("duplicate_column", "Column names are unique (case-insensitive).",
         _table_issue("duplicate_column")),
    Rule("row_column", "An input ROW column holds unique integers >= 1.",
         _table_issue("row_column")),
    Rule("missing_column", "Every required column is present.", _required(REQUIRED)),
    Rule("empty_column", "No column is entirely empty.", _check_empty_column),
    Rule("non_numeric", "Numeric contract columns hold numbers.", _check_non_numeric),
    Rule("missing_value", "ID, TIME and EVID are never missing.",
         _never_missing(("ID", "TIME", "EVID"))),
    Rule("non_finite", "No numeric value is infinite.", _check_non_finite),
    Rule("negative", "TIME, AMT, RATE, LLOQ, LOD, BSA, WT, AGE, CRCL, BLAST >= 0; "
         "DV >= 0 where MDV == 0.",
         _check_negative),
    Rule("time_decreasing", "TIME is non-decreasing within a subject, in file order.",
         _check_time_decreasing, ("ID", "TIME")),
    Rule("evid_values", "EVID is 0, 1 or 2.", _check_evid, ("EVID",)),
    Rule("mdv_values", "MDV is 0 or 1.", _check_mdv, ("MDV",)),
    Rule("mdv_non_observation", "MDV is 1 on dose and other-event rows.", _check_mdv_non_obs,
         ("MDV", "EVID")),
    Rule("missing_dv", "An observation with MDV 0 has a DV.", _check_missing_dv,
         ("EVID", "MDV", "DV")),
    Rule("dose_amount", "Dose rows have AMT > 0; other rows have no AMT.", _check_dose_amount,
         ("EVID", "AMT")),
    Rule("dose_rate_missing", "Dose rows have a RATE.", _check_dose_rate, ("EVID", "RATE")),
    Rule("unknown_dvid", "DVID is a known or registered analyte.", _check_dvid, ("DVID",)),
    Rule("cens_values", "CENS is 0 or 1, and 1 only on observation rows.",
         _check_cens_values, ("CENS",)),
    Rule("cens_above_lloq", "A censored row (CENS 1) has DV <= LLOQ.", _check_cens_above,
         ("CENS", "DV", "LLOQ")),
    Rule("lod_above_lloq", "LOD <= LLOQ.", _check_lod_lloq, ("LOD", "LLOQ")),
    Rule("duplicate_row", "No two rows are identical.", _check_duplicate_row, REQUIRED),
    Rule("duplicate_dose", "No two dose rows share ID, TIME, AMT and RATE.",
         _check_duplicate_dose, REQUIRED),
    Rule("addl_values", "ADDL is a whole number >= 0, given only on dose rows.", _check_addl,
         ("ADDL",)),
    Rule("addl_without_ii", "A dose with ADDL > 0 has II > 0.", _check_addl_ii, ("ADDL",)),
    Rule("steady_state", "SS is 0 or missing (steady-state doses are not supported).",
         _check_ss, ("SS",)),
    Rule("obs_without_dose", "Every subject with observations has a dose record.",
         _check_obs_without_dose, ("ID", "EVID")),
)  # fmt: skip


def run_rules(prepared: Prepared, rules: Sequence[Rule] = RULES) -> list[Violation]:
    """Run every rule and return all violations, in rule order.

    Parameters
    ----------
    prepared : Prepared
        Coerced table from :func:`blinapk.data._load.prepare`.
    rules : sequence of Rule
        Rules to run (default :data:`RULES`).

    Returns
    -------
    list of Violation
        Empty when the table satisfies the contract.
    """
    out: list[Violation] = []
    for rule in rules:
        out.extend(rule(prepared))
    return out
