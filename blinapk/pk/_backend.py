"""Array-namespace helpers shared by the pk kernels.

The kernels are written once against a namespace ``xp`` exposing ``exp``,
``expm1``, ``sqrt``, ``abs``, ``where`` and ``stack`` -- the common subset of
:mod:`numpy`, :mod:`jax.numpy` and :mod:`pytensor.tensor`.  The only
difference that matters is how data become arrays: numpy and jax have
``asarray``; pytensor has ``as_tensor_variable``.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

__all__ = ["as_array", "is_numpy"]


def is_numpy(xp: ModuleType) -> bool:
    """Return True when ``xp`` is the numpy namespace itself."""
    return xp is np


def as_array(xp: ModuleType, value: Any) -> Any:
    """Turn data (numpy arrays, scalars) into an array of namespace ``xp``.

    Symbolic values already belonging to ``xp`` pass through unchanged.
    Converting numpy *data* before mixing it with symbolic parameters matters:
    ``ndarray * TensorVariable`` would otherwise build a numpy object array.

    Parameters
    ----------
    xp : module
        Array namespace (numpy, jax.numpy, pytensor.tensor).
    value : array_like or xp array
        Value to convert.

    Returns
    -------
    array
        ``value`` as an ``xp`` array.
    """
    if is_numpy(xp):
        return np.asarray(value, dtype=float)
    convert = getattr(xp, "asarray", None)
    if convert is None:
        convert = xp.as_tensor_variable
    return convert(value)
