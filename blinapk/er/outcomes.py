"""Outcomes of the exposure-response models, derived by the endpoint layer.

:func:`derive_outcomes` turns the clinical tables (and, for cytokine peaks,
the event table) into one row per analysis unit with the response, using
the definitions of :mod:`blinapk.endpoints` and :mod:`blinapk.nca`:

========== ========= =====================================================
endpoint   kind      response
========== ========= =====================================================
crcrh      binary    CR/CRh* within cycles 1-2 (best response, MT103-211)
mrd        binary    MRD < 1e-4 within cycles 1-2 (not measured: no response)
crs        binary    treatment-emergent CRS (``CATEGORY`` CRS), any grade
crs3       binary    treatment-emergent CRS of grade >= 3
neuro      binary    treatment-emergent neurologic event (``NEUROLOGIC``), any grade
neuro3     binary    treatment-emergent neurologic event of grade >= 3
rfs, os    tte       relapse-free (responders) and overall survival, months
il2 ...    peak      cytokine peak above baseline after the first start and
                     each cycle-1 step-up (IL2, IL6, IL10, TNFA, IFNG)
========== ========= =====================================================

Peaks: the response is ``log(PEAK - B)`` (pg/mL), ``B`` the quantified
baseline (0 when the baseline is below LLOQ, i.e. small against any
quantified peak); a peak below LLOQ is left-censored at ``log(LLOQ - B)``.
Restarts after an interruption and later cycles' starts are a different
episode (primed T cells) and are excluded, as are events without a baseline
or a sample in the window; every exclusion is listed with its reason.

Covariates come from the subjects table: any column, plus ``AGEGROUP``
(``child`` below 18 years, else ``adult``) derived from ``AGE``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from blinapk.data import ClinicalData, Dataset
from blinapk.errors import DataValidationError, ModelSpecError, Violation

__all__ = ["ENDPOINTS", "Endpoint", "Outcomes", "derive_outcomes", "get_endpoint",
           "get_endpoint_kind"]


@dataclass(frozen=True)
class Endpoint:
    """One modelled endpoint.

    Parameters
    ----------
    name : str
        Key (``crcrh``, ``os``, ``il6``, ...).
    kind : {"binary", "tte", "peak"}
        Model family it needs.
    label : str
        Plain-language name.
    needs : tuple of str
        Clinical tables (or ``dataset``) it is derived from.
    """

    name: str
    kind: str
    label: str
    needs: tuple[str, ...]


_CYTO = {"il2": "IL2", "il6": "IL6", "il10": "IL10", "tnfa": "TNFA", "ifng": "IFNG"}
#: Endpoints by name.
ENDPOINTS: Mapping[str, Endpoint] = {e.name: e for e in (
    Endpoint("crcrh", "binary", "CR/CRh* within 2 cycles", ("assessments",)),
    Endpoint("mrd", "binary", "MRD response within 2 cycles", ("assessments",)),
    Endpoint("crs", "binary", "CRS, any grade", ("adverse_events", "subjects")),
    Endpoint("crs3", "binary", "CRS, grade >= 3", ("adverse_events", "subjects")),
    Endpoint("neuro", "binary", "neurologic event, any grade", ("adverse_events", "subjects")),
    Endpoint("neuro3", "binary", "neurologic event, grade >= 3",
             ("adverse_events", "subjects")),
    Endpoint("rfs", "tte", "relapse-free survival", ("assessments", "subjects")),
    Endpoint("os", "tte", "overall survival", ("subjects",)),
    *(Endpoint(k, "peak", f"{v} peak above baseline", ("dataset",)) for k, v in _CYTO.items()),
)}
_AE = {"crs": ("CRS", 1), "crs3": ("CRS", 3), "neuro": ("NEUROLOGIC", 1),
       "neuro3": ("NEUROLOGIC", 3)}
#: Age below which a subject is in the ``child`` group of ``AGEGROUP``.
CHILD_AGE = 18.0


def get_endpoint(name: str) -> Endpoint:
    """Return the endpoint ``name`` (case-insensitive).

    Raises
    ------
    ModelSpecError
        Unknown endpoint (the message lists the valid ones).
    """
    key = str(name).lower()
    if key not in ENDPOINTS:
        raise ModelSpecError(f"endpoint: unknown {name!r}; use one of {tuple(ENDPOINTS)}")
    return ENDPOINTS[key]


def get_endpoint_kind(name: str) -> str:
    """Return ``binary``, ``tte`` or ``peak``: the model family endpoint ``name`` needs."""
    return get_endpoint(name).kind


@dataclass(frozen=True, eq=False)
class Outcomes:
    """Responses of one endpoint, one row per analysis unit.

    Attributes
    ----------
    endpoint : Endpoint
        What was derived.
    table : DataFrame
        ``binary``: ``ID, Y`` (0/1); ``tte``: ``ID, TIME`` (months),
        ``EVENT`` (1/0); ``peak``: ``ID, START, KIND, CYCLE, EPISODE``
        (0 first start, 1 step-up), ``Y`` (log pg/mL; the limit when
        censored), ``CENS`` (1: below LLOQ).
    covariates : DataFrame
        ``ID`` and the subjects-table columns available (``AGEGROUP`` added).
    excluded : DataFrame
        ``ID`` (+ ``START`` for peaks) and ``REASON`` of units left out.
    """

    endpoint: Endpoint
    table: pd.DataFrame = field(repr=False)
    covariates: pd.DataFrame = field(repr=False)
    excluded: pd.DataFrame = field(repr=False)

    @property
    def kind(self) -> str:
        """Model family: ``binary``, ``tte`` or ``peak``."""
        return self.endpoint.kind


def _require(clinical: ClinicalData | None, dataset: Dataset | None, ep: Endpoint) -> None:
    given = set(clinical.tables) if clinical is not None else set()
    if dataset is not None:
        given.add("dataset")
    lacking = [t for t in ep.needs if t not in given]
    if lacking:
        what = ", ".join("the event table" if t == "dataset" else f"the {t} table"
                         for t in lacking)
        raise DataValidationError([Violation(
            "missing_table", lacking[0], (), f"endpoint {ep.name} ({ep.label}) needs {what}")])


def _covariates(clinical: ClinicalData | None) -> pd.DataFrame:
    if clinical is None or "subjects" not in clinical.tables:
        return pd.DataFrame({"ID": list(clinical.ids) if clinical is not None else []})
    subj = clinical.subjects.drop(columns=["ROW"])
    if "AGE" in subj.columns:
        subj["AGEGROUP"] = np.where(subj["AGE"].isna(), None,
                                    np.where(subj["AGE"] < CHILD_AGE, "child", "adult"))
    return subj


def _binary(clinical: ClinicalData, ep: Endpoint) -> tuple[pd.DataFrame, list[dict]]:
    from blinapk.endpoints import derive_best_response, derive_treatment_emergent

    subjects = clinical.subjects if "subjects" in clinical.tables else None
    if ep.name in ("crcrh", "mrd"):
        best = derive_best_response(clinical.assessments, subjects).table
        col = "CRCRH" if ep.name == "crcrh" else "MRD_RESPONSE"
        y = best[col].fillna(0.0).astype(int)  # not measured counts as no response
        return pd.DataFrame({"ID": best["ID"], "Y": y}), []
    category, grade = _AE[ep.name]
    te = derive_treatment_emergent(clinical.adverse_events, clinical.subjects).events()
    hit = te.loc[(te.get("CATEGORY") == category) & (te["GRADE"] >= grade), "ID"]
    ids = list(clinical.ids)
    return pd.DataFrame({"ID": ids, "Y": pd.Series(ids).isin(set(hit)).astype(int)}), []


def _tte(clinical: ClinicalData, ep: Endpoint) -> tuple[pd.DataFrame, list[dict]]:
    from blinapk.endpoints import derive_best_response, derive_tte

    best = (derive_best_response(clinical.assessments, clinical.subjects)
            if "assessments" in clinical.tables else None)
    tte = derive_tte(clinical.subjects, best, endpoints=[ep.name.upper()]).to_frame()
    ok = tte["TIME"].notna() & tte["EVENT"].notna() & (tte["TIME_MONTHS"] > 0)
    excluded = [{"ID": r.ID, "REASON": r.REASON or "no time"}
                for r in tte.loc[~ok].itertuples(index=False)]
    kept = tte.loc[ok]
    return pd.DataFrame({"ID": kept["ID"].to_numpy(), "TIME": kept["TIME_MONTHS"].to_numpy(float),
                         "EVENT": kept["EVENT"].to_numpy(int)}), excluded


def _peaks(dataset: Dataset, ep: Endpoint) -> tuple[pd.DataFrame, list[dict]]:
    from blinapk.nca import compute_cytokine_peaks

    dvid = _CYTO[ep.name]
    peaks = compute_cytokine_peaks(dataset, cytokines=(dvid,)).to_frame()
    obs = dataset.observations(dvid)
    lloq = obs.groupby("ID")["LLOQ"].median() if len(obs) else pd.Series(dtype=float)
    if peaks.empty:
        raise DataValidationError([Violation("no_observations", "DVID", (),
                                             f"no {dvid} peak can be derived from the data")])
    first_cycle = peaks["CYCLE"].min() if peaks["CYCLE"].notna().any() else None
    rows, excluded = [], []
    first_start = peaks.loc[peaks["KIND"] == "start"].groupby("ID")["START"].min()
    for r in peaks.itertuples(index=False):
        key = {"ID": r.ID, "START": r.START}
        later = first_cycle is not None and pd.notna(r.CYCLE) and r.CYCLE != first_cycle
        if (r.KIND == "start" and r.START != first_start.get(r.ID)) or later:
            excluded.append(key | {"REASON": "restart or later cycle: not modelled"})
            continue
        base = r.BASELINE if np.isfinite(r.BASELINE) else 0.0
        if r.PEAK_CENSORED:
            limit, cens = float(lloq.get(r.ID, np.nan)) - base, 1
        else:
            limit, cens = r.PEAK - base, 0
        if not np.isfinite(r.PEAK) and not r.PEAK_CENSORED:
            excluded.append(key | {"REASON": r.REASON or "no peak"})
        elif not np.isfinite(r.BASELINE) and not r.BASELINE_CENSORED:
            excluded.append(key | {"REASON": r.REASON or "no baseline sample"})
        elif not limit > 0:
            excluded.append(key | {"REASON": "no rise above the quantified baseline"})
        else:
            rows.append(key | {"KIND": r.KIND, "CYCLE": r.CYCLE,
                               "EPISODE": int(r.KIND == "step-up"), "Y": float(np.log(limit)),
                               "CENS": cens})
    cols = ["ID", "START", "KIND", "CYCLE", "EPISODE", "Y", "CENS"]
    return pd.DataFrame(rows, columns=cols), excluded


def derive_outcomes(endpoint: str, clinical: ClinicalData | None = None,
                    dataset: Dataset | None = None) -> Outcomes:
    """Derive the responses of ``endpoint``.

    Parameters
    ----------
    endpoint : str
        A name of :data:`ENDPOINTS`.
    clinical : ClinicalData, optional
        Subjects, assessments, adverse events (binary and time-to-event
        endpoints; also the covariates).
    dataset : Dataset, optional
        The event table (cytokine peaks).

    Returns
    -------
    Outcomes

    Raises
    ------
    DataValidationError
        A table the endpoint needs was not given, or no response can be derived.
    ModelSpecError
        Unknown endpoint.
    """
    ep = get_endpoint(endpoint)
    _require(clinical, dataset, ep)
    if ep.kind == "binary":
        table, excluded = _binary(clinical, ep)
    elif ep.kind == "tte":
        table, excluded = _tte(clinical, ep)
    else:
        table, excluded = _peaks(dataset, ep)
    cols = ["ID", "START", "REASON"] if ep.kind == "peak" else ["ID", "REASON"]
    return Outcomes(ep, table.reset_index(drop=True), _covariates(clinical),
                    pd.DataFrame(excluded, columns=cols))


def covariate_columns(names: Sequence[str], covariates: pd.DataFrame) -> list[str]:
    """Check that every requested covariate is a column; return them upper-cased.

    Raises
    ------
    DataValidationError
        A covariate not in the subjects table (``AGEGROUP`` needs ``AGE``).
    """
    out = [str(n).strip().upper() for n in names if str(n).strip()]
    missing = [c for c in out if c not in covariates.columns]
    if missing:
        raise DataValidationError([Violation(
            "missing_column", c, (), f"covariate {c} is not a column of the subjects table"
            + (" (AGEGROUP is derived from AGE)" if c == "AGEGROUP" else ""))
            for c in missing])
    return out
