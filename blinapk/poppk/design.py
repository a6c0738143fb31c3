"""From a :class:`~blinapk.data.Dataset` to the arrays a population-PK model needs.

:func:`prepare_data` selects the observations (``DVID`` equal to the spec's
analyte ``PopPKSpec.dvid``, default ``"BLIN"``; ``EVID == 0``; ``MDV == 0``),
applies the BLQ method, pads the doses, reads the covariates (value in force
at each observation) and writes a
:class:`~blinapk.data.RowLedger` listing every input row with its status and
reason. Nothing is silently dropped.

Dose records are first merged into their piecewise-constant rate profile
(:func:`blinapk.dosing.rate_table`; bag changes at an unchanged rate leave no
trace), which is exact for linear PK and keeps the superposition small.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from blinapk.data import Dataset, RowLedger
from blinapk.dosing import bolus_table, rate_table
from blinapk.errors import DataValidationError, ModelSpecError, Violation
from blinapk.pk import DoseMatrix, dose_matrix, plan_segments
from blinapk.poppk.spec import DEFAULT_DVID, PopPKSpec

__all__ = ["DVID", "PopPKData", "prepare_data"]

#: The analyte modelled by default (``PopPKSpec.dvid``).
DVID = DEFAULT_DVID

_REASON_DVID = "DVID {dvid}: not the modelled analyte ({analyte})"
_REASON_MDV = "MDV=1: no usable DV"
_REASON_M1 = "BLQ (CENS=1) discarded: M1 method"
_REASON_PREDOSE = "before the first dose (predicted concentration is 0)"
_REASON_NONPOS = "DV <= 0 is not allowed with the proportional (log-scale) error model"
_REASON_NOOBS = "subject has no usable {analyte} observation"
_REASON_EVID = "EVID={evid} record: neither observation nor dose"


@dataclass(frozen=True, eq=False)
class PopPKData:
    """Model-ready arrays (read-only) built by :func:`prepare_data`.

    Attributes
    ----------
    subjects : tuple
        IDs of the subjects in the model (those with at least one used observation).
    obs_row : ndarray of int
        Dataset ``ROW`` of each used observation (the ``obs`` coordinate).
    time, dv, lloq : ndarray of float
        Time (h), DV (pg/mL; the LLOQ for censored rows) and LLOQ (pg/mL).
    cens : ndarray of bool
        Below the LLOQ (only ever True with the M3 method).
    subject_index : ndarray of int
        Position of each observation's subject in :attr:`subjects`.
    doses : DoseMatrix
        Merged dose history of the subjects (rows in :attr:`subjects` order).
    rate : ndarray of float
        Infusion rate running at each observation (ug/h).
    since_change : ndarray of float
        Hours since the last change of input before each observation.
    cov_subject : Mapping[str, ndarray]
        Baseline (first non-missing) value of each covariate per subject.
    cov_obs : Mapping[str, ndarray]
        Value in force at each observation (last value at or before it).
    time_varying : tuple of str
        Covariates whose value changes within a subject among used observations.
    ledger : RowLedger
        Every input row with its status and reason.
    data_hash : str
        :attr:`Dataset.hash` of the source.
    """

    subjects: tuple
    obs_row: np.ndarray
    time: np.ndarray
    dv: np.ndarray
    lloq: np.ndarray
    cens: np.ndarray
    subject_index: np.ndarray
    doses: DoseMatrix
    rate: np.ndarray
    since_change: np.ndarray
    cov_subject: Mapping[str, np.ndarray] = field(repr=False)
    cov_obs: Mapping[str, np.ndarray] = field(repr=False)
    time_varying: tuple[str, ...]
    ledger: RowLedger = field(repr=False)
    data_hash: str = ""

    @property
    def n_subjects(self) -> int:
        """Number of subjects in the model."""
        return len(self.subjects)

    @property
    def n_obs(self) -> int:
        """Number of observations in the likelihood."""
        return int(self.time.size)

    @property
    def n_censored(self) -> int:
        """Number of censored (BLQ, M3) observations."""
        return int(self.cens.sum())

    def doses_per_observation(self) -> DoseMatrix:
        """Dose matrix with one row per observation (for per-observation parameters)."""
        i = self.subject_index
        return DoseMatrix(self.doses.time[i], self.doses.amt[i], self.doses.duration[i])


def _merged_doses(doses: pd.DataFrame) -> pd.DataFrame:
    """Dose rows re-expressed as merged constant-rate infusions plus boluses."""
    d = doses[["ID", "TIME", "EVID", "AMT", "RATE"]]
    parts = []
    if (d["RATE"] > 0).any():
        rt = rate_table(d.loc[d["RATE"] > 0])
        rt = rt.loc[rt["RATE"] > 0]
        parts.append(pd.DataFrame({"ID": rt["ID"].to_numpy(), "TIME": rt["START"].to_numpy(float),
                                   "AMT": (rt["RATE"] * (rt["END"] - rt["START"])).to_numpy(float),
                                   "RATE": rt["RATE"].to_numpy(float)}))
    if (d["RATE"] == 0).any():
        bt = bolus_table(d.loc[d["RATE"] == 0])
        parts.append(pd.DataFrame({"ID": bt["ID"].to_numpy(), "TIME": bt["TIME"].to_numpy(float),
                                   "AMT": bt["AMT"].to_numpy(float), "RATE": 0.0}))
    if not parts:
        return pd.DataFrame({"ID": [], "TIME": [], "AMT": [], "RATE": []})
    return pd.concat(parts, ignore_index=True)


def _covariate_values(frame: pd.DataFrame, names: tuple[str, ...], forms: Mapping[str, str]
                      ) -> tuple[dict[str, np.ndarray], list[Violation]]:
    """Value in force at every row (LOCF within subject; leading gaps take the first value)."""
    out: dict[str, np.ndarray] = {}
    violations: list[Violation] = []
    for name in names:
        if name not in frame.columns:
            violations.append(Violation("missing_column", name, (),
                                        "covariate column required by the model spec"))
            continue
        col = frame[name]
        if forms[name] != "categorical":
            num = pd.to_numeric(col, errors="coerce")
            bad = col.notna() & num.isna()
            if bad.any():
                violations.append(Violation("covariate_not_numeric", name,
                                            tuple(frame.loc[bad, "ROW"].astype(int)),
                                            "value is not a number"))
            col = num
            if forms[name] == "power" and (num <= 0).any():
                violations.append(Violation("covariate_not_positive", name,
                                            tuple(frame.loc[num <= 0, "ROW"].astype(int)),
                                            "a power covariate effect needs values > 0"))
        g = col.groupby(frame["ID"].to_numpy(), sort=False)
        filled = g.ffill()
        first = filled.groupby(frame["ID"].to_numpy(), sort=False).transform("first")
        filled = filled.fillna(first)
        missing = filled.isna()
        if missing.any():
            ids = pd.unique(frame.loc[missing, "ID"])
            violations.append(Violation("covariate_missing", name,
                                        tuple(frame.loc[missing, "ROW"].astype(int)),
                                        f"no value for subject(s) {list(ids)[:5]}"))
        out[name] = filled.to_numpy(dtype=float if forms[name] != "categorical" else object)
    return out, violations


def prepare_data(dataset: Dataset, spec: PopPKSpec) -> PopPKData:
    """Select observations, apply the BLQ method, pad doses, read covariates.

    Rules, in order (each excluded row gets the reason shown in the ledger):

    1. dose rows (``EVID == 1``) are used (as merged infusions / boluses);
       other non-observation rows (``EVID == 2``) are excluded as records;
    2. observations of another analyte than ``spec.dvid`` are excluded
       (``DVID X: not the modelled analyte (BLIN)``); ``MDV == 1`` rows are excluded;
    3. observations before (or exactly at the start of) the first dose,
       whose prediction is 0, are excluded;
    4. ``CENS == 1`` rows: M3 keeps them as censored at their ``LLOQ``; M1
       excludes them; with the proportional error model a quantified
       ``DV <= 0`` is excluded;
    5. subjects left with no used observation are dropped and their dose rows
       excluded.

    Parameters
    ----------
    dataset : Dataset
        From :func:`blinapk.data.read_dataset`.
    spec : PopPKSpec
        Model specification (BLQ method, residual model, covariates).

    Returns
    -------
    PopPKData

    Raises
    ------
    DataValidationError
        Missing, non-numeric or non-positive (power form) covariates, naming
        rows and column.
    ModelSpecError
        No usable observation at all.
    """
    frame = dataset.frame
    n = len(frame)
    evid = frame["EVID"].to_numpy()
    dvid = frame["DVID"].astype(object).where(frame["DVID"].notna(), "").to_numpy()
    mdv = frame["MDV"].to_numpy()
    cens = frame["CENS"].to_numpy().astype(bool)
    dv = frame["DV"].to_numpy(dtype=float)
    status = np.full(n, "used", dtype=object)
    reason = np.full(n, "", dtype=object)

    def exclude(mask: np.ndarray, text: str | np.ndarray) -> None:
        m = mask & (status == "used")
        status[m] = "excluded"
        reason[m] = text[m] if isinstance(text, np.ndarray) else text

    is_obs = evid == 0
    is_dose = evid == 1
    cov_names = tuple(dict.fromkeys(c.covariate for c in spec.covariates))
    other = ~is_obs & ~is_dose
    exclude(other, np.array([_REASON_EVID.format(evid=e) + (
        " (its covariate values are used)" if cov_names else "") for e in evid], dtype=object))
    analyte = spec.dvid
    exclude(is_obs & (dvid != analyte),
            np.array([_REASON_DVID.format(dvid=d or "missing", analyte=analyte) for d in dvid],
                     dtype=object))
    exclude(is_obs & (mdv == 1), _REASON_MDV)

    doses = frame.loc[is_dose]
    first_dose = doses.groupby("ID", sort=False)["TIME"].min()
    first_rate = doses.sort_values(["ID", "TIME"], kind="stable").groupby(
        "ID", sort=False)["RATE"].first()
    ft = frame["ID"].map(first_dose).to_numpy(dtype=float)
    fr = frame["ID"].map(first_rate).to_numpy(dtype=float)
    t = frame["TIME"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        predose = np.isnan(ft) | (t < ft) | ((t == ft) & (fr > 0))
    exclude(is_obs & predose, _REASON_PREDOSE)
    if spec.blq == "M1":
        exclude(is_obs & cens, _REASON_M1)
    if spec.residual == "proportional":
        exclude(is_obs & ~cens & (dv <= 0), _REASON_NONPOS)

    used_obs = is_obs & (status == "used")
    ids_all = frame["ID"].to_numpy()
    keep_ids = pd.unique(ids_all[used_obs])
    if len(keep_ids) == 0:
        raise ModelSpecError(
            f"data: no usable {analyte} observation (need EVID=0, DVID={analyte}, MDV=0 "
            "after a dose)"
        )
    exclude(~np.isin(ids_all, keep_ids), _REASON_NOOBS.format(analyte=analyte))
    subjects = tuple(s for s in dataset.subjects if s in set(keep_ids.tolist()))

    forms = {c.covariate: c.form for c in spec.covariates}
    values, violations = _covariate_values(frame, cov_names, forms)
    if violations:
        raise DataValidationError(violations)

    merged = _merged_doses(frame.loc[is_dose & np.isin(ids_all, keep_ids)])
    dm = dose_matrix(merged, subjects)
    index = pd.Index(subjects)
    obs = frame.loc[used_obs]
    sidx = index.get_indexer(obs["ID"])
    o_time = obs["TIME"].to_numpy(dtype=float)
    plan = plan_segments(o_time, sidx, dm)
    o_cens = obs["CENS"].to_numpy().astype(bool)
    o_lloq = obs["LLOQ"].to_numpy(dtype=float)
    o_dv = np.where(o_cens, o_lloq, obs["DV"].to_numpy(dtype=float))
    if np.any(o_cens & ~(o_lloq > 0)):
        bad = obs.loc[o_cens & ~(o_lloq > 0), "ROW"].astype(int)
        raise DataValidationError([Violation("lloq_missing", "LLOQ", tuple(bad),
                                             "a censored row needs LLOQ > 0 for the M3 method")])

    cov_subject, cov_obs, tv = {}, {}, []
    first_row = pd.Series(np.arange(n)).groupby(ids_all, sort=False).first()
    for name, vals in values.items():
        cov_subject[name] = vals[first_row.reindex(list(subjects)).to_numpy()]
        cov_obs[name] = vals[used_obs]
        base = cov_subject[name][sidx]
        if np.any(cov_obs[name] != base):
            tv.append(name)

    ledger = RowLedger.from_reasons(frame, status=status, reason=reason)
    return PopPKData(
        subjects=subjects,
        obs_row=obs["ROW"].to_numpy(dtype=np.int64),
        time=o_time,
        dv=o_dv,
        lloq=o_lloq,
        cens=o_cens,
        subject_index=sidx.astype(np.int64),
        doses=dm,
        rate=np.asarray(plan.rate, dtype=float),
        since_change=np.asarray(plan.dt, dtype=float),
        cov_subject=cov_subject,
        cov_obs=cov_obs,
        time_varying=tuple(tv),
        ledger=ledger,
        data_hash=dataset.hash,
    )


def covariate_spread(data: PopPKData, spec: PopPKSpec,
                     references: Mapping[tuple[str, str], Any]) -> dict[str, float]:
    """Largest ``|x - ref|`` over subjects of each exponential/linear effect (prior scaling)."""
    out = {}
    for c in spec.covariates:
        if c.form in ("exponential", "linear"):
            x = data.cov_subject[c.covariate].astype(float)
            d = float(np.nanmax(np.abs(x - float(references[(c.param, c.covariate)]))))
            out[c.name] = d if d > 0 else 1.0
    return out


def resolve_references(data: PopPKData, spec: PopPKSpec) -> dict[tuple[str, str], Any]:
    """Covariate references: given, else the standard (BSA 1.88, WT 70), else median / mode."""
    from blinapk.poppk.spec import STANDARD_REFERENCES

    out: dict[tuple[str, str], Any] = {}
    for c in spec.covariates:
        if c.reference is not None:
            out[(c.param, c.covariate)] = c.reference
            continue
        x = data.cov_subject[c.covariate]
        if c.form == "categorical":
            levels = pd.Series(x.astype(str))
            counts = levels.value_counts(sort=False)
            out[(c.param, c.covariate)] = str(counts.idxmax())
        elif c.covariate in STANDARD_REFERENCES:
            out[(c.param, c.covariate)] = float(STANDARD_REFERENCES[c.covariate])
        else:
            out[(c.param, c.covariate)] = round(float(np.median(x.astype(float))), 6)
    return out
