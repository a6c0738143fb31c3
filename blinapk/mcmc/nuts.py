"""Run NUTS on a PyMC model with nutpie, NumPyro, PyMC or BlackJAX.

:func:`sample_nuts` is the sampling step every PyMC model of blinapk shares:
the model-specific parts (building the model, its starting values, how far
each chain's start is jittered) come in as arguments, and the InferenceData
comes back with the seconds spent compiling and sampling. nutpie and NumPyro
(:mod:`blinapk.mcmc.jaxnuts`) sample a copy of the model with its data frozen
to constants and start each chain where ``chain_starts`` says.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from typing import Any

from blinapk.mcmc.cache import enable_jax_cache
from blinapk.mcmc.gcfreeze import frozen_heap
from blinapk.mcmc.settings import SamplerSettings, resolve_nutpie_backend
from blinapk.mcmc.starts import ChainStarts, install_starts, jittered_start_fn

__all__ = ["sample_nuts"]


def _frozen(model: Any) -> Any:
    """Copy of ``model`` with data and dims as constants (static shapes, folded constants)."""
    from pymc.model.transform.optimization import freeze_dims_and_data

    return freeze_dims_and_data(model)


def _sample_nutpie(model: Any, settings: SamplerSettings, initvals: dict[str, Any],
                   chain_starts: ChainStarts) -> tuple[Any, dict[str, float]]:
    import nutpie

    backend = resolve_nutpie_backend(settings.nutpie_backend)
    if backend == "jax":
        enable_jax_cache()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    # Data become constants: JAX needs static shapes, and numba samples about 2x
    # faster with constants it can fold (N = 200: 4.8 s vs 10 s). Frozen here, not
    # inside nutpie, so that the start function describes the compiled model.
    target = _frozen(model)
    compiled = nutpie.compile_pymc_model(
        target, backend=backend, gradient_backend="jax" if backend == "jax" else "pytensor",
        initial_points=initvals, jitter_rvs=set(), freeze_model=False)
    compiled = install_starts(compiled, *chain_starts(target, initvals))
    timings["compile_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    idata = nutpie.sample(compiled, draws=settings.draws, tune=settings.tune,
                          chains=settings.chains, seed=settings.seed,
                          progress_bar=settings.progressbar,
                          target_accept=settings.target_accept, cores=settings.n_cores,
                          save_warmup=False)
    timings["sample_s"] = time.perf_counter() - t0
    return idata, timings


#: Samplers that need an optional extra: sampler -> (modules, extra).
OPTIONAL_SAMPLERS: Mapping[str, tuple[tuple[str, ...], str]] = {
    "blackjax": (("jax", "blackjax"), "jax"),
}


def _require(sampler: str) -> None:
    """Raise a ModelSpecError naming the extra when ``sampler``'s packages are missing."""
    import importlib

    from blinapk.errors import ModelSpecError

    modules, extra = OPTIONAL_SAMPLERS.get(sampler, ((), ""))
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:
            raise ModelSpecError(
                f"sampler={sampler!r} needs {module!r}, which is not installed: "
                f"pip install 'blinapk[{extra}]' (or use the default sampler)") from None


def _sample_pm(model: Any, settings: SamplerSettings, initvals: dict[str, Any]
               ) -> tuple[Any, dict[str, float]]:
    import pymc as pm

    _require(settings.sampler)

    t0 = time.perf_counter()
    kwargs: dict[str, Any]
    if settings.sampler != "pymc":
        enable_jax_cache()
    if settings.sampler == "pymc":
        kwargs = {"cores": settings.n_cores, "init": "jitter+adapt_diag",
                  "compute_convergence_checks": False,
                  "idata_kwargs": {"log_likelihood": False}}
    else:
        kwargs = {"nuts_sampler": settings.sampler,
                  "nuts_sampler_kwargs": {"chain_method": "sequential"}}
    with model, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*initval.*")
        idata = pm.sample(draws=settings.draws, tune=settings.tune, chains=settings.chains,
                          random_seed=settings.seed, progressbar=settings.progressbar,
                          target_accept=settings.target_accept, initvals=initvals, **kwargs)
    return idata, {"sample_s": time.perf_counter() - t0}


def sample_nuts(model: Any, settings: SamplerSettings, *,
                initvals: Mapping[str, Any] | None = None,
                chain_starts: ChainStarts | None = None,
                log_likelihood: bool = False,
                variances: Mapping[str, Any] | None = None) -> tuple[Any, dict[str, float]]:
    """Draw from the posterior of ``model`` by NUTS.

    nutpie compiles a copy of the model with its data frozen to constants
    (backend ``settings.nutpie_backend``; ``auto`` without a size means JAX
    when importable, so pass ``settings.resolved(n_obs)`` to decide by size)
    and starts each chain at ``chain_starts``. NumPyro samples the same
    frozen copy, compiled as one JAX function
    (:func:`blinapk.mcmc.jaxnuts.sample_jax_nuts`), from the same starts.
    PyMC and BlackJAX run through ``pymc.sample`` from ``initvals`` with
    PyMC's own jitter; BlackJAX's chains run one after the other, PyMC's on
    ``settings.n_cores`` processes. ``sampler="default"`` means
    :data:`~blinapk.mcmc.settings.DEFAULT_SAMPLER` unless the settings were
    resolved for a size (:meth:`SamplerSettings.resolved`).

    Parameters
    ----------
    model : pymc.Model
        The model (not modified).
    settings : SamplerSettings
        Sampler, draws, warm-up, chains, seed, target acceptance, cores,
        nutpie backend, progress bar.
    initvals : mapping, optional
        Starting values by variable name (constrained scale).
    chain_starts : callable, optional
        nutpie only: ``chain_starts(frozen_model, initvals) -> (start_fn, centre)``
        (see :data:`blinapk.mcmc.starts.ChainStarts`); default
        :func:`~blinapk.mcmc.starts.jittered_start_fn`, U(-1, 1) around
        ``initvals`` on every unconstrained value. Also used by NumPyro.
    log_likelihood : bool, default False
        NumPyro only: add the pointwise ``log_likelihood`` group from the same
        compiled function (other samplers leave it to
        ``pymc.compute_log_likelihood``).
    variances : mapping, optional
        NumPyro only: approximate posterior variance of each unconstrained
        value variable (by name), the diagonal inverse mass matrix its warm-up
        starts from (identity where missing); nutpie, PyMC and BlackJAX start
        from the identity.

    Returns
    -------
    idata : arviz.InferenceData
        ``posterior`` and ``sample_stats`` (plus what the sampler adds).
    timings : dict
        Seconds: ``compile_s`` (nutpie, NumPyro), ``sample_s`` and ``post_s``
        (NumPyro: posterior variables and log-likelihood over the draws).

    Notes
    -----
    While it runs, the objects that existed before the call are out of the
    garbage collector's passes (:func:`blinapk.mcmc.gcfreeze.frozen_heap`);
    they are given back when it returns or raises.
    """
    # the objects from before the fit stay out of the collections the sampler's
    # compilation triggers (blinapk.mcmc.gcfreeze); nested in a caller's block: no-op
    with frozen_heap():
        return _sample(model, settings, dict(initvals or {}), chain_starts, log_likelihood,
                       variances)


def _sample(model: Any, settings: SamplerSettings, initvals: dict[str, Any],
            chain_starts: ChainStarts | None, log_likelihood: bool,
            variances: Mapping[str, Any] | None) -> tuple[Any, dict[str, float]]:
    if settings.sampler == "default":
        settings = settings.resolved()  # no size known: DEFAULT_SAMPLER
    if settings.sampler == "nutpie":
        return _sample_nutpie(model, settings, initvals, chain_starts or jittered_start_fn)
    if settings.sampler == "numpyro":
        from blinapk.mcmc.jaxnuts import sample_jax_nuts

        target = _frozen(model)
        start_fn, _ = (chain_starts or jittered_start_fn)(target, initvals)
        return sample_jax_nuts(target, settings, start_fn, log_likelihood=log_likelihood,
                               variances=variances)
    return _sample_pm(model, settings, initvals)
