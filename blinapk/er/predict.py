"""Predict an E-R fit's response at new exposures and covariates, per posterior draw.

:func:`predict_at` is the prediction behind :mod:`blinapk.er.regimens`
(:func:`~blinapk.er.models.linear_predictor` then
:func:`~blinapk.er.models.respond` with the pooled posterior draws), open to
exposures computed elsewhere, e.g. virtual patients of
:func:`blinapk.simulate.simulate_exposure`. :func:`paired_draws` pairs the
E-R draws with draws of another posterior (the PK one) by position, the
shorter set recycled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from blinapk.er.design import design_matrix
from blinapk.er.models import linear_predictor, respond
from blinapk.errors import ModelSpecError

__all__ = ["check_covariates", "er_draws", "paired_draws", "predict_at"]


def paired_draws(n_er: int, n_other: int, max_draws: int = 1000
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Pair ``n_er`` E-R draws with ``n_other`` draws by evenly spaced indices.

    ``k = min(max_draws, max(n_er, n_other))`` pairs; the shorter set is recycled
    (one PK draw: every E-R draw meets it).

    Examples
    --------
    >>> [a.tolist() for a in paired_draws(4, 1)]
    [[0, 1, 2, 3], [0, 0, 0, 0]]
    """
    k = min(int(max_draws), max(int(n_er), int(n_other)))
    return (np.linspace(0, n_er - 1, k).round().astype(int),
            np.linspace(0, n_other - 1, k).round().astype(int))


def er_draws(fit: Any, index: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Pooled E-R draws by short name (``(n, 1)`` or ``(n, n_terms)``), optionally selected."""
    from blinapk.er.summary import pooled_params

    p = pooled_params(fit, None)
    return p if index is None else {k: v[index] for k, v in p.items()}


def check_covariates(fit: Any, frame: pd.DataFrame, where: str = "data") -> None:
    """Refuse covariates the fit needs but ``frame`` lacks, or levels it never saw.

    Raises
    ------
    ModelSpecError
        Names the covariate, the column and (for a level) the unseen values.
    """
    for cov in dict.fromkeys(t.covariate for t in fit.terms):
        if cov not in frame.columns:
            raise ModelSpecError(
                f"{fit.endpoint}: the E-R model has covariate {cov!r} but {where} has no "
                f"column {cov!r} (columns: {sorted(map(str, frame.columns))}); refit without "
                f"it or give the population that column")
        terms = [t for t in fit.terms if t.covariate == cov]
        if terms[0].kind == "numeric":
            bad = ~np.isfinite(pd.to_numeric(frame[cov], errors="coerce").to_numpy(float))
            if bad.any():
                raise ModelSpecError(f"{fit.endpoint}: covariate {cov!r} in {where} is not a "
                                     f"finite number in row {int(np.flatnonzero(bad)[0])}")
            continue
        known = {terms[0].reference, *(t.level for t in terms)}
        unseen = sorted(set(frame[cov].astype(str)) - known)
        if unseen:
            raise ModelSpecError(
                f"{fit.endpoint}: covariate {cov!r} in {where} has level(s) {unseen} the E-R "
                f"model was not fitted on (levels: {sorted(known)})")


def predict_at(fit: Any, p: Mapping[str, np.ndarray], exposure: np.ndarray,
               covariates: pd.DataFrame | None = None) -> np.ndarray:
    """Response per draw and unit at given exposures.

    Parameters
    ----------
    fit : ERFit
        A binary or time-to-event fit (peaks are per dose event: not predicted here).
    p : mapping
        E-R draws (:func:`er_draws`), each ``(n_draws, 1)`` or ``(n_draws, n_terms)``.
    exposure : ndarray, shape (n_draws, n_units)
        The fit's metric (pg/mL), paired with the draws of ``p`` row by row.
    covariates : DataFrame, optional
        One row per unit with the raw covariates of ``fit.terms``.

    Returns
    -------
    ndarray, shape (n_draws, n_units)
        Probability of the endpoint (binary) or of being event-free at the
        landmark (time to event).

    Raises
    ------
    ModelSpecError
        A peak fit, or missing covariates.
    """
    if fit.kind not in ("binary", "tte"):
        raise ModelSpecError(f"{fit.endpoint}: {fit.kind} E-R models are per dose event; "
                             "only binary and time-to-event models predict a rate")
    x = np.asarray(exposure, dtype=float)
    if fit.terms:
        if covariates is None:
            raise ModelSpecError(f"{fit.endpoint}: the E-R model needs covariates "
                                 f"{[t.covariate for t in fit.terms]}")
        check_covariates(fit, covariates)
        X = design_matrix(covariates, fit.terms)
    else:
        X = np.zeros((x.shape[-1], 0))
    with np.errstate(divide="ignore"):
        eta = linear_predictor(fit.kind, fit.model_name, p, np.log(x), X, 0, fit.log_ref, np)
    time = fit.landmark_months / fit.time_scale if fit.kind == "tte" else None
    return respond(fit.kind, eta, p, time)
