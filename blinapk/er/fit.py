"""Fit an exposure-response model, carrying the exposure uncertainty (:func:`fit_er`).

Three ways to treat the exposure, chosen by one argument (``uncertainty``):

``plugin``
    each unit's exposure is fixed at its posterior mean (or the observed NCA
    Css, or a given value): fast, but the exposure is treated as known, so
    intervals are too narrow when it is not;
``propagated`` (default)
    each unit's log exposure is a latent parameter whose prior is its PK
    posterior (a multivariate normal fitted to the posterior draws, keeping
    the correlations between units; :mod:`blinapk.er.latent`), updated by
    the outcomes together with the E-R parameters: the two-stage form of the
    joint model, calibrated on simulated studies (docs/er.md) at the cost of
    an E-R fit;
``imputation``
    naive multiple imputation over the PK posterior, for comparison only:
    ``n_imputations`` joint PK posterior draws (evenly spaced) give as many
    exposure vectors, the E-R model is fitted to each (one PyMC model with
    an ``imputation`` dimension, the copies independent) and the draws are
    pooled (Zhou & Reiter, Am Stat 2010). The outcomes do not inform the
    exposures, so this is classical measurement error: the slope is
    **attenuated toward 0** (docs/er.md), do not report it;
``joint``
    the population-PK model and the E-R model in one PyMC model: the
    exposure is a function of the individual PK parameters, which both the
    concentrations and the outcomes inform.

Sampling is NUTS (:func:`blinapk.mcmc.sample_nuts`) and the convergence gates
of :mod:`blinapk.mcmc` apply as for population PK. Per-unit and per-subject
variables (latent exposures, random effects) and, in the imputation fit, the
``n_imputations`` copies of every parameter are gated with the R-hat
threshold of grouped variables (``ConvergenceGates.group_rhat_max``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from blinapk.data import ClinicalData, Dataset
from blinapk.er.design import ERDesign, make_design
from blinapk.er.exposure import Exposure, exposure_from_params, posterior_exposure
from blinapk.er.latent import LatentPrior, add_latent_exposure, latent_prior
from blinapk.er.models import ERPriors, add_er_model, check_model
from blinapk.er.outcomes import derive_outcomes, get_endpoint
from blinapk.er.result import ERFit
from blinapk.er.stamp import stamp_er
from blinapk.errors import ModelSpecError
from blinapk.mcmc import (
    ConvergenceGates,
    SamplerSettings,
    check_convergence,
    sample_nuts,
    warn_if_failed,
)

__all__ = ["UNCERTAINTY", "fit_er"]

#: Ways of treating the exposure uncertainty.
#: ``imputation`` (naive multiple imputation, attenuating) is kept for comparison.
UNCERTAINTY: tuple[str, ...] = ("plugin", "propagated", "joint", "imputation")
#: Default number of PK posterior draws imputed in the imputation mode.
N_IMPUTATIONS = 20


def _unit_labels(design: ERDesign) -> list[str]:
    u = design.units
    if design.kind == "peak":
        return [f"{i}@{s:g}" for i, s in zip(u["ID"], u["START"], strict=True)]
    return [str(i) for i in u["ID"]]


def _pk_model(dataset: Dataset, spec: Any, options: Mapping[str, Any]) -> Any:
    from blinapk.poppk import build_model

    return build_model(dataset, spec, priors=options.get("priors"), card=options.get("card"))


def _start_exposure(model: Any, dataset: Dataset, metric: str, level: str, window: Any
                    ) -> Exposure:
    """Exposure at the PK model's starting values (NCA clearance, typical values).

    The joint model needs a plug-in exposure only to line the units up and
    centre the log exposure; the starting values give it without a fit.
    """
    from blinapk.poppk.build import model_info

    info = model_info(model)
    subjects = tuple(model.coords["subject"])
    params = {p: np.full(len(subjects), float(info.init.typical[p])) for p in info.spec.params}
    own = np.asarray(info.init.subject_cl, dtype=float)
    params["CL"] = np.where(np.isfinite(own) & (own > 0), own, params["CL"])
    return exposure_from_params(dataset, params, metric, level=level,
                                structure=info.spec.structure, subjects=subjects,
                                source="start", window=window)


def _exposure(pk: Any, dataset: Dataset | None, metric: str, level: str, uncertainty: str,
              pk_spec: Any, pk_options: Mapping[str, Any], window: Any
              ) -> tuple[Exposure, Any, Any]:
    """Return the exposure lining up the design, the PK fit behind it and the joint PK model."""
    from blinapk.poppk import fit

    if isinstance(pk, Exposure):
        if uncertainty == "joint":
            raise ModelSpecError("uncertainty='joint' needs the event table (a Dataset) or a "
                                 "PopPKFit with its dataset, not precomputed exposures")
        return pk, None, None
    if isinstance(pk, Dataset):
        dataset = pk
        if uncertainty == "joint":
            model = _pk_model(dataset, pk_spec, pk_options)
            return _start_exposure(model, dataset, metric, level, window), None, model
        pk = fit(dataset, pk_spec, **({"progressbar": False} | dict(pk_options)))
    if dataset is None:
        raise ModelSpecError("fit_er: pass the dataset the PK fit was made on (dataset=...)")
    expo = posterior_exposure(pk, dataset, metric, level=level, window=window)
    model = None
    if uncertainty == "joint":
        model = _pk_model(dataset, pk.spec, {"priors": pk.priors, "card": pk.card_name or None})
    return expo, pk, model


def _joint_model(model: Any, design: ERDesign, exposure: Exposure, model_name: str,
                 priors: ERPriors, time_scale: float) -> tuple[Any, dict, list]:
    """Add the E-R model on the individual parameters of a population-PK model."""
    import pymc as pm
    import pytensor.tensor as pt

    from blinapk.poppk.build import gated_variables, model_info

    info = model_info(model)
    subjects = tuple(model.coords["subject"])
    if tuple(exposure.plan.subjects) != subjects:
        raise ModelSpecError("joint: the PK model's subjects differ from the exposure plan's")
    with model:
        model.add_coord("imputation", [0])
        model.add_coord("unit", _unit_labels(design))
        indiv = model["indiv"]
        params = {p: indiv[:, k] for k, p in enumerate(model.coords["param"])}
        values = exposure.plan.evaluate(params, info.spec.structure, pt)[design.pk_units]
        logx = pt.log(values)[None, :]
        pm.Deterministic("er_exposure", pt.exp(logx), dims=("imputation", "unit"))
        add_er_model(design, model_name, logx, 1, priors, _positions(subjects, design),
                     time_scale)
    return model, dict(info.initvals), gated_variables(model)


def _positions(subjects: Sequence[Any], design: ERDesign) -> np.ndarray:
    """Position of each unit's subject among ``subjects``."""
    return pd.Index(list(subjects)).get_indexer(design.units["ID"])


def _stacked_model(design: ERDesign, logx: np.ndarray | LatentPrior, model_name: str,
                   priors: ERPriors, time_scale: float) -> tuple[Any, list[str]]:
    """Build the E-R model on fixed log exposures ``(m, n_units)`` or on a latent exposure."""
    import pymc as pm

    m = 1 if isinstance(logx, LatentPrior) else logx.shape[0]
    coords = {"imputation": list(range(m)), "unit": _unit_labels(design)}
    if design.kind == "peak":
        coords["subject"] = [str(s) for s in design.subjects]
    with pm.Model(coords=coords) as model:
        lx = add_latent_exposure(logx) if isinstance(logx, LatentPrior) else logx
        names = add_er_model(design, model_name, lx, m, priors, time_scale=time_scale)
    return model, names


def fit_er(clinical: ClinicalData | None, pk: Any, *, endpoint: str = "crcrh",
           exposure: str = "css", uncertainty: str = "propagated", model: str | None = None,
           dataset: Dataset | None = None, covariates: Sequence[str] = (),
           n_imputations: int = N_IMPUTATIONS, priors: ERPriors | None = None,
           pk_spec: Any = None, pk_options: Mapping[str, Any] | None = None,
           window: tuple[float, float] | None = None, landmark_months: float = 12.0,
           draws: int = 1000, tune: int = 1000, chains: int = 2, seed: int | None = None,
           target_accept: float = 0.9, progressbar: bool = False,
           gates: ConvergenceGates | None = None, sampler: str = "default",
           nutpie_backend: str = "auto", regimens: bool = True) -> ERFit:
    """Fit an exposure-response model of one endpoint.

    Parameters
    ----------
    clinical : ClinicalData or None
        Subjects, assessments, adverse events (:func:`blinapk.data.read_clinical`);
        None for cytokine peaks without covariates.
    pk : PopPKFit, Dataset or Exposure
        Where exposures come from: a population-PK fit (with ``dataset``), the
        event table (a population-PK model is fitted first, with ``pk_spec``
        and ``pk_options``), or exposures already computed
        (:func:`blinapk.er.observed_exposure` for the NCA Css,
        :func:`blinapk.er.exposure_from_params` for known parameters).
    endpoint : str
        A name of :data:`blinapk.er.ENDPOINTS` (``crcrh``, ``mrd``, ``crs``,
        ``crs3``, ``neuro``, ``neuro3``, ``rfs``, ``os``, ``il2`` ... ``ifng``).
    exposure : str
        Metric (:mod:`blinapk.er.metrics`): ``css`` (default), ``css_start``,
        ``cavg``, ``cmax_start``, ``cmax_step``; peaks: ``css``, ``delta_css``,
        ``cmax`` per event. Ignored when ``pk`` is an Exposure.
    uncertainty : {"propagated", "plugin", "joint", "imputation"}
        How the exposure uncertainty is carried (module docstring);
        ``imputation`` attenuates the slope and is for comparison only.
    model : str, optional
        ``logistic`` (default), ``emax`` or ``sigmoid_emax`` for binary
        endpoints; ``weibull`` for time to event; ``emax`` (default) or
        ``sigmoid_emax`` for peaks.
    dataset : Dataset, optional
        The event table the PK fit was made on (needed with a PopPKFit).
    covariates : sequence of str
        Subjects-table columns, e.g. ``("BLAST", "AGEGROUP", "ARM")``.
    n_imputations : int
        PK posterior draws imputed (``imputation`` mode only).
    priors : ERPriors, optional
        Prior scales.
    pk_spec, pk_options
        PopPKSpec and options of :func:`blinapk.poppk.fit` used when ``pk`` is
        a Dataset (and for the joint model).
    window : (float, float), optional
        ``cavg`` averaging window, hours after the first infusion.
    landmark_months : float
        Time-to-event: the survival probability reported on the curves.
    draws, tune, chains, seed, target_accept, progressbar, sampler, nutpie_backend
        NUTS settings (:class:`blinapk.mcmc.SamplerSettings`).
    gates : ConvergenceGates, optional
        Convergence thresholds.
    regimens : bool
        Predict the response at the label regimens (needs PK parameters).

    Returns
    -------
    ERFit

    Raises
    ------
    ModelSpecError
        Unknown endpoint, metric, model or uncertainty mode, or a combination
        that cannot be fitted (joint without PK data).
    DataValidationError
        A table the endpoint needs is missing, or too few units remain.

    Warns
    -----
    ConvergenceWarning
        A convergence gate failed.
    """
    t_start = time.perf_counter()
    uncertainty = str(uncertainty).lower()
    if uncertainty not in UNCERTAINTY:
        raise ModelSpecError(f"uncertainty: use one of {UNCERTAINTY}, got {uncertainty!r}")
    ep = get_endpoint(endpoint)
    model_name = check_model(ep.kind, model)
    if int(n_imputations) < 2 and uncertainty == "imputation":
        raise ModelSpecError("n_imputations: the imputation mode needs at least 2")
    settings = SamplerSettings(draws=draws, tune=tune, chains=chains, seed=seed,
                               target_accept=target_accept, sampler=sampler,
                               nutpie_backend=nutpie_backend, progressbar=progressbar)
    priors = priors or ERPriors()
    level = "event" if ep.kind == "peak" else "subject"
    if isinstance(pk, Exposure) and pk.level != level:
        raise ModelSpecError(f"exposure: endpoint {ep.name} needs {level}-level exposures (one "
                             f"per {'dose event' if level == 'event' else 'subject'}), got the "
                             f"{pk.level} metric {pk.metric!r}")
    data_for_outcomes = pk if isinstance(pk, Dataset) else dataset
    outcomes = derive_outcomes(ep.name, clinical, data_for_outcomes)
    expo, pk_fit, pk_model = _exposure(pk, data_for_outcomes, exposure, level, uncertainty,
                                       pk_spec, pk_options or {}, window)
    design = make_design(outcomes, expo, covariates)
    time_scale = float(design.units["TIME"].mean()) if ep.kind == "tte" else 1.0
    timings = {"prepare_s": time.perf_counter() - t_start}
    extra: dict[str, Any] = {}
    if uncertainty == "joint":
        pk_model, initvals, gated = _joint_model(pk_model, design, expo, model_name, priors,
                                                 time_scale)
        from blinapk.poppk.starts import make_start_fn

        settings = settings.resolved(n_obs=int(pk_model["time"].get_value().size))
        idata, t = sample_nuts(pk_model, settings, initvals=initvals, chain_starts=make_start_fn)
        m_imp, group_dim, fitted = 1, "subject", pk_model
    else:
        m_imp = min(int(n_imputations), expo.n_draws) if uncertainty == "imputation" else 1
        if uncertainty in ("propagated", "imputation") and expo.n_draws < 2:
            raise ModelSpecError(f"{uncertainty}: the exposure has a single draw; use plugin")
        if uncertainty == "propagated":
            prior = latent_prior(design.exposure_draws)
            fitted, gated = _stacked_model(design, prior, model_name, priors, time_scale)
            extra["latent_max_abs_skew"] = prior.max_abs_skew
        else:
            x = (design.exposure_draws.mean(axis=1, keepdims=True) if m_imp == 1 else
                 design.imputed(m_imp))
            fitted, gated = _stacked_model(design, np.log(x).T, model_name, priors,
                                           time_scale)
        # sized by one copy: the copies are independent, and JAX compiles the stacked model
        # in a second or two where numba takes tens of seconds
        settings = settings.resolved(n_obs=design.n)
        idata, t = sample_nuts(fitted, settings)
        group_dim = ("imputation", "subject", "latent") if m_imp > 1 else ("subject", "latent")
    timings.update(t)
    convergence = check_convergence(idata, var_names=gated, gates=gates, group_dim=group_dim)
    warn_if_failed(convergence, stacklevel=2)
    result = ERFit.from_fit(
        idata, design=design, exposure=expo, endpoint=ep.name, model_name=model_name,
        uncertainty=uncertainty, n_imputations=m_imp, priors=priors, time_scale=time_scale,
        landmark_months=landmark_months, convergence=convergence, model=fitted,
        settings={"sampler": settings.label, "draws": settings.draws, "tune": settings.tune,
                  "chains": settings.chains, "seed": settings.seed,
                  "target_accept": settings.target_accept, "gated": gated,
                  "covariates": list(covariates),
                  "pk_data_hash": getattr(pk_fit, "data_hash", ""),
                  "pk_converged": getattr(pk_fit, "converged", None),
                  "clinical_hash": clinical.hash if clinical is not None else ""} | extra,
        pk_fit=pk_fit, dataset=data_for_outcomes, regimens=regimens, timings=timings)
    stamp_er(result)
    result.timings["total_s"] = time.perf_counter() - t_start
    return result

