"""NumPyro's NUTS as compiled per-chain programs, kept across processes.

A fit with :func:`blinapk.mcmc.sample_jax_nuts` runs two XLA programs per
chain:

* ``step(state, params, key, inverse_mass, n, first) -> (state, draws)``:
  ``n <= chunk`` NUTS transitions (warm-up adapts, later ones do not), each
  transition's position and sampler statistics written to ``chunk``-long
  buffers. With ``first=True`` the transitions start from NumPyro's NUTS
  initialisation at ``params`` with ``key`` (adaptation schedule for
  ``tune`` warm-up iterations, the diagonal ``inverse_mass`` as the mass
  matrix until the first adaptation window ends) and ``state`` is ignored;
  otherwise they continue from ``state``. Initialisation and transitions are one program because XLA
  compiles one module holding both in 5.4-6.0 CPU-seconds against 7.1-8.6 for
  the two apart (N = 200), with the same draws to the last bit;
* ``post(z) -> outputs``: the posterior variables (natural scale, with
  deterministics) and the pointwise log-likelihood over all draws.

With ``precision="float32"`` (the default of
:class:`blinapk.mcmc.SamplerSettings`) ``step`` is traced with JAX's 64-bit
mode off: position, momentum, log density and gradient are single precision
(the model's float64 constants become float32), which makes a gradient of the
population-PK model about 1.5x cheaper on CPU (N = 200: 40-50 against
65-78 us). ``post`` is always traced in double precision and evaluates the
float32 draws (exactly representable in float64) with the float64 graph.

The state is a flat tuple of arrays (NumPyro's ``HMCState`` leaves), so the
programs can be exported with :mod:`jax.export` and written to the blinapk
cache directory (:func:`blinapk.mcmc.cache.cache_dir` ``/ "nuts-programs"``).
A later process fitting the same model (same graph, same data, same sampler
settings and library versions: :func:`program_key`) loads them instead of
building the log density, tracing NumPyro's sampler and lowering it again;
XLA's own persistent cache then also skips the compilation. The transitions
are NumPyro's (``NUTS.sample``), with the random keys NumPyro's ``MCMC``
uses, so the draws are the ones ``numpyro.infer.MCMC`` would make.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from blinapk.mcmc.cache import cache_dir, cache_max_bytes, prune
from blinapk.mcmc.graphs import ancestors, holds_shared

__all__ = ["CHUNK", "STAT_FIELDS", "ChainProgram", "chain_program", "graph_fingerprint",
           "program_key"]

#: NUTS transitions per ``step`` call (the progress bar moves this often).
CHUNK = 250
#: Per-transition sampler statistics ``step`` collects, in order (after the position).
STAT_FIELDS = ("diverging", "num_steps", "energy", "potential_energy", "accept_prob",
               "step_size")
_FORMAT = "blinapk-nuts-program-4"
_LIBRARIES = ("jax", "jaxlib", "numpyro", "pymc", "pytensor")
_ADDRESS = re.compile(r" at 0x[0-9A-Fa-f]+")


@dataclass(frozen=True)
class ChainProgram:
    """The per-chain programs of one model and sampler setting.

    Attributes
    ----------
    step, post : jax.export.Exported
        See the module docstring; call them through ``jax.jit(p.call)`` or
        ``jax.pmap(p.call)``.
    post_names : tuple of str
        Names of ``post``'s first outputs (posterior variables).
    obs_names : tuple of str
        Names of its remaining outputs (pointwise log-likelihood).
    chunk : int
        Buffer length of ``step``.
    source : {"built", "cache"}
        Whether this process built the programs or loaded them.
    """

    step: Any
    post: Any
    post_names: tuple[str, ...]
    obs_names: tuple[str, ...]
    chunk: int
    source: str


def graph_fingerprint(model: Any) -> str:
    """Hash of a PyMC model's graph: structure, constants (data) and transforms.

    Two models with the same fingerprint have the same log density and the
    same posterior variables; computed without building the log density
    (tens of milliseconds).

    Parameters
    ----------
    model : pymc.Model
        Usually with its data frozen to constants.

    Returns
    -------
    str
        Hex SHA-256 digest.
    """
    import pytensor
    from pytensor.graph.basic import Constant

    outputs = [*model.free_RVs, *model.observed_RVs, *model.potentials, *model.deterministics]
    text = io.StringIO()
    pytensor.printing.debugprint(outputs, file=text, print_type=True)
    digest = hashlib.sha256(_ADDRESS.sub("", text.getvalue()).encode())
    observed = [model.rvs_to_values[rv] for rv in model.observed_RVs]
    for var in ancestors([*outputs, *observed]):
        if isinstance(var, Constant):
            data = np.asarray(var.data)
            digest.update(f"{data.dtype}{data.shape}".encode())
            if data.dtype == object:  # NoneConst and the like: no numbers
                digest.update(_ADDRESS.sub("", str(var)).encode())
            else:
                digest.update(np.ascontiguousarray(data).tobytes())
    for rv in model.free_RVs:
        transform = _ADDRESS.sub("", repr(model.rvs_to_transforms.get(rv)))
        digest.update(f"{model.rvs_to_values[rv].name}:{transform}".encode())
    return digest.hexdigest()


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def program_key(model: Any, *, tune: int, draws: int, target_accept: float,
                log_likelihood: bool, chunk: int = CHUNK, precision: str = "float64") -> str:
    """Cache key of a model's programs.

    Covers the graph (:func:`graph_fingerprint`), everything compiled into
    the programs (warm-up length, number of draws, target acceptance, chunk,
    log-likelihood outputs, sampler precision, 64-bit mode), the versions of JAX, NumPyro, PyMC
    and PyTensor, and the source of this module.

    Parameters
    ----------
    model : pymc.Model
        The (frozen) model.
    tune, draws : int
        Warm-up iterations and draws per chain.
    target_accept : float
        NUTS target acceptance.
    log_likelihood : bool
        Whether ``post`` returns the pointwise log-likelihood.
    chunk : int, default CHUNK
        Buffer length of ``step``.
    precision : {"float64", "float32"}
        Precision ``step`` is traced in.

    Returns
    -------
    str
        Hex digest (file name of the cache entry).
    """
    import jax

    source = Path(__file__).read_bytes()
    parts = {
        "format": _FORMAT, "graph": graph_fingerprint(model), "tune": int(tune),
        "draws": int(draws), "target_accept": float(target_accept),
        "log_likelihood": bool(log_likelihood), "chunk": int(chunk),
        "precision": str(precision), "x64": bool(jax.config.jax_enable_x64),
        "versions": {name: _version(name) for name in _LIBRARIES},
        "source": hashlib.sha256(source).hexdigest(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _jax_functions(model: Any, log_likelihood: bool) -> tuple[Callable, list[str], list[str]]:
    """One jaxified graph: [joint logp, posterior variables..., pointwise obs logps...]."""
    import pytensor
    import pytensor.tensor as pt
    from pymc.util import get_default_varnames

    free, observed = list(model.free_RVs), list(model.observed_RVs)
    # PyTensor records a Python stack trace on every node it creates (for its own
    # error messages); the thousands of nodes of the logp graph and its rewrites
    # need none: 0.1-0.2 s of a 1 s translation
    with pytensor.config.change_flags(traceback__limit=0):
        # one logp graph (its construction is the slow part): joint = sum of all terms,
        # pointwise log-likelihood = the observed terms
        terms = model.logp(vars=[*free, *observed, *model.potentials], sum=False)
        logp = pt.sum([pt.sum(term) for term in terms])
        posterior = get_default_varnames(model.unobserved_value_vars,
                                         include_transformed=False)
        if not log_likelihood:
            observed = []
        pointwise = terms[len(free): len(free) + len(observed)]
        fn = _jaxify(model.value_vars, [logp, *posterior, *pointwise])
    return fn, [v.name for v in posterior], [v.name for v in observed]


def _numpy_constant(data: Any, **kwargs: Any) -> Any:
    """Convert a graph constant for the JAX function, keeping arrays as NumPy arrays.

    PyTensor's own conversion (``jax_typify``) puts every constant array on
    the device with ``jnp.array``, which compiles a small XLA program per
    shape and dtype (seven for the population-PK model, about 0.2 s in a
    fresh process). Traced into the sampler, a NumPy constant and a device
    constant become the same literal.
    """
    from pytensor.link.jax.dispatch import jax_typify

    if isinstance(data, np.ndarray) and data.ndim:
        return data
    return jax_typify(data, **kwargs)


def _jaxify(inputs: list[Any], outputs: list[Any]) -> Callable:
    """``pymc.sampling.jax.get_jaxified_graph`` with :func:`_numpy_constant` constants.

    The graph (of a model whose data are frozen to constants) is rewritten
    with PyTensor's JAX mode and converted op by op, as PyMC does; a graph
    holding shared variables goes through PyMC's function unchanged.
    """
    from pymc.sampling.jax import get_jaxified_graph
    from pytensor.compile.mode import JAX
    from pytensor.graph.fg import FunctionGraph
    from pytensor.link.jax.dispatch import jax_funcify
    from pytensor.link.utils import fgraph_to_python

    if holds_shared(outputs):
        return get_jaxified_graph(inputs=inputs, outputs=outputs)
    fgraph = FunctionGraph(inputs=inputs, outputs=outputs, clone=True)
    JAX.optimizer.rewrite(fgraph)
    return fgraph_to_python(fgraph, jax_funcify, type_conversion_fn=_numpy_constant,
                            fgraph_name="jax_funcified_fgraph")


def layout(model: Any) -> tuple[list[str], list[tuple[int, ...]]]:
    """Names and shapes of the model's value variables (unconstrained), in model order.

    Parameters
    ----------
    model : pymc.Model
        The model.

    Returns
    -------
    names : list of str
    shapes : list of tuple of int
    """
    names = [v.name for v in model.value_vars]
    shapes = [v.type.shape for v in model.value_vars]
    if any(d is None for shape in shapes for d in shape):
        # shapes not static (data not frozen): ask PyMC for a point (compiles a function)
        point = model.initial_point()
        shapes = [np.shape(point[n]) for n in names]
    return names, [tuple(int(d) for d in shape) for shape in shapes]


def _unflatten(shapes: Sequence[tuple[int, ...]]) -> Callable[[Any], list[Any]]:
    sizes = [int(np.prod(s)) for s in shapes]
    bounds = np.cumsum([0, *sizes])

    def split(flat: Any) -> list[Any]:
        return [flat[a:b].reshape(s) for a, b, s in zip(bounds[:-1], bounds[1:], shapes,
                                                        strict=True)]

    return split


@contextlib.contextmanager
def _tracing_precision(precision: str) -> Any:
    """Trace in ``precision``: JAX's 64-bit mode off for ``"float32"``.

    With 64-bit mode off, JAX makes the graph's float64 constants and casts
    float32 (it warns about the casts; that is the point here, so silenced).
    """
    if precision == "float64":
        yield
        return
    import jax

    # the context manager is jax.enable_x64 in recent JAX, jax.experimental.disable_x64 before
    x64_off = (jax.enable_x64(False) if callable(getattr(jax, "enable_x64", None))
               else jax.experimental.disable_x64())
    with x64_off, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Explicitly requested dtype float64",
                                category=UserWarning)
        yield


def _build(model: Any, *, tune: int, draws: int, target_accept: float,
           log_likelihood: bool, chunk: int, precision: str) -> ChainProgram:
    """Trace and export the two programs of ``model`` (``step`` in ``precision``)."""
    import jax
    import jax.numpy as jnp
    from jax import export, lax
    from numpyro.infer import NUTS

    fn, post_names, obs_names = _jax_functions(model, log_likelihood)
    # traced once and reused: NumPyro traces the potential's gradient several times
    # (initial point, step-size search, tree building); XLA inlines the call again
    jitted = jax.jit(fn)
    _, shapes = layout(model)
    split = _unflatten(shapes)
    dim = int(sum(int(np.prod(s)) for s in shapes))

    def post(z: Any) -> tuple[Any, ...]:
        return tuple(jax.vmap(lambda x: fn(*split(x))[1:])(z))

    # post first, in double precision: once a float32 trace has seen the graph's
    # constants, a later float64 trace gets them as float32 (JAX caches them)
    exported_post = export.export(jax.jit(post))(
        jax.ShapeDtypeStruct((draws, dim), jnp.float64))

    def potential(flat: Any) -> Any:
        return -jitted(*split(flat))[0]

    kernel = NUTS(potential_fn=potential, target_accept_prob=target_accept)

    def init_tree(params: Any, key: Any, inverse_mass: Any) -> Any:
        # NUTS(inverse_mass_matrix=...) as an argument of the program rather than a
        # constant in it: the kernel reads it in init (the state carries it from there)
        kernel._inverse_mass_matrix = inverse_mass
        return kernel.init(key, tune, params, model_args=(), model_kwargs={})

    params_spec = jax.ShapeDtypeStruct((dim,), np.dtype(precision))
    key_spec = jax.ShapeDtypeStruct((2,), jnp.uint32)
    with _tracing_precision(precision):
        state_shape = jax.eval_shape(init_tree, params_spec, key_spec, params_spec)
    leaves_spec, treedef = jax.tree_util.tree_flatten(state_shape)

    def fields(state: Any) -> tuple[Any, ...]:
        return (state.z, state.diverging, state.num_steps, state.energy,
                state.potential_energy, state.accept_prob, state.adapt_state.step_size)

    field_specs = fields(state_shape)

    def init(params: Any, key: Any, inverse_mass: Any) -> tuple[Any, ...]:
        return tuple(jax.tree_util.tree_leaves(init_tree(params, key, inverse_mass)))

    def step(leaves: tuple[Any, ...], params: Any, key: Any, inverse_mass: Any, n: Any,
             first: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        leaves = lax.cond(first, lambda: init(params, key, inverse_mass), lambda: tuple(leaves))
        buffers = tuple(jnp.zeros((chunk, *s.shape), s.dtype) for s in field_specs)

        def body(i: Any, carry: Any) -> Any:
            state, bufs = carry
            state = kernel.sample(state, (), {})
            bufs = tuple(b.at[i].set(v) for b, v in zip(bufs, fields(state), strict=True))
            return state, bufs

        state = jax.tree_util.tree_unflatten(treedef, list(leaves))
        state, buffers = lax.fori_loop(0, n, body, (state, buffers))
        return tuple(jax.tree_util.tree_leaves(state)), buffers

    n_spec = jax.ShapeDtypeStruct((), jnp.int32)
    first_spec = jax.ShapeDtypeStruct((), jnp.bool_)
    with _tracing_precision(precision):
        exported_step = export.export(jax.jit(step))(tuple(leaves_spec), params_spec, key_spec,
                                                     params_spec, n_spec, first_spec)
    return ChainProgram(
        step=exported_step,
        post=exported_post,
        post_names=tuple(post_names), obs_names=tuple(obs_names), chunk=chunk, source="built")


def _paths(key: str) -> tuple[Path, Path] | None:
    base = cache_dir()
    if base is None:
        return None
    folder = base / "nuts-programs"
    return folder / f"{key}.json", folder / f"{key}.bin"


def _save(program: ChainProgram, key: str) -> None:
    """Write ``program`` to the cache (best effort: a read-only home is not an error)."""
    paths = _paths(key)
    if paths is None:
        return
    meta_path, bin_path = paths
    try:
        blobs = [bytes(p.serialize()) for p in (program.step, program.post)]
        meta = {"format": _FORMAT, "sizes": [len(b) for b in blobs],
                "post_names": list(program.post_names),
                "obs_names": list(program.obs_names), "chunk": program.chunk}
        meta_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = bin_path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(b"".join(blobs))
        os.replace(tmp, bin_path)
        tmp = meta_path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(meta))
        os.replace(tmp, meta_path)  # written last: its presence marks a complete entry
    except (OSError, ImportError):  # read-only cache, or no flatbuffers to serialise
        return
    prune(meta_path.parent, cache_max_bytes(), keep=(meta_path, bin_path))


def _load(key: str) -> ChainProgram | None:
    """Read a cached program, or None (absent, unreadable or from another format)."""
    paths = _paths(key)
    if paths is None or not paths[0].exists():
        return None
    from jax import export

    try:
        meta = json.loads(paths[0].read_text())
        data = paths[1].read_bytes()
        if meta.get("format") != _FORMAT or sum(meta["sizes"]) != len(data):
            return None
        bounds = np.cumsum([0, *meta["sizes"]])
        step, post = (export.deserialize(bytearray(data[a:b]))
                      for a, b in zip(bounds[:-1], bounds[1:], strict=True))
    except (OSError, ValueError, KeyError, TypeError, ImportError):
        return None
    for path in paths:  # a hit makes the entry recently used (see blinapk.mcmc.cache.prune)
        try:
            os.utime(path)
        except OSError:
            pass
    return ChainProgram(step=step, post=post,
                        post_names=tuple(meta["post_names"]),
                        obs_names=tuple(meta["obs_names"]), chunk=int(meta["chunk"]),
                        source="cache")


def chain_program(model: Any, *, tune: int, draws: int, target_accept: float,
                  log_likelihood: bool, chunk: int = CHUNK,
                  precision: str = "float64") -> ChainProgram:
    """Return the per-chain programs of ``model``: from the cache, or built (and cached).

    Parameters
    ----------
    model : pymc.Model
        A model with its data frozen to constants.
    tune, draws : int
        Warm-up iterations and draws per chain.
    target_accept : float
        NUTS target acceptance.
    log_likelihood : bool
        Whether ``post`` also returns the pointwise log-likelihood.
    chunk : int, default CHUNK
        Transitions per ``step`` call.
    precision : {"float64", "float32"}
        Precision of ``step`` (see the module docstring); ``post`` is float64.

    Returns
    -------
    ChainProgram
    """
    options = {"tune": tune, "draws": draws, "target_accept": target_accept,
               "log_likelihood": log_likelihood, "chunk": chunk, "precision": precision}
    key = program_key(model, **options)
    program = _load(key)
    if program is None:
        program = _build(model, **options)
        _save(program, key)
    return program

