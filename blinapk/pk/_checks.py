"""Input checks shared by the pk entry points (data only; symbolic values pass)."""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

import numpy as np

from blinapk.errors import ModelSpecError
from blinapk.pk._backend import as_array

__all__ = ["check_obs", "check_params"]


def check_obs(times: Any, subject_index: Any, n_subjects: int) -> tuple[np.ndarray, np.ndarray]:
    """Validate observation times and subject rows; return numpy copies."""
    t = np.asarray(times, dtype=float).reshape(-1)
    s = np.asarray(subject_index)
    if s.ndim != 1 or s.shape[0] != t.shape[0]:
        raise ValueError(
            f"subject_index must be 1-D with one entry per time ({t.shape[0]}), got {s.shape}"
        )
    if s.size and not np.issubdtype(s.dtype, np.integer):
        if not np.all(np.equal(np.mod(s, 1), 0)):
            raise ValueError("subject_index must hold integers")
    s = s.astype(np.int64)
    if not np.all(np.isfinite(t)):
        bad = np.flatnonzero(~np.isfinite(t))[:10].tolist()
        raise ValueError(f"times must be finite (positions {bad})")
    if s.size and (s.min() < 0 or s.max() >= n_subjects):
        raise ValueError(f"subject_index out of range [0, {n_subjects})")
    return t, s


def check_params(
    params: Mapping[str, Any], names: tuple[str, ...], size: int, xp: ModuleType
) -> dict[str, Any]:
    """Convert parameters to ``xp`` arrays; check shape and sign of concrete values.

    Concrete values (numpy arrays, lists, Python or numpy scalars) must be
    finite and > 0 and broadcast to ``(size,)``; symbolic values (pytensor
    variables, jax tracers) are passed through unchecked.
    """
    missing = [n for n in names if n not in params]
    if missing:
        raise ModelSpecError(f"missing pk parameter(s) {missing}; need {list(names)}")
    out = {}
    for name in names:
        value = params[name]
        if isinstance(value, (np.ndarray, np.generic, int, float, list, tuple)) or hasattr(
            value, "to_numpy"
        ):
            arr = np.asarray(value, dtype=float)
            if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] != size):
                raise ModelSpecError(f"parameter {name} has shape {arr.shape}; expected ({size},)")
            if not np.all(np.isfinite(arr) & (arr > 0)):
                raise ModelSpecError(f"parameter {name} must be finite and > 0")
            value = np.broadcast_to(arr, (size,))
        out[name] = as_array(xp, value)
    return out
