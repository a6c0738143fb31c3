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

Warm-up and draws run in ``settings.precision`` (default single precision:
about 1.5x cheaper gradients on CPU); the posterior variables and the
log-likelihood group are computed in double precision from the draws
(:mod:`blinapk.mcmc.nutsprogram`). ``idata.sample_stats.attrs["precision"]``
records the sampler's precision.

Chains run in parallel, one per XLA host device, when JAX has not been started
yet in this process (the device count can only be set before that); otherwise
they run one after the other. ``idata.sample_stats.attrs["chain_method"]``
records which.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from blinapk.mcmc.cache import enable_jax_cache
from blinapk.mcmc.nutsprogram import ChainProgram, chain_program, layout
from blinapk.mcmc.settings import SamplerSettings
from blinapk.mcmc.threefry import numpy_chain_keys

__all__ = ["inverse_mass_vector", "request_host_devices", "sample_jax_nuts"]

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


def sample_jax_nuts(model: Any, settings: SamplerSettings,
                    start_fn: Callable[[Any], np.ndarray], *,
                    log_likelihood: bool = False,
                    variances: Mapping[str, Any] | None = None) -> tuple[Any, dict[str, float]]:
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
    variances : mapping, optional
        Approximate posterior variance of each unconstrained value variable
        (by value-variable name, broadcast to its shape; 1 where missing): the
        diagonal inverse mass matrix NUTS starts its warm-up with, instead of
        the identity, until its first mass-matrix window ends (see
        :func:`inverse_mass_vector`).

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

    jax.config.update("jax_enable_x64", True)
    enable_jax_cache()
    t0 = time.perf_counter()
    program = chain_program(model, tune=settings.tune, draws=settings.draws,
                            target_accept=settings.target_accept, log_likelihood=log_likelihood,
                            precision=settings.precision)
    dtype = _param_dtype(program)
    # float64 starts and mass matrix rounded to the sampler's precision
    starts = np.stack([np.asarray(start_fn(settings.seed + c), dtype=np.float64)
                       for c in range(settings.chains)]).astype(dtype)
    inverse_mass = inverse_mass_vector(model, variances).astype(dtype)
    timings = {"compile_s": time.perf_counter() - t0}

    t0 = time.perf_counter()
    run = _parallel if chain_method == "parallel" else _sequential
    z, stats, outputs = run(program, starts, _chain_keys(settings.seed, settings.chains),
                            inverse_mass, settings)
    timings["sample_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    n_post = len(program.post_names)
    posterior = dict(zip(program.post_names, outputs[:n_post], strict=True))
    loglik = dict(zip(program.obs_names, outputs[n_post:], strict=True))
    # the sampler's statistics in float64 whatever its precision (as PyMC and nutpie give them)
    diverging, n_steps, energy, potential_energy, accept, step = (
        a.astype(np.float64) if a.dtype.kind == "f" else a for a in stats)
    sample_stats = {
        "diverging": diverging.astype(bool),
        "n_steps": n_steps,
        "tree_depth": (np.floor(np.log2(np.maximum(n_steps, 1))) + 1).astype(int),
        "energy": energy,
        "lp": -potential_energy,
        "acceptance_rate": accept,
        "step_size": step,
    }
    dims = {k: list(v) for k, v in model.named_vars_to_dims.items() if v}
    coords = {k: list(v) for k, v in model.coords.items()}
    idata = az.from_dict(posterior=posterior, sample_stats=sample_stats,
                         log_likelihood=loglik or None, coords=coords, dims=dims)
    idata.sample_stats.attrs["sampler"] = "numpyro"
    idata.sample_stats.attrs["chain_method"] = chain_method
    idata.sample_stats.attrs["program"] = program.source
    idata.sample_stats.attrs["precision"] = str(dtype)
    timings["post_s"] = time.perf_counter() - t0
    return idata, timings


def inverse_mass_vector(model: Any, variances: Mapping[str, Any] | None) -> np.ndarray:
    """Flat diagonal inverse mass matrix in the model's unconstrained layout.

    Parameters
    ----------
    model : pymc.Model
        The (frozen) model.
    variances : mapping or None
        Value-variable name -> variance (scalar or the variable's shape);
        missing names, and non-finite or non-positive values, get 1 (NumPyro's
        default, the identity).

    Returns
    -------
    numpy.ndarray
        One entry per unconstrained value, value variables in model order.

    Examples
    --------
    A variance per element, a non-positive one replaced, a variable not named:

    >>> import pymc as pm
    >>> with pm.Model() as m:
    ...     _ = pm.Exponential("rate", 2.0, shape=2)
    ...     _ = pm.Normal("shift", 0.0, 5.0)
    >>> inverse_mass_vector(m, {"rate_log__": [0.01, -1.0]})
    array([0.01, 1.  , 1.  ])
    """
    names, shapes = layout(model)
    variances = variances or {}
    parts = [np.broadcast_to(np.asarray(variances.get(name, 1.0), dtype=np.float64), shape)
             .ravel() for name, shape in zip(names, shapes, strict=True)]
    flat = np.concatenate(parts) if parts else np.zeros(0)
    return np.where(np.isfinite(flat) & (flat > 0), flat, 1.0)


def _param_dtype(program: ChainProgram) -> np.dtype:
    """Return the dtype of the position ``step`` samples (its start argument)."""
    import jax

    args, _ = jax.tree_util.tree_unflatten(program.step.in_tree, program.step.in_avals)
    return np.dtype(args[1].dtype)


def _chain_keys(seed: int, chains: int) -> np.ndarray:
    """Per-chain PRNG keys, as ``numpyro.infer.MCMC.run`` derives them from one seed."""
    import jax

    keys = numpy_chain_keys(seed, chains)
    if keys is not None:  # no XLA compilation for a few numbers
        return keys
    key = jax.random.PRNGKey(seed)
    return np.asarray(jax.random.split(key, chains) if chains > 1 else key[None])


def _steps(total: int, chunk: int) -> list[int]:
    """``total`` transitions as calls of at most ``chunk``."""
    return [min(chunk, total - lo) for lo in range(0, total, chunk)]


def _drive(step: Callable, post: Callable, starts: Any, keys: Any, inverse_mass: np.ndarray,
           program: ChainProgram, settings: SamplerSettings, axis: int
           ) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """Warm-up, draws and post-processing with one set of (mapped or single-chain) calls.

    ``axis`` is where the draw dimension sits in ``step``'s buffers (1 when
    the chains are mapped over the first axis, 0 for one chain). The first
    call initialises the chains (its ``state`` argument is ignored: zeros).
    """
    import jax

    bar = None
    if settings.progressbar:
        from tqdm.auto import tqdm

        bar = tqdm(total=settings.tune + settings.draws, desc="NUTS (NumPyro)", leave=False)
    lead = np.shape(starts)[:axis]
    args, _ = jax.tree_util.tree_unflatten(program.step.in_tree, program.step.in_avals)
    state = tuple(np.zeros((*lead, *a.shape), a.dtype) for a in args[0])
    kept: list[list[np.ndarray]] = []
    phases = [(n, False) for n in _steps(settings.tune, program.chunk)]
    phases += [(n, True) for n in _steps(settings.draws, program.chunk)]
    for i, (n, keep) in enumerate(phases):
        state, buffers = step(state, starts, keys, inverse_mass, np.int32(n),
                              np.bool_(i == 0))
        if keep:  # trimmed on the host: no extra XLA program per chunk length
            kept.append([np.asarray(b)[:, :n] if axis else np.asarray(b)[:n] for b in buffers])
        if bar is not None:
            jax.block_until_ready(state)
            bar.update(n)
    if bar is not None:
        bar.close()
    fields = [np.concatenate([part[i] for part in kept], axis=axis)
              for i in range(len(kept[0]))]
    # post evaluates in double precision (float32 draws are exact in float64)
    z = fields[0].astype(np.float64, copy=False)
    outputs = post(z)
    return z, fields[1:], [np.asarray(o) for o in outputs]


def _compile(program: ChainProgram, chains: int | None) -> tuple[Callable, ...]:
    """Compile ``step`` and ``post``, at the same time.

    ``chains=None``: one chain per call (``jax.jit``); else all chains at
    once, mapped over XLA host devices (``jax.pmap``). XLA compiles (or loads
    from its persistent cache) outside the GIL, so the two programs are
    compiled in two threads.
    """
    import jax

    def specs(exported: Any, mapped: tuple[bool, ...]) -> list[Any]:
        args, _ = jax.tree_util.tree_unflatten(exported.in_tree, exported.in_avals)
        lead = () if chains is None else (chains,)
        return [jax.tree_util.tree_map(
            lambda a, m=m: jax.ShapeDtypeStruct((*lead, *a.shape) if m else a.shape, a.dtype),
            arg) for arg, m in zip(args, mapped, strict=True)]

    def build(exported: Any, mapped: tuple[bool, ...]) -> Callable:
        if chains is None:
            wrapped = jax.jit(exported.call)
        else:
            wrapped = jax.pmap(exported.call, in_axes=tuple(0 if m else None for m in mapped))
        return wrapped.lower(*specs(exported, mapped)).compile()

    jobs = [(program.step, (True, True, True, False, False, False)), (program.post, (True,))]
    with ThreadPoolExecutor(max_workers=2) as pool:
        step, post = pool.map(lambda job: build(*job), jobs)
    return step, post


def _parallel(program: ChainProgram, starts: np.ndarray, keys: np.ndarray,
              inverse_mass: np.ndarray, settings: SamplerSettings):
    """All chains at once, one per XLA host device."""
    step, post = _compile(program, settings.chains)
    return _drive(step, post, starts, keys, inverse_mass, program, settings, axis=1)


def _sequential(program: ChainProgram, starts: np.ndarray, keys: np.ndarray,
                inverse_mass: np.ndarray, settings: SamplerSettings):
    """One chain after the other on one device."""
    step, post = _compile(program, None)
    runs = [_drive(step, post, starts[c], keys[c], inverse_mass, program, settings, axis=0)
            for c in range(settings.chains)]
    z = np.stack([r[0] for r in runs])
    stats = [np.stack([r[1][i] for r in runs]) for i in range(len(runs[0][1]))]
    outputs = [np.stack([r[2][i] for r in runs]) for i in range(len(runs[0][2]))]
    return z, stats, outputs
