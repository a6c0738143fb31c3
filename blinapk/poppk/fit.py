"""Fit a population-PK model: NUTS (nutpie / PyMC / NumPyro / BlackJAX), MAP or Laplace.

:func:`fit` builds the model (:func:`blinapk.poppk.build.build_model`), runs
the chosen method from data-driven starting values (NUTS:
:func:`blinapk.mcmc.sample_nuts` with the role-scaled chain starts of
:mod:`blinapk.poppk.starts`), adds the log-likelihood (for LOO) and
optionally posterior-predictive draws, stamps the InferenceData with
everything needed to reproduce and check it (:mod:`blinapk.poppk.stamp`),
gates convergence (:mod:`blinapk.mcmc.convergence`) and returns a frozen
:class:`PopPKFit`.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from blinapk.cards import ModelCard
from blinapk.data import Dataset
from blinapk.errors import ModelSpecError
from blinapk.mcmc import (
    JAX_NUTS_BELOW_N_OBS,
    ConvergenceGates,
    SamplerSettings,
    check_convergence,
    sample_nuts,
    warn_if_failed,
)
from blinapk.mcmc.gcfreeze import frozen_heap
from blinapk.poppk.build import BuildInfo, build_model, gated_variables, model_info
from blinapk.poppk.parameterisation import auto_precision, auto_target_accept
from blinapk.poppk.priors import PriorConfig
from blinapk.poppk.result import PopPKFit
from blinapk.poppk.spec import PopPKSpec
from blinapk.poppk.stamp import stamp
from blinapk.poppk.starts import make_start_fn
from blinapk.poppk.variances import approximate_variances

__all__ = ["METHODS", "fit"]

#: Fitting methods.
METHODS: tuple[str, ...] = ("nuts", "map", "laplace")


def _add_data_groups(idata: Any, model: Any, info: BuildInfo) -> None:
    """observed_data and constant_data (plus the dose levels per subject) when missing."""
    import arviz as az
    import xarray as xr

    groups = idata.groups()
    extra = {}
    if "observed_data" not in groups:
        obs = model["conc"]
        value = model.rvs_to_values[obs].data if hasattr(model.rvs_to_values[obs], "data") \
            else None
        if value is None:
            value = np.asarray(model.rvs_to_values[obs].eval())
        extra["observed_data"] = xr.Dataset(
            {"conc": ("obs", np.asarray(value))}, coords={"obs": np.asarray(model.coords["obs"])})
    const = {name: (model.named_vars_to_dims.get(name) or ("obs",),
                    np.asarray(model[name].get_value()))
             for name in ("time", "subject_index", "lloq", "cens", "rate")}
    rates = _dose_levels(info)
    const["dose_rate"] = (("subject", "dose_level"), rates)
    cds = xr.Dataset(
        {k: (d, v) for k, (d, v) in const.items()},
        coords={"obs": np.asarray(model.coords["obs"]),
                "subject": np.asarray(model.coords["subject"]),
                "dose_level": np.arange(rates.shape[1])})
    if "constant_data" in groups:
        cds = idata.constant_data.merge(cds, compat="override")
        del idata.constant_data
    extra["constant_data"] = cds
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata.add_groups(extra)
    _ = az  # imported for side effects of xarray accessors


def _dose_levels(info: BuildInfo) -> np.ndarray:
    """Distinct positive infusion rates (ug/h) each subject received, NaN-padded."""
    dm = info.data.doses
    rates = dm.rate
    levels = [np.unique(np.round(r[r > 0], 9)) for r in rates]
    width = max(1, max((lv.size for lv in levels), default=1))
    out = np.full((dm.n_subjects, width), np.nan)
    for i, lv in enumerate(levels):
        out[i, : lv.size] = lv
    return out


def _idata_from_draws(draws: Mapping[str, np.ndarray], model: Any) -> Any:
    import arviz as az

    dims = {k: list(v) for k, v in model.named_vars_to_dims.items() if v}
    coords = {k: list(v) for k, v in model.coords.items()}
    return az.from_dict(posterior=dict(draws), coords=coords, dims=dims)


#: A centered omega below this at the posterior mode has collapsed onto the
#: degenerate joint mode (all random effects equal, omega -> 0).
OMEGA_COLLAPSE = 1e-3


def _fit_mode(dataset: Dataset, model: Any, info: BuildInfo, card: Any, seed: int
              ) -> tuple[Any, BuildInfo, Any, dict[str, np.ndarray]]:
    """Posterior mode, guarding against the centered joint-mode collapse.

    The joint density of a centered (or partially centered) random effect is
    unbounded as omega -> 0 with every random effect at the mean, so an
    optimiser can run off to that degenerate mode when the data inform the
    effect only moderately. When an automatically (partially) centered
    parameter collapses (omega < :data:`OMEGA_COLLAPSE`),
    it is switched to non-centered and the mode is searched again.
    """
    from blinapk.poppk.laplace import fit_map

    res, values = fit_map(model, info.initvals, seed=seed)
    if info.spec.correlation:
        return model, info, res, values
    collapsed = [p for p, c in info.parameterisation.items()
                 if c.chosen in ("centered", "partial") and c.requested == "auto"
                 and float(values[f"omega_{p}"]) < OMEGA_COLLAPSE]
    if not collapsed:
        return model, info, res, values
    chosen = {p: c.chosen for p, c in info.parameterisation.items()}
    chosen.update({p: "noncentered" for p in collapsed})
    spec = replace(info.spec, parameterisation=tuple(sorted(chosen.items())))
    model = build_model(dataset, spec, priors=info.priors, card=card)
    info = model_info(model)
    res, values = fit_map(model, info.initvals, seed=seed)
    return model, info, res, values


def fit(dataset: Dataset, spec: PopPKSpec | None = None, *,
        priors: PriorConfig | Mapping[str, Any] | None = None,
        card: str | ModelCard | None = None, sampler: str = "default", draws: int = 1000,
        tune: int = 1000, chains: int = 2, seed: int | None = None, progressbar: bool = True,
        posterior_predictive: bool = False, log_likelihood: bool = True, method: str = "nuts",
        target_accept: float | None = None, cores: int | None = None,
        gates: ConvergenceGates | None = None, nutpie_backend: str = "auto",
        precision: str | None = None) -> PopPKFit:
    """Fit a Bayesian population-PK model.

    Parameters
    ----------
    dataset : Dataset
        From :func:`blinapk.data.read_dataset`.
    spec : PopPKSpec, optional
        Model specification (see :func:`blinapk.poppk.build.build_model`).
    priors : PriorConfig or mapping, optional
        Prior overrides (keys of :mod:`blinapk.poppk.priors`).
    card : str or ModelCard, optional
        Model card for informative priors and starting values.
    sampler : {"default", "nutpie", "pymc", "numpyro", "blackjax"}
        NUTS implementation; ``"default"`` is NumPyro
        (:mod:`blinapk.mcmc.jaxnuts`) below
        :data:`blinapk.mcmc.settings.JAX_NUTS_BELOW_N_OBS` observations and
        nutpie from there on. ``blackjax`` needs the ``jax`` extra.
    draws, tune, chains : int
        Posterior draws per chain, warm-up iterations, chains. For
        ``method="laplace"`` ``chains x draws`` independent draws are made.
    seed : int, optional
        Random seed; the same seed gives identical draws. Drawn at random
        (and recorded) when omitted.
    progressbar : bool, default True
        Show a progress bar while sampling.
    posterior_predictive : bool, default False
        Add ``posterior_predictive`` draws of ``conc`` (censored rows censored).
    log_likelihood : bool, default True
        Add the pointwise ``log_likelihood`` group (for LOO).
    method : {"nuts", "map", "laplace"}
        Full MCMC, the posterior mode, or the Laplace approximation
        (:mod:`blinapk.poppk.laplace`).
    target_accept : float, optional
        NUTS target acceptance, in (0, 1). Default: 0.8, or 0.99 when fewer
        than 20 subjects inform some random effect
        (:func:`blinapk.poppk.parameterisation.auto_target_accept`); raise it
        if divergences appear.
    cores : int, optional
        Parallel chains (default ``min(chains, cpu count)``).
    gates : ConvergenceGates, optional
        Convergence thresholds (NUTS only).
    nutpie_backend : {"auto", "jax", "numba"}
        Compiler of the nutpie sampler; ``auto`` = JAX below
        :data:`blinapk.mcmc.settings.NUMBA_FROM_N_OBS` observations (fast to
        compile), numba from there on (chains truly in parallel); see
        :func:`blinapk.mcmc.resolve_nutpie_backend`.
    precision : {"float32", "float64"}, optional
        NumPyro sampler only: precision of the log density and its gradient
        during warm-up and draws. Single precision makes a gradient about 1.5x
        cheaper on CPU; the posterior variables and the log-likelihood group
        are computed in double precision from the draws either way. Default:
        ``"float32"``, or ``"float64"`` when fewer than 20 subjects inform some
        random effect (:func:`blinapk.poppk.parameterisation.auto_precision`,
        the same rule as the target acceptance). ``"float64"`` samples in
        double precision throughout, as nutpie does for large trials.

    Returns
    -------
    PopPKFit
        Frozen result holding the stamped InferenceData.

    Raises
    ------
    ModelSpecError
        Unknown sampler, backend or method, bad sampler settings
        (:class:`blinapk.mcmc.SamplerSettings`), bad spec or priors.

    Warns
    -----
    ConvergenceWarning
        When a convergence gate fails, with advice.

    Notes
    -----
    The objects alive before the call (the imported libraries' several
    hundred thousand) are kept out of the garbage collector's passes until it
    returns (:func:`blinapk.mcmc.gcfreeze.frozen_heap`): model building and the
    translation to JAX otherwise trigger full collections that walk them all
    (collector time in a first 200-subject fit 0.44 s, with the freeze 0.10 s).
    """
    settings = SamplerSettings(draws=draws, tune=tune, chains=chains, seed=seed,
                               target_accept=0.8 if target_accept is None else target_accept,
                               cores=cores, sampler=sampler,
                               nutpie_backend=nutpie_backend, progressbar=progressbar,
                               precision="float32" if precision is None else precision)
    method = str(method).lower()
    if method not in METHODS:
        raise ModelSpecError(f"method: unknown method {method!r}; use one of {METHODS}")
    seed = settings.seed

    # PyMC, PyTensor and JAX objects from before the fit stay out of the collections
    # that model building and translation trigger (blinapk.mcmc.gcfreeze)
    with frozen_heap():
        t_start = time.perf_counter()
        model = build_model(dataset, spec, priors=priors, card=card)
        info = model_info(model)
        settings = settings.resolved(n_obs=info.data.n_obs, jax_nuts_below=JAX_NUTS_BELOW_N_OBS)
        if target_accept is None:
            settings = replace(settings, target_accept=auto_target_accept(info.parameterisation))
        if precision is None:
            settings = replace(settings, precision=auto_precision(info.parameterisation))
        timings = {"build_s": time.perf_counter() - t_start}
        convergence = None
        result_sampler = settings.label if method == "nuts" else "scipy"
        if method == "nuts":
            # each chain starts at the data-driven values plus a jitter scaled by role
            # NumPyro's warm-up starts from a design-based diagonal instead of the identity
            idata, t = sample_nuts(model, settings, initvals=info.initvals,
                                   chain_starts=make_start_fn, log_likelihood=log_likelihood,
                                   variances=approximate_variances(info))
            timings.update(t)
        else:
            from blinapk.poppk.laplace import fit_laplace

            t0 = time.perf_counter()
            model, info, res, values = _fit_mode(dataset, model, info, card, seed)
            if method == "map":
                values = {k: np.asarray(v)[None, None, ...] for k, v in values.items()}
            else:
                start = {rv.name: values[rv.name] for rv in model.free_RVs}
                res, values = fit_laplace(model, start, draws=settings.draws,
                                          chains=settings.chains, seed=seed)
            timings["optimise_s"] = time.perf_counter() - t0
            idata = _idata_from_draws(values, model)
            idata.posterior.attrs["blinapk_optimiser"] = json.dumps(
                {"success": res.success, "message": res.message, "n_eval": res.n_eval,
                 "logp": res.logp})
        _add_data_groups(idata, model, info)
        t0 = time.perf_counter()
        if log_likelihood and "log_likelihood" not in idata.groups():
            import pymc as pm

            pm.compute_log_likelihood(idata, model=model, extend_inferencedata=True,
                                      progressbar=False)
        if posterior_predictive:
            import pymc as pm

            pm.sample_posterior_predictive(idata, model=model, var_names=["conc"],
                                           random_seed=seed, extend_inferencedata=True,
                                           progressbar=False)
        timings["post_s"] = timings.get("post_s", 0.0) + time.perf_counter() - t0
        recorded = {"draws": settings.draws, "tune": settings.tune, "chains": settings.chains,
                    "target_accept": settings.target_accept}
        if method == "nuts" and result_sampler == "numpyro":
            recorded["precision"] = settings.precision
        stamp(idata, info, sampler=result_sampler, method=method, seed=seed, settings=recorded)
        if method == "nuts":
            free = gated_variables(model)
            # reloading gates exactly these again (the posterior also holds sampler-side
            # unconstrained copies such as omega_V_log__ and deterministics)
            idata.posterior.attrs["blinapk_gated_vars"] = json.dumps(free)
            convergence = check_convergence(idata, var_names=free, gates=gates,
                                            parameterisation=info.chosen, group_dim="subject",
                                            target_accept=settings.target_accept)
            warn_if_failed(convergence, stacklevel=2)
        timings["total_s"] = time.perf_counter() - t_start
        return PopPKFit(
            idata=idata, spec=info.spec, priors=info.priors, card_name=info.card_name,
            method=method, sampler=result_sampler, seed=seed,
            parameterisation=info.chosen, data_hash=info.data.data_hash,
            ledger=info.data.ledger, timings=timings, convergence=convergence, model=model)
