"""Run :func:`~blinapk.simulate.simulate_exposure` chunk by chunk on dask (optional extra ``dask``).

Every chunk of patients is one task (:func:`blinapk.simulate.exposure.run_chunk`)
whose outputs become the blocks of dask arrays along ``subject``; nothing
is computed until asked. Chunks are seeded by their index, so the numbers
are those of the in-memory run whatever the scheduler. Summaries
(:func:`~blinapk.simulate.summarize_exposure`) reduce block by block, so
memory stays flat as the population grows. dask is imported only here,
when a dask run is asked for.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from blinapk.errors import ModelSpecError
from blinapk.simulate.exposure import ExposurePlan, assemble, dims_of, run_chunk

__all__ = ["SCHEDULERS", "compute_exposure", "lazy_exposure", "resolve_scheduler"]

#: Local dask schedulers accepted by name (besides ``"local"`` and addresses).
SCHEDULERS: tuple[str, ...] = ("threads", "processes", "synchronous")


def _import_dask() -> Any:
    try:
        import dask
        import dask.array  # noqa: F401
    except ImportError as exc:  # pragma: no cover - exercised without the extra only
        raise ModelSpecError("dask runs need the optional extra: pip install 'blinapk[dask]'"
                             ) from exc
    return dask


@functools.lru_cache(maxsize=4)
def _client(address: str | None) -> Any:
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover
        raise ModelSpecError("a dask cluster needs 'distributed': pip install 'blinapk[dask]'"
                             ) from exc
    if address is None:
        return Client(LocalCluster(processes=True, threads_per_worker=1, dashboard_address=None))
    return Client(address)


def resolve_scheduler(dask: Any) -> dict[str, Any]:
    """Keyword arguments for ``compute`` from a ``dask=`` value.

    Parameters
    ----------
    dask : True, str or distributed.Client
        ``True`` / ``"threads"``, ``"processes"``, ``"synchronous"``, ``"local"``
        (a ``distributed.LocalCluster`` started once per session), a scheduler
        address (``"tcp://host:port"``) or a ``distributed.Client``.

    Returns
    -------
    dict
        ``{"scheduler": ...}``.
    """
    if dask is True:
        return {"scheduler": "threads"}
    if isinstance(dask, str):
        if dask in SCHEDULERS:
            return {"scheduler": dask}
        if dask == "local":
            return {"scheduler": _client(None)}
        if "://" in dask:
            return {"scheduler": _client(dask)}
        raise ModelSpecError(f"dask: expected one of {SCHEDULERS}, 'local', a scheduler "
                             f"address or a distributed.Client; got {dask!r}")
    if hasattr(dask, "get") and hasattr(dask, "submit"):
        return {"scheduler": dask}
    raise ModelSpecError(f"dask: cannot use {dask!r} as a scheduler")


def lazy_exposure(plan: ExposurePlan, dask_spec: Any) -> xr.Dataset:
    """Build the Dataset of :func:`~blinapk.simulate.simulate_exposure` on dask arrays.

    Parameters
    ----------
    plan : ExposurePlan
        The resolved inputs.
    dask_spec : True, str or distributed.Client
        Scheduler (:func:`resolve_scheduler`), recorded in ``attrs["dask"]``
        and used by :func:`compute_exposure` and the summaries.

    Returns
    -------
    xarray.Dataset
        Lazy; one block per chunk along ``subject``.
    """
    dask = _import_dask()
    import dask.array as da

    resolve_scheduler(dask_spec)  # fail early on a bad value
    probe = run_chunk(_probe_plan(plan), 0)
    tasks = [dask.delayed(run_chunk, pure=True)(plan, c) for c in range(plan.n_chunks)]
    arrays = {}
    for name, sample in probe.items():
        dims = dims_of(name, sample, plan.source.params)
        axis = dims.index("subject")
        blocks = []
        for c, task in enumerate(tasks):
            shape = list(sample.shape)
            shape[axis] = plan.chunk_bounds(c)[1]
            blocks.append(da.from_delayed(task[name], shape=tuple(shape), dtype=sample.dtype))
        arrays[name] = da.concatenate(blocks, axis=axis)
    ds = assemble(plan, arrays)
    ds.attrs["dask"] = dask_spec if isinstance(dask_spec, str | bool) else "client"
    ds.attrs["_scheduler"] = dask_spec  # not written to files (see report)
    return ds


def _probe_plan(plan: ExposurePlan) -> ExposurePlan:
    """Two patients with the same inputs: the names, shapes and dtypes of the outputs."""
    from dataclasses import replace

    return replace(plan, n=2, chunk_size=2)


def compute_exposure(ds: xr.Dataset, dask: Any = None) -> xr.Dataset:
    """Compute a lazy exposure Dataset into memory with its scheduler.

    Parameters
    ----------
    ds : xarray.Dataset
        From :func:`~blinapk.simulate.simulate_exposure` (in memory: returned as is).
    dask : optional
        Scheduler overriding the one the Dataset was made with.

    Returns
    -------
    xarray.Dataset
        numpy-backed.
    """
    spec = dask if dask is not None else ds.attrs.get("_scheduler")
    if spec is None or not any(getattr(v.data, "dask", None) is not None
                               for v in ds.variables.values()):
        return ds
    out = ds.compute(**resolve_scheduler(spec))
    out.attrs.pop("_scheduler", None)
    return out


def reduce_blocks(ds: xr.Dataset, names: list[str], partial: Any, merge: Any) -> Any:
    """Map ``partial`` over the subject blocks of ``ds`` and merge the results pairwise.

    Parameters
    ----------
    ds : xarray.Dataset
        Lazy (dask) or in-memory exposure Dataset.
    names : list of str
        Variables ``partial`` needs.
    partial : callable
        ``partial(mapping name -> numpy block) -> value``.
    merge : callable
        ``merge(a, b) -> value``; associative.

    Returns
    -------
    The merged value.
    """
    lazy = any(getattr(ds[v].data, "dask", None) is not None for v in names)
    if not lazy:
        return partial({v: np.asarray(ds[v].values) for v in names})
    dask = _import_dask()
    blocks: list[Any] = []
    per_var = {}
    for v in names:
        arr = ds[v].data
        axis = ds[v].dims.index("subject")
        # no graph optimisation: fusing would copy each chunk task into every variable
        blocks_v = np.moveaxis(arr.to_delayed(optimize_graph=False), axis, 0)
        per_var[v] = list(blocks_v.reshape(arr.numblocks[axis], -1)[:, 0])
    n_blocks = len(next(iter(per_var.values())))
    make = dask.delayed(lambda **kw: partial(kw), pure=True)
    blocks = [make(**{v: per_var[v][b] for v in names}) for b in range(n_blocks)]
    join = dask.delayed(merge, pure=True)
    while len(blocks) > 1:  # pairwise tree: memory holds a few partials at a time
        blocks = [join(blocks[i], blocks[i + 1]) if i + 1 < len(blocks) else blocks[i]
                  for i in range(0, len(blocks), 2)]
    spec = ds.attrs.get("_scheduler", True)
    return blocks[0].compute(**resolve_scheduler(spec))


def scheduler_of(ds: xr.Dataset) -> Mapping[str, Any] | None:
    """Compute keyword arguments recorded on a lazy Dataset (None in memory)."""
    spec = ds.attrs.get("_scheduler")
    return None if spec is None else resolve_scheduler(spec)
