"""Export NCA results as a CDISC SDTM PP (Pharmacokinetic Parameters) table.

One row per subject x parameter x analysis group with the PP variables
``STUDYID, DOMAIN, USUBJID, PPSEQ, PPGRPID, PPCAT, PPTESTCD, PPTEST, PPORRES,
PPORRESU, PPSTRESC, PPSTRESN, PPSTRESU, PPSTAT, PPREASND, PPSPEC, PPSTINT,
PPENINT`` plus the blinapk keys it came from (``ID``, ``CYCLE``,
``DOSE_LEVEL``, ``START``).

SDTM rules followed:

* ``PPREASND`` is filled on every row with ``PPSTAT = "NOT DONE"`` (the
  result's reason, else ``"not estimable"``);
* a parameter over part of the profile (a general-NCA interval with a finite
  end, e.g. ``AUCINT`` from 0 to 24 h) carries the interval as ISO 8601
  durations from the reference time in ``PPSTINT``/``PPENINT`` (``PT0H``,
  ``PT24H``);
* test codes are those of the CDISC "PK Parameters" controlled terminology
  (:data:`CT_CODES`) where one exists; the others (``CLSS``, clearance at
  steady state from R0/Css; ``AUCINTIFO``/``AUCINTIFP``; ``CLSTP``) are
  sponsor-defined and named as such by :func:`pp_test_codes`;
* cytokines are pharmacodynamic biomarkers, not PK parameters: they are
  refused here (their peaks are reported in their own table).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from blinapk.errors import ModelSpecError

__all__ = ["CT_CODES", "PP_CODES", "PP_COLUMNS", "pp_test_codes", "to_pp"]

#: result column -> (PPTESTCD, PPTEST)
PP_CODES: Mapping[str, tuple[str, str]] = {
    "CSS": ("CAVG", "Average Concentration"),
    "CL": ("CLSS", "Total Clearance at Steady State"),
    "PEAK": ("CMAX", "Max Conc"),
    "TMAX": ("TMAX", "Time of CMAX"),
    "AUC": ("AUCINT", "AUC from T1 to T2"),
}

#: PPTESTCD values of the CDISC "PK Parameters" controlled terminology (codelist PKPARMCD)
#: that blinapk produces; any other code in a PP table is sponsor-defined.
CT_CODES: frozenset[str] = frozenset({
    "AUCALL", "AUCIFO", "AUCIFP", "AUCINT", "AUCLST", "AUCPEO", "AUCPEP", "AUCTAU", "AUMCIFO",
    "AUMCIFP", "AUMCLST", "C0", "CAVG", "CLFO", "CLFP", "CLO", "CLP", "CLST", "CMAX", "CMIN",
    "CORRXY", "CTROUGH", "LAMZ", "LAMZHL", "LAMZLL", "LAMZNPT", "LAMZSPN", "LAMZUL", "MRTEVIFO",
    "MRTEVIFP", "MRTEVLST", "MRTIVIFO", "MRTIVIFP", "MRTIVLST", "R2", "R2ADJ", "TLST", "TMAX",
    "VSSO", "VSSP", "VZFO", "VZFP", "VZO", "VZP",
})  # fmt: skip

#: Columns of the PP table, in order.
PP_COLUMNS = (
    "STUDYID", "DOMAIN", "USUBJID", "PPSEQ", "PPGRPID", "PPCAT", "PPTESTCD", "PPTEST",
    "PPORRES", "PPORRESU", "PPSTRESC", "PPSTRESN", "PPSTRESU", "PPSTAT", "PPREASND", "PPSPEC",
    "PPSTINT", "PPENINT",
)  # fmt: skip

_KEYS = ("ID", "DVID", "CYCLE", "DOSE_LEVEL", "STEP", "START")
_NOT_ESTIMABLE = "not estimable"
_CYTOKINES = ("IL2", "IL6", "IL10", "TNFA", "IFNG")
_ISO = {"h": ("PT", "H"), "min": ("PT", "M"), "day": ("P", "D"), "week": ("P", "W")}


def _duration(x: float, unit: str) -> str:
    """ISO 8601 duration of ``x`` time units, e.g. ``PT24H``; "" when not finite."""
    if not np.isfinite(x):
        return ""
    pre, post = _ISO.get(unit, ("PT", "H"))
    return f"{pre}{x:g}{post}"


def pp_test_codes(pp: pd.DataFrame) -> pd.DataFrame:
    """List the test codes of a PP table and where each comes from (a define-style list).

    Parameters
    ----------
    pp : pandas.DataFrame
        A PP table (:func:`to_pp`).

    Returns
    -------
    pandas.DataFrame
        ``PPTESTCD, PPTEST, ORIGIN`` with ``ORIGIN`` ``"CDISC CT"`` (codelist
        PKPARMCD) or ``"sponsor-defined"``, one row per code.

    Examples
    --------
    >>> t = pd.DataFrame({"PPTESTCD": ["CAVG", "CLSS"], "PPTEST": ["Average Concentration",
    ...                   "Total Clearance at Steady State"]})
    >>> pp_test_codes(t)["ORIGIN"].tolist()
    ['CDISC CT', 'sponsor-defined']
    """
    codes = pp[["PPTESTCD", "PPTEST"]].drop_duplicates("PPTESTCD").reset_index(drop=True)
    codes["ORIGIN"] = np.where(codes["PPTESTCD"].isin(sorted(CT_CODES)), "CDISC CT",
                               "sponsor-defined")
    return codes


def _fmt(x: np.ndarray) -> np.ndarray:
    """``%.6g`` text of each value ("" when not finite), formatting each distinct value once."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    # factorise bit patterns: -0.0 and 0.0 hash alike but print differently
    codes, bits = pd.factorize(x.view(np.int64))
    texts = ["" if not np.isfinite(v) else f"{v:.6g}" for v in bits.view(np.float64)]
    return np.array(texts, dtype=object)[codes]


def to_pp(
    result,
    *,
    units: Mapping[str, str] | None = None,
    studyid: str = "",
    category: str | None = None,
    codes: Mapping[str, tuple[str, str]] | None = None,
    specimen: str = "SERUM",
) -> pd.DataFrame:
    """Long CDISC PP-like table of the parameters in a result.

    Parameters
    ----------
    result : CssResult, NCAResult or pandas.DataFrame
        A steady-state result, a general-NCA result (every parameter, with
        its interval), or a result table (the columns present among
        ``codes`` are exported).
    units : mapping, optional
        Units per column; taken from ``result.units`` when omitted.
    studyid : str
        ``STUDYID``; ``USUBJID`` is ``"<STUDYID>-<ID>"`` (or ``ID`` alone).
    category : str, optional
        ``PPCAT`` (analyte); default the table's ``DVID`` or ``"BLIN"``.
    codes : mapping, optional
        Override of :data:`PP_CODES` (``column -> (PPTESTCD, PPTEST)``).
    specimen : str
        ``PPSPEC``.

    Returns
    -------
    pandas.DataFrame
        :data:`PP_COLUMNS` followed by the blinapk key columns present.

    Raises
    ------
    ModelSpecError
        The table has none of the exported columns or no ``ID``, or holds
        cytokines (PD biomarkers, not PK parameters).
    """
    if hasattr(result, "groups") and hasattr(result, "excluded"):  # an NCAResult
        return _from_nca(result, studyid, category or "BLIN", specimen)
    frame = result.to_frame() if hasattr(result, "to_frame") else result.copy()
    if "DVID" in frame.columns and frame["DVID"].isin(_CYTOKINES).any():
        raise ModelSpecError("to_pp: cytokines are pharmacodynamic biomarkers, not PK "
                             "parameters, and do not belong in the PP domain")
    units = dict(units if units is not None else getattr(result, "units", {}) or {})
    codes = dict(PP_CODES if codes is None else codes)
    params = [c for c in codes if c in frame.columns]
    if not params or "ID" not in frame.columns:
        raise ModelSpecError("to_pp: the table needs ID and at least one of " + ", ".join(codes))
    keys = [k for k in _KEYS if k in frame.columns]
    frame = frame.reset_index(drop=True)
    grp = frame.index.to_numpy() + 1
    reason = frame["REASON"].astype("string").fillna("") if "REASON" in frame else None
    parts = []
    for col in params:
        x = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        done = np.isfinite(x)
        text = _fmt(x)
        if f"{col}_TEXT" in frame.columns:  # censored values: keep "<LLOQ" text as the result
            censored = frame[f"{col}_TEXT"].astype("string").fillna("").to_numpy(dtype=object)
            text = np.where(done, text, censored)
        why = np.where(done, "", reason.to_numpy(dtype=object) if reason is not None else "")
        why = np.where(done | (why != ""), why, _NOT_ESTIMABLE)
        part = pd.DataFrame(
            {
                **{k: frame[k].to_numpy() for k in keys},
                "PPGRPID": grp,
                "PPTESTCD": codes[col][0],
                "PPTEST": codes[col][1],
                "PPORRES": text,
                "PPORRESU": units.get(col, ""),
                "PPSTRESC": text,
                "PPSTRESN": x,
                "PPSTRESU": units.get(col, ""),
                "PPSTAT": np.where(done | (text != ""), "", "NOT DONE"),
                "PPREASND": np.where(done | (text != ""), "", why),
            }
        )
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(["PPGRPID", "PPTESTCD"], kind="stable").reset_index(drop=True)
    ids = out["ID"].astype("string")
    out["STUDYID"] = studyid
    out["DOMAIN"] = "PP"
    out["USUBJID"] = (studyid + "-" + ids) if studyid else ids
    out["PPSEQ"] = out.groupby("USUBJID", sort=False).cumcount() + 1
    if category is None:
        category = out["DVID"].astype("string") if "DVID" in out.columns else "BLIN"
    out["PPCAT"] = category
    out["PPSPEC"] = specimen
    out["PPSTINT"] = ""
    out["PPENINT"] = ""
    return out[[*PP_COLUMNS, *keys]]


def _from_nca(result, studyid: str, category: str, specimen: str) -> pd.DataFrame:
    """PP rows of a general-NCA result (one per group x interval x parameter)."""
    t = result.to_frame().reset_index(drop=True)
    if "ID" not in t.columns:
        raise ModelSpecError("to_pp: the NCA result needs an ID group column")
    time_unit = dict(result.settings.get("units", {})).get("time", "h")
    x = t["value"].to_numpy(dtype=float)
    done = np.isfinite(x)
    text = _fmt(x)
    why = t["reason"].astype("string").fillna("").to_numpy(dtype=object)
    finite_end = np.isfinite(t["end"].to_numpy(dtype=float))
    labels = result.settings.get("labels", {}) or {}
    keys = pd.MultiIndex.from_frame(t[[*result.groups, "start", "end"]].astype(str))
    grp = pd.factorize(keys)[0] + 1
    out = pd.DataFrame({
        "ID": t["ID"].to_numpy(),
        "PPGRPID": grp,
        "PPTESTCD": t["PPTESTCD"].astype("string").fillna("").to_numpy(dtype=object),
        "PPTEST": [labels.get(p, p) for p in t["parameter"]],
        "PPORRES": text, "PPORRESU": t["unit"].to_numpy(dtype=object), "PPSTRESC": text,
        "PPSTRESN": x, "PPSTRESU": t["unit"].to_numpy(dtype=object),
        "PPSTAT": np.where(done, "", "NOT DONE"),
        "PPREASND": np.where(done, "", np.where(why != "", why, _NOT_ESTIMABLE)),
        "PPSTINT": np.where(finite_end, [_duration(v, time_unit) for v in t["start"]], ""),
        "PPENINT": np.where(finite_end, [_duration(v, time_unit) for v in t["end"]], ""),
        "START": t["start"].to_numpy(dtype=float),
    })
    ids = out["ID"].astype("string")
    out["STUDYID"] = studyid
    out["DOMAIN"] = "PP"
    out["USUBJID"] = (studyid + "-" + ids) if studyid else ids
    out["PPSEQ"] = out.groupby("USUBJID", sort=False).cumcount() + 1
    out["PPCAT"] = category
    out["PPSPEC"] = specimen
    return out[[*PP_COLUMNS, "ID", "START"]]
