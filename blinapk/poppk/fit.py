"""Fit a population-PK model: NUTS (nutpie / PyMC / NumPyro / BlackJAX), MAP or Laplace.

:func:`fit` builds the model (:func:`blinapk.poppk.build.build_model`), runs
the chosen method from data-driven starting values, adds the log-likelihood
(for LOO) and optionally posterior-predictive draws, stamps the
InferenceData with everything needed to reproduce and check it, gates
convergence (:mod:`blinapk.diagnostics.convergence`) and returns a frozen
:class:`PopPKFit`.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from blinapk._version import __version__
from blinapk.cards import ModelCard
from blinapk.data import Dataset
from blinapk.diagnostics.convergence import (
    ConvergenceGates,
    check_convergence,
    warn_if_failed,
)
from blinapk.errors import ModelSpecError
from blinapk.poppk.build import BuildInfo, build_model, gated_variables, model_info
from blinapk.poppk.priors import PriorConfig
from blinapk.poppk.result import PopPKFit
from blinapk.poppk.spec import PopPKSpec
from blinapk.poppk.starts import install_starts, make_start_fn

__all__ = ["DEFAULT_SAMPLER", "METHODS", "NUMBA_FROM_N_OBS", "SAMPLERS", "fit",
           "resolve_nutpie_backend"]

#: Samplers accepted by :func:`fit`; ``"default"`` means :data:`DEFAULT_SAMPLER`.
SAMPLERS: tuple[str, ...] = ("default", "nutpie", "pymc", "numpyro", "blackjax")
#: Sampler used for ``sampler="default"``.
DEFAULT_SAMPLER = "nutpie"
#: Fitting methods.
METHODS: tuple[str, ...] = ("nuts", "map", "laplace")


#: From this many observations ``nutpie_backend="auto"`` compiles with numba.
NUMBA_FROM_N_OBS = 2000


def resolve_nutpie_backend(requested: str = "auto", n_obs: int | None = None) -> str:
    """Backend nutpie compiles the model with.

    ``auto``: JAX for small datasets (fewer than :data:`NUMBA_FROM_N_OBS`
    observations), numba from there on, and numba whenever JAX is not
    importable. The trade-off, measured in docs/benchmarks-poppk.md: JAX
    compiles in about 2 s but calls back into Python for every gradient, so
    two chains barely run in parallel (N = 200 subjects, 2372 observations:
    27-38 s of sampling); numba compiles for 20-25 s but then samples without
    Python and both chains run truly in parallel (5-15 s at N = 200; 193 s at
    N = 3000, where JAX is several times slower). Below about 2000
    observations the compile time dominates; above, the sampling does.

    Parameters
    ----------
    requested : {"auto", "jax", "numba"}
        The user's choice.
    n_obs : int, optional
        Observations in the likelihood (``auto`` only); unknown = small.

    Returns
    -------
    str
        ``"jax"`` or ``"numba"``.

    Raises
    ------
    ModelSpecError
        Unknown backend.

    Examples
    --------
    >>> resolve_nutpie_backend("numba")
    'numba'
    >>> resolve_nutpie_backend("auto", n_obs=40_000)
    'numba'
    """
    requested = str(requested).lower()
    if requested not in ("auto", "jax", "numba"):
        raise ModelSpecError(f"nutpie_backend: use auto, jax or numba, got {requested!r}")
    if requested != "auto":
        return requested
    if n_obs is not None and n_obs >= NUMBA_FROM_N_OBS:
        return "numba"
    try:
        import jax  # noqa: F401
    except ImportError:
        return "numba"
    return "jax"


def _sample_nuts(model: Any, info: BuildInfo, sampler: str, *, draws: int, tune: int,
                 chains: int, seed: int, progressbar: bool, target_accept: float,
                 cores: int | None, backend: str) -> tuple[Any, dict[str, float]]:
    import pymc as pm

    timings: dict[str, float] = {}
    initvals = dict(info.initvals)
    if sampler == "nutpie":
        import nutpie
        from pymc.model.transform.optimization import freeze_dims_and_data

        t0 = time.perf_counter()
        # Data become constants: JAX needs static shapes, and numba samples about 2x
        # faster with constants it can fold (N = 200: 4.8 s vs 10 s). Frozen here, not
        # inside nutpie, so that the start function describes the compiled model.
        target = freeze_dims_and_data(model)
        compiled = nutpie.compile_pymc_model(
            target, backend=backend, gradient_backend="jax" if backend == "jax" else "pytensor",
            initial_points=initvals, jitter_rvs=set(), freeze_model=False)
        # each chain starts at the data-driven values plus a jitter scaled by role
        compiled = install_starts(compiled, *make_start_fn(target, initvals))
        timings["compile_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        idata = nutpie.sample(compiled, draws=draws, tune=tune, chains=chains, seed=seed,
                              progress_bar=progressbar, target_accept=target_accept,
                              cores=cores or min(chains, os.cpu_count() or 1),
                              save_warmup=False)
        timings["sample_s"] = time.perf_counter() - t0
        return idata, timings
    t0 = time.perf_counter()
    kwargs: dict[str, Any] = {}
    if sampler == "pymc":
        kwargs = {"cores": cores or min(chains, os.cpu_count() or 1),
                  "init": "jitter+adapt_diag", "compute_convergence_checks": False,
                  "idata_kwargs": {"log_likelihood": False}}
    else:
        kwargs = {"nuts_sampler": sampler,
                  "nuts_sampler_kwargs": {"chain_method": "sequential"}}
    with model, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*initval.*")
        idata = pm.sample(draws=draws, tune=tune, chains=chains, random_seed=seed,
                          progressbar=progressbar, target_accept=target_accept,
                          initvals=initvals, **kwargs)
    timings["sample_s"] = time.perf_counter() - t0
    return idata, timings


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


def _covariate_ranges(info: BuildInfo) -> dict[str, list[float]]:
    out = {}
    for c in info.spec.covariates:
        if c.form != "categorical":
            x = info.data.cov_subject[c.covariate].astype(float)
            out[c.covariate] = [float(np.min(x)), float(np.percentile(x, 5)),
                                float(np.percentile(x, 95)), float(np.max(x))]
    return out


def stamp(idata: Any, info: BuildInfo, *, sampler: str, method: str, seed: int,
          settings: Mapping[str, Any]) -> dict[str, Any]:
    """Write the provenance attributes into ``idata.posterior.attrs`` and return them."""
    attrs = {
        "blinapk_version": __version__,
        "blinapk_spec": info.spec.to_json(),
        "blinapk_priors": info.priors.to_json(),
        "blinapk_card": info.card_name,
        "blinapk_data_hash": info.data.data_hash,
        "blinapk_sampler": sampler,
        "blinapk_method": method,
        "blinapk_seed": int(seed),
        "blinapk_parameterisation": json.dumps(
            {p: c.to_dict() for p, c in info.parameterisation.items()}, sort_keys=True),
        "blinapk_init_source": json.dumps(dict(info.init.source), sort_keys=True),
        "blinapk_settings": json.dumps(dict(settings), sort_keys=True),
        "blinapk_covariate_ranges": json.dumps(_covariate_ranges(info), sort_keys=True),
        "blinapk_ledger_counts": info.data.ledger.counts(by="status").to_json(orient="records"),
    }
    idata.posterior.attrs.update(attrs)
    return attrs


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
        target_accept: float = 0.8, cores: int | None = None,
        gates: ConvergenceGates | None = None, nutpie_backend: str = "auto") -> PopPKFit:
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
        NUTS implementation; ``"default"`` is :data:`DEFAULT_SAMPLER`.
        ``numpyro`` and ``blackjax`` need the ``jax`` extra.
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
    target_accept : float, default 0.8
        NUTS target acceptance; raise to 0.9-0.95 if divergences appear.
    cores : int, optional
        Parallel chains (default ``min(chains, cpu count)``).
    gates : ConvergenceGates, optional
        Convergence thresholds (NUTS only).
    nutpie_backend : {"auto", "jax", "numba"}
        Compiler of the nutpie sampler; ``auto`` = JAX below
        :data:`NUMBA_FROM_N_OBS` observations (fast to compile), numba from
        there on (chains truly in parallel); see :func:`resolve_nutpie_backend`.

    Returns
    -------
    PopPKFit
        Frozen result holding the stamped InferenceData.

    Raises
    ------
    ModelSpecError
        Unknown sampler or method, bad spec or priors.

    Warns
    -----
    ConvergenceWarning
        When a convergence gate fails, with advice.
    """
    sampler = str(sampler).lower()
    method = str(method).lower()
    if sampler not in SAMPLERS:
        raise ModelSpecError(f"sampler: unknown sampler {sampler!r}; use one of {SAMPLERS}")
    if method not in METHODS:
        raise ModelSpecError(f"method: unknown method {method!r}; use one of {METHODS}")
    for name, value, low in (("draws", draws, 1), ("tune", tune, 0), ("chains", chains, 1)):
        if int(value) < low:
            raise ModelSpecError(f"{name}: must be >= {low}, got {value}")
    if sampler == "default":
        sampler = DEFAULT_SAMPLER
    resolve_nutpie_backend(nutpie_backend)  # reject a bad name before any work
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    seed = int(seed)

    t_start = time.perf_counter()
    model = build_model(dataset, spec, priors=priors, card=card)
    info = model_info(model)
    backend = resolve_nutpie_backend(nutpie_backend, n_obs=info.data.n_obs)
    timings = {"build_s": time.perf_counter() - t_start}
    convergence = None
    result_sampler = sampler if method == "nuts" else "scipy"
    if result_sampler == "nutpie":
        result_sampler = f"nutpie-{backend}"
    if method == "nuts":
        idata, t = _sample_nuts(model, info, sampler, draws=int(draws), tune=int(tune),
                                chains=int(chains), seed=seed, progressbar=progressbar,
                                target_accept=float(target_accept), cores=cores,
                                backend=backend)
        timings.update(t)
    else:
        from blinapk.poppk.laplace import fit_laplace

        t0 = time.perf_counter()
        model, info, res, values = _fit_mode(dataset, model, info, card, seed)
        if method == "map":
            values = {k: np.asarray(v)[None, None, ...] for k, v in values.items()}
        else:
            start = {rv.name: values[rv.name] for rv in model.free_RVs}
            res, values = fit_laplace(model, start, draws=int(draws), chains=int(chains),
                                      seed=seed)
        timings["optimise_s"] = time.perf_counter() - t0
        idata = _idata_from_draws(values, model)
        idata.posterior.attrs["blinapk_optimiser"] = json.dumps(
            {"success": res.success, "message": res.message, "n_eval": res.n_eval,
             "logp": res.logp})
    _add_data_groups(idata, model, info)
    t0 = time.perf_counter()
    if log_likelihood:
        import pymc as pm

        pm.compute_log_likelihood(idata, model=model, extend_inferencedata=True,
                                  progressbar=False)
    if posterior_predictive:
        import pymc as pm

        pm.sample_posterior_predictive(idata, model=model, var_names=["conc"],
                                       random_seed=seed, extend_inferencedata=True,
                                       progressbar=False)
    timings["post_s"] = time.perf_counter() - t0
    settings = {"draws": int(draws), "tune": int(tune), "chains": int(chains),
                "target_accept": float(target_accept)}
    stamp(idata, info, sampler=result_sampler, method=method, seed=seed, settings=settings)
    if method == "nuts":
        free = gated_variables(model)
        # reloading gates exactly these again (the posterior also holds sampler-side
        # unconstrained copies such as omega_V_log__ and deterministics)
        idata.posterior.attrs["blinapk_gated_vars"] = json.dumps(free)
        convergence = check_convergence(idata, var_names=free, gates=gates,
                                        parameterisation=info.chosen, group_dim="subject")
        warn_if_failed(convergence, stacklevel=2)
    timings["total_s"] = time.perf_counter() - t_start
    return PopPKFit(
        idata=idata, spec=info.spec, priors=info.priors, card_name=info.card_name,
        method=method, sampler=result_sampler, seed=seed,
        parameterisation=info.chosen, data_hash=info.data.data_hash,
        ledger=info.data.ledger, timings=timings, convergence=convergence, model=model)
