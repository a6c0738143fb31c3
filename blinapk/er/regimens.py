"""Predicted response at the label regimens, with exposures from the PK posterior.

For each label regimen (adults >= 45 kg: 9 -> 28 ug/day; children < 45 kg:
5 -> 15 ug/m2/day, capped; :data:`blinapk.dosing.PRESETS` ``adult_rr`` and
``paediatric_rr``), the analysed subjects of its weight band are given the
regimen's cycle 1 (:func:`blinapk.dosing.dose_records`, their own BSA), their
exposure metric is computed from their individual PK posterior draws
(:mod:`blinapk.er.metrics`), and the E-R model predicts each subject's
response at that exposure (with the subject's covariates). The regimen's
prediction is the average over the subjects, per posterior draw; its median
and 90 % interval are reported, with the median exposure. PK and E-R draws
are paired by position (the same draw in the joint model).

Peaks: the prediction is the median peak above baseline of a typical subject
after the start and after the step-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from blinapk.er.design import design_matrix
from blinapk.er.exposure import pk_draws
from blinapk.er.metrics import plan_exposure
from blinapk.er.models import linear_predictor, respond

__all__ = ["LABEL_REGIMENS", "predict_regimens", "regimen_inputs"]

#: Label regimens predicted: preset name -> (label, weight band).
LABEL_REGIMENS: Mapping[str, tuple[str, str]] = {
    "adult_rr": ("adults 9 -> 28 ug/day", "WT >= 45 kg"),
    "paediatric_rr": ("children 5 -> 15 ug/m2/day", "WT < 45 kg"),
}
#: Weight (kg) separating the flat and the BSA-based label dosing.
ADULT_WEIGHT_KG = 45.0
_COLUMNS = ["REGIMEN", "LABEL", "EPISODE", "N_SUBJECTS", "EXPOSURE_MEDIAN", "MEDIAN",
            "LOWER", "UPPER", "NOTE"]


def regimen_inputs(idata: Any, exposure: Any, pk_fit: Any, dataset: Any, uncertainty: str
                   ) -> tuple[Mapping[str, np.ndarray] | None, tuple, pd.DataFrame | None]:
    """PK parameter draws, their subject order and the subjects' BSA/WT, where available."""
    covs = None
    if dataset is not None and {"BSA", "WT"} <= set(dataset.frame.columns):
        covs = dataset.covariates(["BSA", "WT"])
    if uncertainty == "joint" and "indiv" in idata.posterior:
        ind = idata.posterior["indiv"].stack(s=("chain", "draw")).transpose("s", "subject",
                                                                            "param")
        v = np.asarray(ind.values, dtype=float)
        params = {str(p): v[:, :, k] for k, p in enumerate(ind["param"].values)}
        return params, tuple(ind["subject"].values.tolist()), covs
    if pk_fit is not None:
        return (pk_draws(pk_fit), tuple(pk_fit.idata.posterior["subject"].values.tolist()),
                covs)
    if getattr(exposure, "params", None) is not None and exposure.plan is not None:
        return exposure.params, tuple(exposure.plan.subjects), covs
    return None, (), covs


def _empty(name: str, label: str, note: str) -> dict:
    return {"REGIMEN": name, "LABEL": label, "EPISODE": "", "N_SUBJECTS": 0,
            "EXPOSURE_MEDIAN": np.nan, "MEDIAN": np.nan, "LOWER": np.nan, "UPPER": np.nan,
            "NOTE": note}


def predict_regimens(fit: Any, params: Mapping[str, np.ndarray] | None, subjects: tuple,
                     covariates: pd.DataFrame | None, max_draws: int = 1000,
                     ci: float = 0.9) -> pd.DataFrame:
    """Predicted response of each label regimen (see the module docstring).

    Parameters
    ----------
    fit : ERFit
        The E-R fit (regimens not yet filled in).
    params : mapping or None
        Individual PK draws ``{param: (n_draws, n_subjects)}``.
    subjects : tuple
        Subject order of ``params``.
    covariates : DataFrame or None
        ``ID, BSA, WT`` per subject.
    max_draws : int
        Draw pairs used.
    ci : float
        Interval mass.

    Returns
    -------
    DataFrame
        ``REGIMEN, LABEL, EPISODE, N_SUBJECTS, EXPOSURE_MEDIAN, MEDIAN, LOWER,
        UPPER, NOTE``; one row per regimen (and episode for peaks).
    """
    from blinapk.dosing import dose_records, get_preset
    from blinapk.er.summary import pooled_params

    if params is None or covariates is None:
        why = ("no PK parameters (observed exposures)" if params is None
               else "the event table has no BSA and WT")
        return pd.DataFrame([_empty(n, lab, why) for n, (lab, _) in LABEL_REGIMENS.items()],
                            columns=_COLUMNS)
    analysed = pd.unique(fit.units["ID"])
    covs = covariates.loc[covariates["ID"].isin(analysed)].dropna(subset=["BSA", "WT"])
    per_subject = fit.units.drop_duplicates("ID").set_index("ID")
    p_er = pooled_params(fit, None)
    n_er = next(iter(p_er.values())).shape[0]
    n_pk = next(iter(params.values())).shape[0]
    k = min(max_draws, max(n_er, n_pk))  # the shorter set is recycled
    i_er = np.linspace(0, n_er - 1, k).round().astype(int)
    i_pk = np.linspace(0, n_pk - 1, k).round().astype(int)
    p = {name: v[i_er] for name, v in p_er.items()}
    lo, hi = (1.0 - ci) / 2.0, 1.0 - (1.0 - ci) / 2.0
    settings = dict(fit.settings.get("exposure", {}))
    rows = []
    for name, (label, _) in LABEL_REGIMENS.items():
        adult = covs["WT"].to_numpy(float) >= ADULT_WEIGHT_KG
        band = covs.loc[adult if name == "adult_rr" else ~adult]
        if band.empty:
            rows.append(_empty(name, label, "no analysed subject in the weight band"))
            continue
        doses = dose_records(get_preset(name, n_cycles=1), band[["ID", "BSA", "WT"]])
        plan = plan_exposure(doses, fit.metric, level=fit.level,
                             window=settings.get("window"),
                             cmax_hours=settings.get("cmax_hours") or 168.0,
                             subjects=tuple(band["ID"]))
        pos = pd.Index(list(subjects)).get_indexer(band["ID"])
        x = np.asarray(plan.evaluate({q: v[i_pk][:, pos] for q, v in params.items()},
                                     settings.get("structure") or "1cmt"))
        ids = plan.units["ID"]
        X = (np.zeros((len(ids), len(fit.terms))) if fit.level == "event"
             else design_matrix(per_subject.loc[ids], fit.terms))
        episodes = (("start", 0), ("step-up", 1)) if fit.level == "event" else (("", 0),)
        for episode, code in episodes:
            cols = (plan.units["KIND"] == episode).to_numpy() if episode else slice(None)
            eta = linear_predictor(fit.kind, fit.model_name, p, np.log(x[:, cols]), X[cols],
                                   code, fit.log_ref, np)
            pred = respond(fit.kind, eta, p, fit.landmark_months / fit.time_scale).mean(axis=1)
            rows.append({"REGIMEN": name, "LABEL": label, "EPISODE": episode,
                         "N_SUBJECTS": len(band), "EXPOSURE_MEDIAN": float(np.median(x[:, cols])),
                         "MEDIAN": float(np.median(pred)), "LOWER": float(np.quantile(pred, lo)),
                         "UPPER": float(np.quantile(pred, hi)), "NOTE": ""})
    return pd.DataFrame(rows, columns=_COLUMNS)
