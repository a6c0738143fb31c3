"""NUTS in NumPyro on a PyMC model's log density, compiled once by XLA.

For small and mid-sized models the cost of a fit is compilation plus a few
thousand gradients of a cheap log density. Here the PyMC model (data frozen to
constants) becomes one JAX function with three kinds of output: the joint log
density (with the Jacobians of the transforms), the posterior variables on
their natural scale (including deterministics) and the pointwise
log-likelihood of each observed variable. NumPyro's NUTS
(``potential_fn`` = minus the log density) then runs the warm-up and the draws
inside XLA, with no call back into Python per gradient, and the other outputs
are evaluated once over all draws with ``jax.vmap``. The log-likelihood group
needed for LOO therefore costs no separate pass.

Chains run in parallel, one per XLA host device, when JAX has not been started
yet in this process (the device count can only be set before that); otherwise
they run one after the other. ``idata.sample_stats.attrs["chain_method"]``
records which.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from blinapk.mcmc.cache import enable_jax_cache
from blinapk.mcmc.settings import SamplerSettings

__all__ = ["request_host_devices", "sample_jax_nuts"]

_DEVICE_FLAG = "--xla_force_host_platform_device_count"


def request_host_devices(n: int) -> str:
    """Ask XLA for ``n`` CPU devices so that ``n`` chains can run in parallel.

    Parameters
    ----------
    n : int
        Chains wanted in parallel.

    Returns
    -------
    str
        ``"parallel"`` when at least ``n`` devices are (or will be) available,
        else ``"sequential"`` (JAX already started with fewer devices).
    """
    import jax
    from jax._src import xla_bridge

    if n <= 1:
        return "sequential"
    if xla_bridge.backends_are_initialized():
        return "parallel" if jax.local_device_count() >= n else "sequential"
    flags = os.environ.get("XLA_FLAGS", "")
    if _DEVICE_FLAG not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {_DEVICE_FLAG}={n}".strip()
    return "parallel" if jax.local_device_count() >= n else "sequential"


def _layout(model: Any) -> tuple[list[str], list[tuple[int, ...]]]:
    """Names and shapes of the model's value variables (unconstrained), in model order."""
    names = [v.name for v in model.value_vars]
    shapes = [v.type.shape for v in model.value_vars]
    if any(d is None for shape in shapes for d in shape):
        # shapes not static (data not frozen): ask PyMC for a point (compiles a function)
        point = model.initial_point()
        shapes = [np.shape(point[n]) for n in names]
    return names, [tuple(int(d) for d in shape) for shape in shapes]


def _jax_functions(model: Any, log_likelihood: bool) -> tuple[Callable, list[str], list[str]]:
    """One jaxified graph: [joint logp, posterior variables..., pointwise obs logps...]."""
    import pytensor.tensor as pt
    from pymc.sampling.jax import get_jaxified_graph
    from pymc.util import get_default_varnames

    free, observed = list(model.free_RVs), list(model.observed_RVs)
    # one logp graph (its construction is the slow part): joint = sum of all terms,
    # pointwise log-likelihood = the observed terms
    terms = model.logp(vars=[*free, *observed, *model.potentials], sum=False)
    logp = pt.sum([pt.sum(term) for term in terms])
    posterior = get_default_varnames(model.unobserved_value_vars, include_transformed=False)
    if not log_likelihood:
        observed = []
    pointwise = terms[len(free): len(free) + len(observed)]
    fn = get_jaxified_graph(inputs=model.value_vars, outputs=[logp, *posterior, *pointwise])
    return fn, [v.name for v in posterior], [v.name for v in observed]


def _unflatten(names: Sequence[str], shapes: Sequence[tuple[int, ...]]
               ) -> Callable[[Any], list[Any]]:
    sizes = [int(np.prod(s)) for s in shapes]
    bounds = np.cumsum([0, *sizes])

    def split(flat: Any) -> list[Any]:
        return [flat[a:b].reshape(s) for a, b, s in zip(bounds[:-1], bounds[1:], shapes,
                                                        strict=True)]

    return split


def sample_jax_nuts(model: Any, settings: SamplerSettings,
                    start_fn: Callable[[Any], np.ndarray], *,
                    log_likelihood: bool = False) -> tuple[Any, dict[str, float]]:
    """Draw from ``model``'s posterior with NumPyro's NUTS.

    Parameters
    ----------
    model : pymc.Model
        A model with its data frozen to constants
        (``pymc.model.transform.optimization.freeze_dims_and_data``).
    settings : SamplerSettings
        Draws, warm-up, chains, seed, target acceptance, progress bar.
    start_fn : callable
        ``start_fn(seed) -> flat unconstrained start`` (value variables in
        model order, see :mod:`blinapk.mcmc.starts`); chain ``c`` starts at
        ``start_fn(seed + c)``.
    log_likelihood : bool, default False
        Add the pointwise ``log_likelihood`` group (one variable per observed
        variable, as ``pymc.compute_log_likelihood`` makes it).

    Returns
    -------
    idata : arviz.InferenceData
        ``posterior``, ``sample_stats`` (``diverging``, ``n_steps``,
        ``tree_depth``, ``energy``, ``lp``, ``acceptance_rate``,
        ``step_size``) and, if asked, ``log_likelihood``.
    timings : dict
        Seconds: ``compile_s`` (building the JAX function), ``sample_s``
        (XLA compilation, warm-up and draws) and ``post_s`` (posterior
        variables and log-likelihood over the draws).
    """
    chain_method = request_host_devices(settings.chains)
    import arviz as az
    import jax
    import jax.numpy as jnp
    from numpyro.infer import MCMC, NUTS

    jax.config.update("jax_enable_x64", True)
    enable_jax_cache()
    t0 = time.perf_counter()
    fn, post_names, obs_names = _jax_functions(model, log_likelihood)
    names, shapes = _layout(model)
    split = _unflatten(names, shapes)

    def potential(flat: Any) -> Any:
        return -fn(*split(flat))[0]

    starts = np.stack([np.asarray(start_fn(settings.seed + c), dtype=np.float64)
                       for c in range(settings.chains)])
    timings = {"compile_s": time.perf_counter() - t0}

    t0 = time.perf_counter()
    kernel = NUTS(potential_fn=potential, target_accept_prob=settings.target_accept)
    mcmc = MCMC(kernel, num_warmup=settings.tune, num_samples=settings.draws,
                num_chains=settings.chains, chain_method=chain_method,
                progress_bar=settings.progressbar)
    mcmc.run(jax.random.PRNGKey(settings.seed),
             init_params=jnp.asarray(starts if settings.chains > 1 else starts[0]),
             extra_fields=("diverging", "num_steps", "energy", "potential_energy",
                           "accept_prob", "adapt_state.step_size"))
    flat = mcmc.get_samples(group_by_chain=True)
    flat.block_until_ready()
    extra = mcmc.get_extra_fields(group_by_chain=True)
    timings["sample_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    outputs = jax.jit(jax.vmap(jax.vmap(lambda x: fn(*split(x))[1:])))(flat)
    outputs = [np.asarray(o) for o in outputs]
    posterior = dict(zip(post_names, outputs[: len(post_names)], strict=True))
    loglik = dict(zip(obs_names, outputs[len(post_names):], strict=True))
    n_steps = np.asarray(extra["num_steps"])
    stats = {
        "diverging": np.asarray(extra["diverging"]).astype(bool),
        "n_steps": n_steps,
        "tree_depth": (np.floor(np.log2(np.maximum(n_steps, 1))) + 1).astype(int),
        "energy": np.asarray(extra["energy"]),
        "lp": -np.asarray(extra["potential_energy"]),
        "acceptance_rate": np.asarray(extra["accept_prob"]),
        "step_size": np.asarray(extra["adapt_state.step_size"]),
    }
    dims = {k: list(v) for k, v in model.named_vars_to_dims.items() if v}
    coords = {k: list(v) for k, v in model.coords.items()}
    idata = az.from_dict(posterior=posterior, sample_stats=stats,
                         log_likelihood=loglik or None, coords=coords, dims=dims)
    idata.sample_stats.attrs["sampler"] = "numpyro"
    idata.sample_stats.attrs["chain_method"] = chain_method
    timings["post_s"] = time.perf_counter() - t0
    return idata, timings
