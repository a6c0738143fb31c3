"""Bayesian workflow pieces shared by every PyMC model of blinapk.

* :mod:`blinapk.mcmc.convergence`: convergence gates (R-hat, bulk/tail ESS,
  divergences, E-BFMI) with advice (:func:`check_convergence`).
* :mod:`blinapk.mcmc.settings`: the sampler vocabulary and the validated
  settings of one run (:class:`SamplerSettings`, :func:`resolve_nutpie_backend`).
* :mod:`blinapk.mcmc.nuts`: running NUTS on a ``pymc.Model``
  (:func:`sample_nuts`).
* :mod:`blinapk.mcmc.jaxnuts`: NumPyro's NUTS on the model's log density
  compiled as one JAX function (:func:`sample_jax_nuts`).
* :mod:`blinapk.mcmc.cache`: JAX's persistent compilation cache in a user
  cache directory (:func:`enable_jax_cache`).
* :mod:`blinapk.mcmc.starts`: seeded, per-variable jittered chain starts for
  nutpie (:func:`jittered_start_fn`, :func:`install_starts`).
* :mod:`blinapk.mcmc.gcfreeze`: the objects alive before a fit kept out of
  the garbage collector's passes while it builds and samples
  (:func:`~blinapk.mcmc.gcfreeze.frozen_heap`).

This layer knows no pharmacology: it imports only :mod:`blinapk.errors` and
third-party libraries (PyMC, nutpie, NumPyro and ArviZ on first use), so population PK
(:mod:`blinapk.poppk`) and any other model build on it.
"""

from blinapk.mcmc.cache import cache_dir, enable_jax_cache
from blinapk.mcmc.convergence import (
    ConvergenceGates,
    ConvergenceReport,
    GateResult,
    check_convergence,
    warn_if_failed,
)
from blinapk.mcmc.jaxnuts import sample_jax_nuts
from blinapk.mcmc.nuts import sample_nuts
from blinapk.mcmc.settings import (
    DEFAULT_SAMPLER,
    JAX_NUTS_BELOW_N_OBS,
    NUMBA_FROM_N_OBS,
    NUTPIE_BACKENDS,
    PRECISIONS,
    SAMPLERS,
    SamplerSettings,
    resolve_nutpie_backend,
)
from blinapk.mcmc.starts import ChainStarts, half_widths, install_starts, jittered_start_fn

__all__ = [
    "DEFAULT_SAMPLER",
    "JAX_NUTS_BELOW_N_OBS",
    "NUMBA_FROM_N_OBS",
    "NUTPIE_BACKENDS",
    "PRECISIONS",
    "SAMPLERS",
    "ChainStarts",
    "ConvergenceGates",
    "ConvergenceReport",
    "GateResult",
    "SamplerSettings",
    "cache_dir",
    "check_convergence",
    "enable_jax_cache",
    "half_widths",
    "install_starts",
    "jittered_start_fn",
    "resolve_nutpie_backend",
    "sample_jax_nuts",
    "sample_nuts",
    "warn_if_failed",
]
