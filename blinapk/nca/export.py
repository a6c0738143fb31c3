"""Export NCA results as a CDISC SDTM PP-like (Pharmacokinetic Parameters) table.

One row per subject x parameter x analysis group with the PP variables
``STUDYID, DOMAIN, USUBJID, PPSEQ, PPGRPID, PPCAT, PPTESTCD, PPTEST, PPORRES,
PPORRESU, PPSTRESC, PPSTRESN, PPSTRESU, PPSTAT, PPREASND, PPSPEC`` plus the
blinapk keys it came from (``ID``, ``CYCLE``, ``DOSE_LEVEL``, ``START``).

The default test codes (:data:`PP_CODES`) follow the CDISC "PK Parameters"
controlled terminology where we know a code (``CMAX``, ``TMAX``, ``AUCINT``,
``CAVG``); ``CLSS`` (clearance at steady state from R0/Css) and ``CSSFC``
(peak-to-baseline fold change) are blinapk codes: check them against your
terminology version and pass ``codes=`` to override. Non-estimable values
are exported with ``PPSTAT = "NOT DONE"`` and the reason in ``PPREASND``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from blinapk.errors import ModelSpecError

__all__ = ["PP_CODES", "PP_COLUMNS", "to_pp"]

#: result column -> (PPTESTCD, PPTEST)
PP_CODES: Mapping[str, tuple[str, str]] = {
    "CSS": ("CAVG", "Average Concentration"),
    "CL": ("CLSS", "Total Clearance at Steady State"),
    "PEAK": ("CMAX", "Max Conc"),
    "TMAX": ("TMAX", "Time of CMAX"),
    "AUC": ("AUCINT", "AUC from T1 to T2"),
    "FOLD": ("CSSFC", "Fold Change Peak over Baseline"),
}

#: Columns of the PP table, in order.
PP_COLUMNS = (
    "STUDYID", "DOMAIN", "USUBJID", "PPSEQ", "PPGRPID", "PPCAT", "PPTESTCD", "PPTEST",
    "PPORRES", "PPORRESU", "PPSTRESC", "PPSTRESN", "PPSTRESU", "PPSTAT", "PPREASND", "PPSPEC",
)  # fmt: skip

_KEYS = ("ID", "DVID", "CYCLE", "DOSE_LEVEL", "STEP", "START")


def _fmt(x: np.ndarray) -> np.ndarray:
    return np.array(["" if not np.isfinite(v) else f"{v:.6g}" for v in x], dtype=object)


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
    result : CssResult, CytokinePeaks or pandas.DataFrame
        Anything with ``.to_frame()`` (and ``.units``) or a result table.
        Parameters exported are the columns present among ``codes``.
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
        The table has none of the exported columns or no ``ID``.
    """
    frame = result.to_frame() if hasattr(result, "to_frame") else result.copy()
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
    return out[[*PP_COLUMNS, *keys]]
