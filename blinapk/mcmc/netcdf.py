"""Reading a stamped InferenceData file back: the checks every blinapk model shares.

A fit written by blinapk carries its stamp in ``posterior.attrs`` (the
blinapk version and what the model needs to be rebuilt). :func:`read_stamped`
reads the file and refuses one without the stamp's required keys;
:func:`warn_if_other_version` says when another blinapk version wrote it.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from blinapk._version import __version__
from blinapk.errors import BlinapkError, BlinapkWarning

__all__ = ["read_stamped", "warn_if_other_version"]


def read_stamped(path: str | Path, required: Sequence[str], *, caller: str,
                 kind: str) -> tuple[Any, dict]:
    """Read a netCDF InferenceData and check its stamp.

    Parameters
    ----------
    path : str or Path
        The file.
    required : sequence of str
        Keys the stamp (``posterior.attrs``) must have.
    caller : str
        Function named in the messages (e.g. ``"load_fit"``).
    kind : str
        What the file should hold, for the message (e.g. ``"population-PK fit"``).

    Returns
    -------
    idata : arviz.InferenceData
    attrs : dict
        The stamp.

    Raises
    ------
    BlinapkError
        No such file, or a stamp without one of ``required``.
    """
    import arviz as az

    path = Path(path)
    if not path.exists():
        raise BlinapkError(f"{caller}: no such file {path}")
    idata = az.from_netcdf(str(path))
    attrs = dict(idata.posterior.attrs) if "posterior" in idata.groups() else {}
    missing = [k for k in required if k not in attrs]
    if missing:
        raise BlinapkError(f"{caller}: {path} is not a blinapk {kind} "
                           f"(missing stamp {missing[0]})")
    return idata, attrs


def warn_if_other_version(attrs: dict, path: str | Path, *, caller: str) -> None:
    """Warn (:class:`~blinapk.errors.BlinapkWarning`) when another blinapk version wrote the file.

    Parameters
    ----------
    attrs : dict
        The stamp (with ``blinapk_version``).
    path : str or Path
        The file, for the message.
    caller : str
        Function named in the message; the warning points at its caller.
    """
    if attrs["blinapk_version"] != __version__:
        warnings.warn(f"{caller}: {Path(path)} was written by blinapk {attrs['blinapk_version']}, "
                      f"this is {__version__}; draws are kept as stored", BlinapkWarning,
                      stacklevel=3)
