"""Per-chain starting points for nutpie: given starts plus a seeded, scaled jitter.

Chains that start apart let R-hat detect chains that did not mix, so each
chain starts at the model's starting values plus a uniform jitter on the
unconstrained scale, ``centre + half_width * U(-1, 1)``. With a half-width of
1 everywhere this is PyMC's and nutpie's default jitter; a model
narrows it per variable where U(-1, 1) is too wide (e.g. population PK:
:mod:`blinapk.poppk.starts`).

nutpie draws a chain's start from a function of a seed; :func:`install_starts`
replaces that function in a compiled model with one from
:func:`jittered_start_fn` after checking that both describe the same
unconstrained layout.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from blinapk.mcmc.graphs import holds_shared

__all__ = ["ChainStarts", "StartFn", "half_widths", "install_starts", "jittered_start_fn",
           "transformed_start"]

#: ``start_fn(seed) -> flat unconstrained start`` of one chain.
StartFn = Callable[[Any], np.ndarray]
#: ``chain_starts(model, initvals) -> (start_fn, centre)``, e.g. :func:`jittered_start_fn`.
ChainStarts = Callable[[Any, Mapping[str, Any]], tuple[StartFn, np.ndarray]]


def half_widths(model: Any, scales: Mapping[str, float] | None = None,
                point: Mapping[str, Any] | None = None) -> np.ndarray:
    """Flat jitter half-width vector, one entry per unconstrained value, in model order.

    Parameters
    ----------
    model : pymc.Model
        The model the sampler is compiled from.
    scales : mapping, optional
        Half-width by value-variable name (e.g. ``omega_CL_log__``); missing
        names (all, when omitted) get 1.
    point : mapping, optional
        A transformed point of the model, used only for the sizes (default
        ``model.initial_point()``, which compiles a function).

    Returns
    -------
    numpy.ndarray
        Same layout as the flat unconstrained start of :func:`jittered_start_fn`.

    Examples
    --------
    >>> import pymc as pm
    >>> with pm.Model() as m:
    ...     _ = pm.Normal("mu", 0, 1)
    ...     _ = pm.HalfNormal("sd", 1, shape=2)
    >>> half_widths(m, {"sd_log__": 0.5})
    array([1. , 0.5, 0.5])
    """
    scales = dict(scales or {})
    point = model.initial_point() if point is None else point
    return np.concatenate([np.full(np.size(point[v.name]), float(scales.get(v.name, 1.0)))
                           for v in model.value_vars])


def transformed_start(model: Any, initvals: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Return the model's starting point on the unconstrained scale, without jitter.

    The values of ``pymc.initial_point.make_initial_point_fn(model=model,
    overrides=initvals, jitter_rvs=set())(0)``. When the starting-value graph
    draws nothing at random (starting values given or taken from each
    variable's support point, the usual case) it is evaluated node by node in
    Python: PyMC compiles it as a function instead, which costs 0.15-0.3 s
    in a fresh process (graph rewriting, the virtual machine, and the import
    of setuptools that PyTensor's compiled-function machinery makes).

    Parameters
    ----------
    model : pymc.Model
        The model.
    initvals : mapping
        Starting values by variable name (constrained scale); variables not
        named start at PyMC's default.

    Returns
    -------
    dict
        Value-variable name -> array (e.g. ``omega_CL_log__``).

    Examples
    --------
    >>> import pymc as pm
    >>> with pm.Model() as m:
    ...     _ = pm.HalfNormal("sd", 1)
    >>> float(np.exp(transformed_start(m, {"sd": 2.0})["sd_log__"]))
    2.0
    """
    import pytensor
    from pymc.initial_point import (
        convert_str_to_rv_dict,
        make_initial_point_expression,
        make_initial_point_fn,
    )
    from pytensor.compile.mode import Mode

    strategies = {**model.rvs_to_initial_values,
                  **convert_str_to_rv_dict(model, dict(initvals))}
    exprs = make_initial_point_expression(
        free_rvs=model.free_RVs, rvs_to_transforms=model.rvs_to_transforms,
        initval_strategies=strategies, jitter_rvs=set(), return_transformed=True)
    names = [v.name for v in model.value_vars]
    if not holds_shared(exprs):
        # nothing random or mutable: Python's perform() of each node, no rewrites
        values = pytensor.function([], exprs, mode=Mode(linker="py", optimizer=None))()
        return dict(zip(names, (np.asarray(v) for v in values), strict=True))
    point = make_initial_point_fn(model=model, overrides=dict(initvals), jitter_rvs=set(),
                                  return_transformed=True)(0)
    return {name: np.asarray(point[name]) for name in names}


def jittered_start_fn(model: Any, initvals: Mapping[str, Any],
                      scales: Mapping[str, float] | None = None) -> tuple[StartFn, np.ndarray]:
    """Build ``seed -> flat unconstrained start`` (value variables in model order).

    Parameters
    ----------
    model : pymc.Model
        The model the sampler is compiled from.
    initvals : mapping
        Starting values by variable name (constrained scale); variables not
        named start at PyMC's default initial point.
    scales : mapping, optional
        Jitter half-width by value-variable name (:func:`half_widths`; 1 when
        missing).

    Returns
    -------
    start_fn : callable
        ``start_fn(seed)``: the un-jittered start plus ``scale * U(-1, 1)``
        drawn from ``numpy.random.default_rng(seed)``.
    centre : ndarray
        The un-jittered flat start.
    """
    point = transformed_start(model, initvals)
    names = [v.name for v in model.value_vars]
    centre = np.concatenate([np.ravel(np.asarray(point[n], dtype=np.float64)) for n in names])
    half = half_widths(model, scales, point)

    def start_fn(seed: Any) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return centre + half * rng.uniform(-1.0, 1.0, size=centre.size)

    return start_fn, centre


def install_starts(compiled: Any, start_fn: StartFn, centre: np.ndarray) -> Any:
    """Return a copy of a nutpie compiled model that starts its chains with ``start_fn``.

    ``compiled`` must have been compiled without jitter (``jitter_rvs=set()``)
    from the same model and starting values, so that its own start equals
    ``centre``; this is checked, which also checks that nutpie lays out the
    unconstrained vector in the model's value-variable order.

    Parameters
    ----------
    compiled : nutpie CompiledModel
        From ``nutpie.compile_pymc_model`` (numba or JAX backend).
    start_fn, centre
        From :func:`jittered_start_fn` (or any :data:`ChainStarts`).

    Returns
    -------
    nutpie CompiledModel

    Raises
    ------
    RuntimeError
        The nutpie version stores its start differently (field not found or
        a different layout): the chains would not start where intended.
    """
    fields = {f.name for f in dataclasses.fields(compiled)}
    field = next((f for f in ("initial_point_func", "_make_initial_points") if f in fields), None)
    if field is None:
        raise RuntimeError("nutpie compiled model has no initial-point function to replace; "
                           "pin nutpie to a tested version (see pyproject.toml)")
    own = np.asarray(getattr(compiled, field)(0), dtype=np.float64)
    if own.shape != centre.shape or not np.allclose(own, centre, rtol=1e-12, atol=1e-12):
        raise RuntimeError("nutpie's unconstrained layout differs from the model's value "
                           "variables; cannot place the chain starts")
    return dataclasses.replace(compiled, **{field: start_fn})
