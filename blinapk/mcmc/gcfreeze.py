"""Keep the objects that exist before a fit out of the garbage collector's passes during it.

Python's cyclic garbage collector runs a *full* collection whenever the
number of objects that survived earlier collections has grown by a quarter,
and a full collection visits every tracked object in the process. After
PyMC, PyTensor, JAX and ArviZ have been imported that is several hundred
thousand objects, and building a PyMC model and translating its log density
to JAX allocates enough to trigger such collections: in a fresh process two
of them cost about 0.4 s of collector time in an 8-9 s population-PK fit,
although none of the imported objects can have become garbage. (The fit's
wall time moves less than that, within the run-to-run noise: part of those
collections ran while XLA compiled in other threads; see the benchmarks.)

:func:`frozen_heap` moves the objects alive on entry into the collector's
permanent generation (:func:`gc.freeze`) and gives them back on exit
(:func:`gc.unfreeze`). Collections inside the block then visit only what the
block itself allocated; cyclic garbage among the older objects waits until
the block ends and is collected by the next ordinary collection, so nothing
is leaked (unlike a freeze that is never undone). The block does nothing when
the process has frozen objects of its own (a server that forks, for example)
or has switched the collector off.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["frozen_heap"]


@contextmanager
def frozen_heap() -> Iterator[bool]:
    """Exempt the objects alive on entry from garbage collection until the block exits.

    Yields
    ------
    bool
        True when this block froze the heap (and unfreezes it on exit); False
        when it left the collector alone: objects were already frozen (by the
        caller, or by an enclosing block) or the collector is disabled.

    Examples
    --------
    >>> import gc
    >>> with frozen_heap() as froze:
    ...     inside = gc.get_freeze_count() > 0
    >>> froze, inside, gc.get_freeze_count()
    (True, True, 0)
    """
    if gc.get_freeze_count() or not gc.isenabled():
        yield False
        return
    gc.freeze()
    try:
        yield True
    finally:
        gc.unfreeze()
