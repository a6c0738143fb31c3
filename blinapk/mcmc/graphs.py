"""Small questions about PyTensor graphs, asked the same way across PyTensor versions."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["ancestors", "holds_shared"]


def ancestors(outputs: Sequence[Any]) -> Iterator[Any]:
    """Every variable ``outputs`` depend on, the outputs included.

    Parameters
    ----------
    outputs : sequence of pytensor Variable

    Returns
    -------
    iterator of pytensor Variable
    """
    try:
        from pytensor.graph.traversal import ancestors as walk
    except ImportError:  # pytensor < 2.32
        from pytensor.graph.basic import ancestors as walk
    return walk(list(outputs))


def holds_shared(outputs: Sequence[Any]) -> bool:
    """Whether ``outputs`` depend on a shared variable (mutable data, random generators).

    Parameters
    ----------
    outputs : sequence of pytensor Variable

    Returns
    -------
    bool

    Examples
    --------
    >>> import pytensor
    >>> import pytensor.tensor as pt
    >>> x = pt.scalar("x")
    >>> holds_shared([x + 1]), holds_shared([x + pytensor.shared(1.0)])
    (False, True)
    """
    from pytensor.compile.sharedvalue import SharedVariable

    return any(isinstance(v, SharedVariable) for v in ancestors(outputs))
