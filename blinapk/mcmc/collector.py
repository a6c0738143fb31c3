"""Python's cyclic garbage collector, paused while a fit builds and compiles its model.

A population-PK fit in a fresh process holds several hundred thousand objects
from PyMC, PyTensor, JAX and ArviZ, and building a model's log density and
sampler program creates some hundred thousand more, most of them short-lived.
Each time the collector's thresholds are crossed it walks the objects alive,
and its full passes over the whole heap cost 0.2-0.3 s each. During a fit
reference counting frees most of the garbage at once; the cycles it leaves
(graph nodes referring to each other) are collected after the fit, in one pass.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block; restore its state after.

    Nested use is allowed: only the outermost block re-enables the collector,
    and a collector the caller disabled stays disabled.

    Yields
    ------
    None

    Examples
    --------
    >>> import gc
    >>> with collector_paused():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
