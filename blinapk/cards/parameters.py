"""Typical and individual parameters of a model card: covariate effects and lognormal BSV.

The maths of every covariate form is :mod:`blinapk.pk.covariates` (shared with
the population-PK models); this module checks the covariate values a card is
given, raising :class:`~blinapk.errors.DataValidationError` that names the
column and the 1-based rows, and draws the random effects. The methods
:meth:`~blinapk.cards.ModelCard.typical_parameters`,
:meth:`~blinapk.cards.ModelCard.individual_parameters` and
:meth:`~blinapk.cards.CovariateEffect.factor` call these functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from blinapk.errors import DataValidationError, ModelSpecError, Violation
from blinapk.pk import covariates as _forms

if TYPE_CHECKING:
    from blinapk.cards.schema import CovariateEffect, ModelCard

__all__ = ["effect_factor", "individual_parameters", "typical_parameters"]


def effect_factor(effect: CovariateEffect, x: Any) -> np.ndarray:
    """Multiplicative factor of one card effect at covariate values ``x`` (checked).

    Parameters
    ----------
    effect : CovariateEffect
        The effect; a categorical effect's ``value`` holds natural-scale
        factors per level.
    x : array_like
        Covariate values (numbers; levels for ``categorical``).

    Returns
    -------
    numpy.ndarray
        :func:`blinapk.pk.covariates.factor`, same shape as ``x``.

    Raises
    ------
    DataValidationError
        Unknown categorical level, non-numeric value, or a value <= 0 for a
        power effect (rows are 1-based positions in ``x``).
    """
    if effect.form == "categorical":
        levels = np.asarray(x, dtype=object).astype(str)
        reference = str(effect.reference)
        table = dict(effect.value) | {reference: 1.0}  # type: ignore[arg-type]
        _check(effect, ~np.isin(levels, list(table)), "covariate_level_unknown",
               f"level not in the model card (known: {sorted(table)})")
        others = tuple(level for level in table if level != reference)
        log_ratio = np.log([table[level] for level in others])
        return _forms.factor("categorical", log_ratio, levels, reference, others)
    try:
        xs = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        xs = np.asarray(pd.to_numeric(pd.Series(x), errors="coerce"), dtype=float)
        _check(effect, np.isnan(xs), "covariate_not_numeric", "value is not a number")
    if effect.form == "power":
        _check(effect, ~(xs > 0), "covariate_not_positive", "a power effect needs values > 0")
    return _forms.factor(effect.form, float(effect.value), xs,  # type: ignore[arg-type]
                         float(effect.reference))


def _check(effect: CovariateEffect, bad: np.ndarray, rule: str, message: str) -> None:
    """Raise DataValidationError (1-based rows) where ``bad`` is True."""
    if np.any(bad):
        rows = tuple(int(i) + 1 for i in np.flatnonzero(np.ravel(bad)))
        raise DataValidationError([Violation(rule, effect.covariate, rows, message)])


def _covariate_columns(frame: pd.DataFrame, names: tuple[str, ...]) -> pd.DataFrame:
    """Case-insensitive selection and checking of covariate columns (copies)."""
    upper = {str(c).upper(): c for c in frame.columns}
    violations: list[Violation] = []
    out: dict[str, Any] = {}
    for name in names:
        if name not in upper:
            violations.append(Violation("covariate_missing", name, (),
                                        f"covariate {name} required by the model card"))
            continue
        out[name] = frame[upper[name]].to_numpy()
        bad = pd.isna(frame[upper[name]]).to_numpy()
        if bad.any():
            violations.append(Violation("covariate_nan", name, tuple(int(i) + 1 for i in
                                        np.flatnonzero(bad)), "covariate value missing"))
    if violations:
        raise DataValidationError(violations)
    return pd.DataFrame(out, index=frame.index)


def _param_factor(card: ModelCard, param: str, frame: pd.DataFrame) -> np.ndarray:
    """Product of the factors of every effect on ``param`` (card order)."""
    f = np.ones(len(frame))
    for e in card.covariates:
        if e.param == param:
            f = f * effect_factor(e, frame[e.covariate].to_numpy())
    return f


def typical_parameters(card: ModelCard,
                       covariates: Mapping[str, Any] | pd.DataFrame | None = None):
    """Typical parameters after covariate effects; see :meth:`ModelCard.typical_parameters`.

    Parameters
    ----------
    card : ModelCard
        The card.
    covariates : Mapping or DataFrame, optional
        Scalars by covariate name, a frame with one row per subject, or
        ``None`` (every covariate at its reference).

    Returns
    -------
    dict[str, float] or pandas.DataFrame
        Parameter -> value (scalar input) or one column per parameter.
    """
    if covariates is None:
        return dict(card.typical)
    if isinstance(covariates, pd.DataFrame):
        frame = _covariate_columns(covariates, card.covariate_names)
        out = {p: card.typical[p] * _param_factor(card, p, frame) for p in card.params}
        return pd.DataFrame(out, index=covariates.index)
    frame = pd.DataFrame({k: [v] for k, v in covariates.items()})
    values = typical_parameters(card, frame)
    return {p: float(values[p].iloc[0]) for p in card.params}


def individual_parameters(card: ModelCard, covariates_frame: pd.DataFrame | None = None,
                          rng: np.random.Generator | None = None,
                          n: int | None = None) -> pd.DataFrame:
    """Individual parameters with lognormal BSV; see :meth:`ModelCard.individual_parameters`.

    The random effects are drawn parameter by parameter in the card's order
    (all of the first parameter's etas, then the next), skipping parameters
    without variability, so a seed gives the same draws for the same subjects.

    Parameters
    ----------
    card : ModelCard
        The card.
    covariates_frame : DataFrame, optional
        One row per subject (never mutated).
    rng : numpy.random.Generator, optional
        Source of the random effects; without it every ETA is 0.
    n : int, optional
        Number of subjects at the reference covariates instead of a frame.

    Returns
    -------
    pandas.DataFrame
        ``ID`` (if given), then ``TV_<P>``, ``ETA_<P>`` and ``<P>`` per parameter.
    """
    covariates = covariates_frame
    if (covariates is None) == (n is None):
        raise ModelSpecError(
            "individual_parameters: pass exactly one of covariates_frame or n")
    if covariates is None:
        if int(n) < 1:  # type: ignore[arg-type]
            raise ModelSpecError(f"individual_parameters: n must be >= 1, got {n}")
        refs = {e.covariate: e.reference for e in card.covariates}
        covariates = pd.DataFrame({c: [refs[c]] * int(n) for c in card.covariate_names},
                                  index=pd.RangeIndex(int(n)))
        if not card.covariate_names:
            covariates = pd.DataFrame(index=pd.RangeIndex(int(n)))
    tv = typical_parameters(card, covariates)
    n_sub = len(tv)
    out: dict[str, Any] = {}
    id_col = next((c for c in covariates.columns if str(c).upper() == "ID"), None)
    if id_col is not None:
        out["ID"] = covariates[id_col].to_numpy()
    for p in card.params:
        omega = card.omega.get(p, 0.0)
        eta = rng.normal(0.0, omega, n_sub) if (rng is not None and omega > 0) else (
            np.zeros(n_sub))
        out[f"TV_{p}"] = tv[p].to_numpy()
        out[f"ETA_{p}"] = eta
        out[p] = tv[p].to_numpy() * np.exp(eta)
    return pd.DataFrame(out, index=pd.RangeIndex(n_sub))
