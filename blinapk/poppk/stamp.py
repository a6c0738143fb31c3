"""The provenance stamp of a population-PK fit and the netCDF file that carries it.

:func:`stamp` writes into ``idata.posterior.attrs`` everything needed to
reproduce and check a fit (blinapk version, spec, priors, card, data hash,
sampler, method, seed, parameterisation, starting-value sources, settings,
covariate ranges, ledger counts); :func:`write_netcdf` saves the stamped
InferenceData. Reading it back and checking the stamp is
:func:`blinapk.poppk.io.load_fit` (:data:`REQUIRED_KEYS` must be present).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from blinapk._version import __version__

if TYPE_CHECKING:
    from blinapk.poppk.build import BuildInfo

__all__ = ["REQUIRED_KEYS", "stamp", "write_netcdf"]

#: Stamp attributes without which a file is not a blinapk population-PK fit.
REQUIRED_KEYS: tuple[str, ...] = ("blinapk_version", "blinapk_spec", "blinapk_priors",
                                  "blinapk_data_hash", "blinapk_method", "blinapk_sampler")


def _covariate_ranges(info: BuildInfo) -> dict[str, list[float]]:
    """Min, 5th and 95th percentile and max of each continuous covariate fitted."""
    out = {}
    for c in info.spec.covariates:
        if c.form != "categorical":
            x = info.data.cov_subject[c.covariate].astype(float)
            out[c.covariate] = [float(np.min(x)), float(np.percentile(x, 5)),
                                float(np.percentile(x, 95)), float(np.max(x))]
    return out


def stamp(idata: Any, info: BuildInfo, *, sampler: str, method: str, seed: int,
          settings: Mapping[str, Any]) -> dict[str, Any]:
    """Write the provenance attributes into ``idata.posterior.attrs`` and return them.

    Parameters
    ----------
    idata : arviz.InferenceData
        With a ``posterior`` group (modified in place).
    info : BuildInfo
        What :func:`blinapk.poppk.build.build_model` decided.
    sampler, method : str
        As recorded in :class:`~blinapk.poppk.result.PopPKFit`.
    seed : int
        Random seed used.
    settings : mapping
        Sampler settings to record (JSON-serialisable).

    Returns
    -------
    dict
        The attributes written (all ``blinapk_*``).
    """
    attrs = {
        "blinapk_version": __version__,
        "blinapk_spec": info.spec.to_json(),
        "blinapk_priors": info.priors.to_json(),
        "blinapk_card": info.card_name,
        "blinapk_data_hash": info.data.data_hash,
        "blinapk_sampler": sampler,
        "blinapk_method": method,
        "blinapk_seed": int(seed),
        "blinapk_parameterisation": json.dumps(
            {p: c.to_dict() for p, c in info.parameterisation.items()}, sort_keys=True),
        "blinapk_init_source": json.dumps(dict(info.init.source), sort_keys=True),
        "blinapk_settings": json.dumps(dict(settings), sort_keys=True),
        "blinapk_covariate_ranges": json.dumps(_covariate_ranges(info), sort_keys=True),
        "blinapk_ledger_counts": info.data.ledger.counts(by="status").to_json(orient="records"),
    }
    idata.posterior.attrs.update(attrs)
    return attrs


def write_netcdf(idata: Any, path: str | Path) -> Path:
    """Write a (stamped) InferenceData to a netCDF file.

    Parameters
    ----------
    idata : arviz.InferenceData
        The fit's draws and stamp.
    path : str or Path
        Output file (conventionally ``*.nc``); parent directories are created.

    Returns
    -------
    Path
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata.to_netcdf(str(path))
    return path
