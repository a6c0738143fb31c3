r"""Parameter sources for virtual patients: a fitted population posterior or a model card.

:class:`PosteriorSource` turns a :class:`blinapk.poppk.PopPKFit` (or its
saved netCDF file) into individual PK parameters, with the model the fit
used (:mod:`blinapk.poppk.build`):

.. math:: \log P_{di} = \log TV_{P,d} + \sum_c f_c(x_{ci}; \beta_{c,d}) + \eta_{P,di}

for posterior draw :math:`d` and virtual subject :math:`i`: typical values
``typical``, covariate coefficients ``beta_<P>_<COV>`` (forms of
:mod:`blinapk.pk.covariates`, at the spec's references) and between-subject
variability ``omega_<P>`` (and ``corr_eta`` when correlated) are taken from
the same posterior draw, so parameter uncertainty travels with the draw.
The random effects are either

* ``subjects="new"``: new subjects, :math:`\eta_{di} \sim N(0, \Omega_d)`; or
* ``subjects="fitted"``: the fitted subjects' own posterior random effects
  ``eta`` of the same draw. A virtual subject whose ``SOURCE_ID`` (set by
  :meth:`blinapk.simulate.Population.from_data`) or ``ID`` is a fitted
  subject takes that subject's random effects; any other takes those of a
  fitted subject drawn at random (a non-parametric bootstrap of the
  random effects).

Covariates are taken as constant at their baseline value.

:class:`CardSource` gives a literature :class:`~blinapk.cards.ModelCard` the
same vectorised interface (every draw shares the card's numbers; the draws
differ only by their random effects).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from blinapk.cards import ModelCard, load_card
from blinapk.errors import DataValidationError, ModelSpecError, Violation
from blinapk.pk.covariates import design
from blinapk.pk.covariates import log_effect as _log_effect
from blinapk.poppk import CovariateSpec, PopPKFit, load_fit

__all__ = ["SUBJECT_MODES", "CardSource", "PosteriorSource", "parameter_arrays"]

#: Where the random effects of virtual subjects come from.
SUBJECT_MODES: tuple[str, ...] = ("new", "fitted")


def _flat(da: Any, *dims: str) -> np.ndarray:
    """(sample, *dims) numpy array from a posterior variable with chain and draw dims."""
    stacked = da.stack(sample=("chain", "draw")).transpose("sample", *dims)
    return np.asarray(stacked.values, dtype=float)


@dataclass(frozen=True, eq=False)
class PosteriorSource:
    """Individual PK parameters drawn from a population-PK posterior.

    Build with :meth:`from_fit`. Satisfies
    :class:`~blinapk.simulate.ParameterSource` (so
    :func:`~blinapk.simulate.simulate_trial` accepts it as ``card=``) and
    gives vectorised draws to :func:`~blinapk.simulate.simulate_exposure`.

    Attributes
    ----------
    name : str
        ``posterior:<card or "fit">``.
    structure : str
        ``1cmt`` or ``2cmt``.
    params : tuple of str
        Structural parameters.
    covariates : tuple of CovariateSpec
        Covariate effects (references resolved).
    typical : ndarray, shape (sample, param)
        Typical values.
    bsv : tuple of str
        Parameters with between-subject variability.
    omega : ndarray, shape (sample, len(bsv))
        Log-scale SDs.
    chol : ndarray or None, shape (sample, len(bsv), len(bsv))
        Cholesky factor of the random-effect covariance (correlated models).
    beta : Mapping[str, ndarray]
        ``<P>_<COV>`` -> coefficient draws ``(sample,)`` or ``(sample, level)``.
    levels : Mapping[str, tuple]
        Non-reference levels of each categorical effect.
    eta : ndarray or None, shape (sample, fitted subject, len(bsv))
        The fitted subjects' random effects.
    fitted_ids : ndarray
        IDs of the fitted subjects.
    residual : Mapping[str, float]
        Posterior medians of ``prop`` and ``add`` (0 when not in the model).
    subjects : {"new", "fitted"}
        Where virtual subjects' random effects come from.
    provenance : Mapping
        Stamp of the fit (method, sampler, data hash, spec), recorded in settings.
    """

    name: str
    structure: str
    params: tuple[str, ...]
    covariates: tuple[CovariateSpec, ...]
    typical: np.ndarray = field(repr=False)
    bsv: tuple[str, ...]
    omega: np.ndarray = field(repr=False)
    chol: np.ndarray | None = field(repr=False)
    beta: Mapping[str, np.ndarray] = field(repr=False)
    levels: Mapping[str, tuple]
    eta: np.ndarray | None = field(repr=False)
    fitted_ids: np.ndarray = field(repr=False)
    residual: Mapping[str, float]
    subjects: str = "new"
    provenance: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_fit(cls, fit: PopPKFit | str | Path, *, subjects: str = "new") -> PosteriorSource:
        """Read the posterior draws of a fit.

        Parameters
        ----------
        fit : PopPKFit, str or Path
            A fit, or the netCDF file written by :meth:`PopPKFit.save`.
        subjects : {"new", "fitted"}, default "new"
            Random effects of new subjects, or the fitted subjects' own.

        Returns
        -------
        PosteriorSource

        Raises
        ------
        ModelSpecError
            Unknown ``subjects``, or ``"fitted"`` with a fit without random effects.
        """
        if subjects not in SUBJECT_MODES:
            raise ModelSpecError(f"subjects must be one of {SUBJECT_MODES}, got {subjects!r}")
        if not isinstance(fit, PopPKFit):
            fit = load_fit(fit)
        post, spec = fit.posterior, fit.spec
        typical = _flat(post["typical"].sel(param=list(spec.params)), "param")
        bsv = tuple(spec.bsv)
        omega = (np.column_stack([_flat(post[f"omega_{p}"]) for p in bsv]) if bsv
                 else np.zeros((typical.shape[0], 0)))
        chol = None
        if spec.correlation and bsv:
            corr = _flat(post["corr_eta"].sel(eta_param=list(bsv), eta_param_bis=list(bsv)),
                         "eta_param", "eta_param_bis")
            cov = corr * omega[:, :, None] * omega[:, None, :]
            chol = np.linalg.cholesky(cov + 1e-12 * np.eye(len(bsv)))
        beta, levels = {}, {}
        for c in spec.covariates:
            var = post[f"beta_{c.name}"]
            if c.form == "categorical":
                levels[c.name] = tuple(str(v) for v in var[f"level_{c.name}"].values)
                beta[c.name] = _flat(var, f"level_{c.name}")
            else:
                beta[c.name] = _flat(var) if "chain" in var.dims else np.full(
                    typical.shape[0], float(var.values))
        eta = _flat(post["eta"].sel(eta_param=list(bsv)), "subject", "eta_param") if (
            bsv and "eta" in post) else None
        if subjects == "fitted" and eta is None:
            raise ModelSpecError("subjects='fitted' needs a fit with random effects (eta)")
        residual = {k: float(np.median(_flat(post[f"sigma_{k}"]))) if f"sigma_{k}" in post
                    else 0.0 for k in ("prop", "add")}
        provenance = {"method": fit.method, "sampler": fit.sampler, "seed": int(fit.seed),
                      "data_hash": fit.data_hash, "card": fit.card_name,
                      "spec": json.loads(spec.to_json()), "n_samples": int(typical.shape[0])}
        return cls(name=f"posterior:{fit.card_name or 'fit'}", structure=spec.structure,
                   params=tuple(spec.params), covariates=tuple(spec.covariates),
                   typical=typical, bsv=bsv, omega=omega, chol=chol, beta=beta, levels=levels,
                   eta=eta, fitted_ids=np.asarray(post["subject"].values), residual=residual,
                   subjects=subjects, provenance=provenance)

    @property
    def n_samples(self) -> int:
        """Number of posterior draws available."""
        return int(self.typical.shape[0])

    @property
    def covariate_names(self) -> tuple[str, ...]:
        """Covariate columns read (each once, in spec order)."""
        return tuple(dict.fromkeys(c.covariate for c in self.covariates))

    def settings(self) -> dict[str, Any]:
        """JSON-safe description (recorded in a simulation's settings)."""
        return {"type": "PosteriorSource", "subjects": self.subjects, **self.provenance}

    def choose_samples(self, n_draws: int, rng: np.random.Generator) -> np.ndarray:
        """Choose the posterior draw of each simulated draw (without replacement if possible)."""
        replace = n_draws > self.n_samples
        return np.sort(rng.choice(self.n_samples, size=int(n_draws), replace=replace))

    def _fitted_index(self, frame: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
        key = "SOURCE_ID" if "SOURCE_ID" in frame.columns else "ID"
        position = {str(v): i for i, v in enumerate(self.fitted_ids)}
        ids = frame[key].astype(str).to_numpy() if key in frame.columns else np.array([])
        idx = np.array([position.get(v, -1) for v in ids], dtype=np.int64) if ids.size else \
            np.full(len(frame), -1, dtype=np.int64)
        missing = idx < 0
        idx[missing] = rng.integers(0, len(self.fitted_ids), int(missing.sum()))
        return idx

    def log_parameters(self, frame: pd.DataFrame, rng: np.random.Generator,
                       samples: np.ndarray) -> tuple[dict, dict]:
        """Log typical values (after covariates) and random effects per parameter.

        Parameters
        ----------
        frame : DataFrame
            One row per virtual subject with the covariate columns (and ``ID``
            / ``SOURCE_ID`` for ``subjects="fitted"``).
        rng : numpy.random.Generator
            Source of the random effects.
        samples : ndarray of int, shape (draw, 1) or (draw, subject)
            Posterior draw of each simulated draw (and subject).

        Returns
        -------
        (dict, dict)
            ``P -> log TV`` and ``P -> eta``, arrays of shape ``(draw, subject)``.
        """
        n = len(frame)
        shape = (samples.shape[0], n)
        cols = _columns(frame, self.covariate_names)
        log_tv = {p: np.broadcast_to(np.log(self.typical[samples, j]), shape).copy()
                  for j, p in enumerate(self.params)}
        for c in self.covariates:
            b = self.beta[c.name][samples]
            if c.form == "categorical":
                d = design(c.form, cols[c.covariate], c.reference, self.levels[c.name])
                log_tv[c.param] += np.einsum("dsl,sl->ds", np.broadcast_to(
                    b, (*shape, d.shape[1])), d)
            else:
                d = design(c.form, cols[c.covariate], c.reference)
                log_tv[c.param] += _log_effect(c.form, b, d[None, :])
        eta = {p: np.zeros(shape) for p in self.params}
        if self.bsv:
            if self.subjects == "fitted":
                e = self.eta[samples, self._fitted_index(frame, rng)[None, :]]
            else:
                z = rng.standard_normal((*shape, len(self.bsv)))
                if self.chol is None:
                    e = z * self.omega[samples][..., :]
                else:
                    e = np.einsum("dsij,dsj->dsi", np.broadcast_to(
                        self.chol[samples], (*shape, len(self.bsv), len(self.bsv))), z)
            for k, p in enumerate(self.bsv):
                eta[p] = np.broadcast_to(e[..., k], shape)
        return log_tv, eta

    def individual_parameters(self, covariates_frame: pd.DataFrame,
                              rng: np.random.Generator) -> pd.DataFrame:
        """One parameter set per subject, each from a posterior draw chosen at random.

        Parameters
        ----------
        covariates_frame : DataFrame
            ``ID`` and the covariate columns.
        rng : numpy.random.Generator
            Random source.

        Returns
        -------
        DataFrame
            ``ID``, ``DRAW`` (posterior draw used), then ``TV_<P>, ETA_<P>, <P>``.
        """
        n = len(covariates_frame)
        samples = rng.integers(0, self.n_samples, (1, n))
        log_tv, eta = self.log_parameters(covariates_frame, rng, samples)
        out: dict[str, Any] = {"DRAW": samples[0]}
        if "ID" in covariates_frame.columns:
            out = {"ID": covariates_frame["ID"].to_numpy(), **out}
        for p in self.params:
            out[f"TV_{p}"] = np.exp(log_tv[p][0])
            out[f"ETA_{p}"] = eta[p][0]
            out[p] = np.exp(log_tv[p][0] + eta[p][0])
        return pd.DataFrame(out, index=pd.RangeIndex(n))


def _columns(frame: pd.DataFrame, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Covariate columns by upper-case name; a missing or NaN value is a DataValidationError."""
    upper = {str(c).upper(): c for c in frame.columns}
    out, problems = {}, []
    for name in names:
        if name not in upper:
            problems.append(Violation("covariate_missing", name, (),
                                      f"covariate {name} is needed by the parameter source"))
            continue
        col = frame[upper[name]]
        bad = pd.isna(col).to_numpy()
        if bad.any():
            problems.append(Violation("covariate_nan", name, tuple(int(i) + 1 for i in
                                      np.flatnonzero(bad)[:20]), "covariate value missing"))
        out[name] = col.to_numpy()
    if problems:
        raise DataValidationError(problems)
    return out


@dataclass(frozen=True, eq=False)
class CardSource:
    """A model card with the vectorised interface of :class:`PosteriorSource`.

    Every draw shares the card's typical values, covariate effects and BSV;
    draws differ by their random effects (a card carries no uncertainty).

    Attributes
    ----------
    card : ModelCard
        The card.
    """

    card: ModelCard

    def __reduce__(self) -> tuple:
        # ModelCard holds read-only mappings that do not pickle: ship its file or name
        return (_card_source, (self.card.path or self.card.name,))

    @property
    def name(self) -> str:
        """Card name."""
        return self.card.name

    @property
    def structure(self) -> str:
        """PK structure."""
        return self.card.structure

    @property
    def params(self) -> tuple[str, ...]:
        """Structural parameters."""
        return self.card.params

    @property
    def covariate_names(self) -> tuple[str, ...]:
        """Covariates read."""
        return self.card.covariate_names

    def settings(self) -> dict[str, Any]:
        """JSON-safe description: the card's name and every number."""
        return {"type": "ModelCard", "card": self.card.name,
                "card_numbers": {k: v.value for k, v in self.card.numbers.items()}}

    def choose_samples(self, n_draws: int, rng: np.random.Generator) -> np.ndarray:
        """All zeros: a card has one set of numbers."""
        return np.zeros(int(n_draws), dtype=np.int64)

    def log_parameters(self, frame: pd.DataFrame, rng: np.random.Generator,
                       samples: np.ndarray) -> tuple[dict, dict]:
        """As :meth:`PosteriorSource.log_parameters` (etas drawn draw by draw, card order)."""
        n_draw, n = samples.shape[0], len(frame)
        tv = self.card.typical_parameters(frame[list(self.covariate_names)]) if \
            self.covariate_names else pd.DataFrame(
                {p: np.full(n, self.card.typical[p]) for p in self.params})
        log_tv = {p: np.broadcast_to(np.log(tv[p].to_numpy(float)), (n_draw, n))
                  for p in self.params}
        eta = {p: np.zeros((n_draw, n)) for p in self.params}
        for d in range(n_draw):
            for p in self.params:
                omega = self.card.omega.get(p, 0.0)
                if omega > 0:
                    eta[p][d] = rng.normal(0.0, omega, n)
        return log_tv, eta


def _card_source(where: str) -> CardSource:
    return CardSource(load_card(where))


def parameter_arrays(source: Any, frame: pd.DataFrame, rng: np.random.Generator,
                     samples: np.ndarray) -> dict[str, np.ndarray]:
    """Individual parameters ``P -> (draw, subject)`` from any parameter source.

    Parameters
    ----------
    source : PosteriorSource, CardSource or ParameterSource
        A source with ``log_parameters`` is used directly; any other
        :class:`~blinapk.simulate.ParameterSource` is called once per draw.
    frame : DataFrame
        Virtual subjects (``ID`` and covariates).
    rng : numpy.random.Generator
        Random source.
    samples : ndarray of int, shape (draw,)
        Posterior draw of each simulated draw (from ``choose_samples``; zeros otherwise).

    Returns
    -------
    dict
        Parameter -> array ``(draw, subject)``, finite and > 0.
    """
    if hasattr(source, "log_parameters"):
        log_tv, eta = source.log_parameters(frame, rng, np.asarray(samples)[:, None])
        return {p: np.exp(log_tv[p] + eta[p]) for p in source.params}
    from blinapk.simulate.source import draw_parameters

    cov = frame[["ID", *source.covariate_names]]
    sets = [draw_parameters(source, cov, rng) for _ in range(len(samples))]
    return {p: np.stack([s[p].to_numpy(float) for s in sets]) for p in source.params}
