"""Save and reload population-PK fits as netCDF, with a provenance check.

The file is the fit's ArviZ InferenceData; the stamp in ``posterior.attrs``
(:mod:`blinapk.poppk.stamp`: blinapk version, spec, priors, card, data hash,
sampler, method, seed, parameterisation) travels with it. :func:`load_fit`
refuses a file without a stamp or with an unreadable spec/prior config, and
refuses to attach a dataset whose hash differs from the one fitted. A
different blinapk version only warns: the stored draws stay valid, but
re-running may not give the same numbers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from blinapk.data import Dataset
from blinapk.errors import BlinapkError, ModelSpecError
from blinapk.mcmc import ConvergenceReport, check_convergence
from blinapk.mcmc.netcdf import read_stamped, warn_if_other_version
from blinapk.poppk.design import prepare_data
from blinapk.poppk.priors import PriorConfig
from blinapk.poppk.result import PopPKFit
from blinapk.poppk.spec import PopPKSpec
from blinapk.poppk.stamp import REQUIRED_KEYS, write_netcdf

__all__ = ["load_fit", "save_fit"]


def save_fit(fit: PopPKFit, path: str | Path) -> Path:
    """Write ``fit.idata`` (stamped) to a netCDF file.

    Parameters
    ----------
    fit : PopPKFit
        The fit.
    path : str or Path
        Output file (conventionally ``*.nc``); parent directories are created.

    Returns
    -------
    Path
        The path written.
    """
    return write_netcdf(fit.idata, path)


def load_fit(path: str | Path, dataset: Dataset | None = None) -> PopPKFit:
    """Read a fit written by :func:`save_fit` / :meth:`PopPKFit.save`.

    Parameters
    ----------
    path : str or Path
        netCDF file.
    dataset : Dataset, optional
        The dataset the fit was made on. Checked against the stored hash;
        when it matches, the row ledger is rebuilt from it.

    Returns
    -------
    PopPKFit
        With ``model=None`` (rebuild with :func:`blinapk.poppk.build_model`
        on the same dataset, spec and priors when needed).

    Raises
    ------
    BlinapkError
        Not a blinapk fit, unreadable stamp, or a dataset with another hash.

    Warns
    -----
    BlinapkWarning
        The file was written by another blinapk version.
    """
    path = Path(path)
    idata, attrs = read_stamped(path, REQUIRED_KEYS, caller="load_fit", kind="population-PK fit")
    try:
        spec = PopPKSpec.from_json(attrs["blinapk_spec"])
        priors = PriorConfig.from_json(attrs["blinapk_priors"])
        par = json.loads(attrs.get("blinapk_parameterisation", "{}"))
    except (ModelSpecError, ValueError) as exc:
        raise BlinapkError(f"load_fit: the stamp of {path} cannot be read: {exc}") from None
    warn_if_other_version(attrs, path, caller="load_fit")
    ledger = None
    if dataset is not None:
        if dataset.hash != attrs["blinapk_data_hash"]:
            raise BlinapkError(
                f"load_fit: {path} was fitted to a dataset with hash "
                f"{attrs['blinapk_data_hash'][:12]}..., not to this one "
                f"({dataset.hash[:12]}...); pass the dataset the fit was made on"
            )
        ledger = prepare_data(dataset, spec).ledger
    return PopPKFit(
        idata=idata, spec=spec, priors=priors, card_name=str(attrs.get("blinapk_card", "")),
        method=str(attrs["blinapk_method"]), sampler=str(attrs["blinapk_sampler"]),
        seed=int(attrs.get("blinapk_seed", -1)),
        parameterisation={p: v["chosen"] for p, v in par.items()},
        data_hash=str(attrs["blinapk_data_hash"]), ledger=ledger, timings={},
        convergence=_reload_convergence(idata, attrs, par, spec), model=None)


def _reload_convergence(idata: Any, attrs: dict, par: dict, spec: PopPKSpec
                        ) -> ConvergenceReport | None:
    """Recompute the gates of a reloaded NUTS fit (cheap, keeps the report consistent).

    Deterministics and fixed covariate effects (constants) are not gated.
    """
    if attrs.get("blinapk_method") != "nuts":
        return None
    if "blinapk_gated_vars" in attrs:  # the variables fit() gated
        free = [n for n in json.loads(str(attrs["blinapk_gated_vars"]))
                if n in idata.posterior.data_vars]
    else:  # files written before the list was stamped
        fixed = {f"beta_{c.name}" for c in spec.covariates if c.is_fixed}
        free = [n for n in idata.posterior.data_vars
                if not n.startswith(("typical", "indiv", "eta", "corr_eta"))
                and not n.endswith("__") and n not in fixed]
    return check_convergence(idata, var_names=free,
                             parameterisation={p: v["chosen"] for p, v in par.items()},
                             group_dim="subject")
