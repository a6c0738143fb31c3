"""The provenance stamp of an E-R fit, and reading a saved fit back (:func:`load_er`).

:func:`stamp_er` writes into ``idata.posterior.attrs`` everything needed to
summarise, plot and check a fit without refitting: blinapk version,
endpoint, model, metric, uncertainty mode, imputations, priors, covariate
terms, exposure centring, the analysed units (responses, exposures,
covariates), the exclusions, the label-regimen predictions, sampler settings
and data hashes. :func:`load_er` reads a file written by :meth:`ERFit.save`
and refuses one without the stamp.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from io import StringIO
from pathlib import Path
from typing import Any

import pandas as pd

from blinapk._version import __version__
from blinapk.er.design import CovariateTerm
from blinapk.er.models import ERPriors
from blinapk.er.result import ERFit
from blinapk.mcmc import check_convergence
from blinapk.mcmc.netcdf import read_stamped, warn_if_other_version

__all__ = ["REQUIRED_KEYS", "load_er", "stamp_er"]

#: Stamp attributes without which a file is not a blinapk E-R fit.
REQUIRED_KEYS: tuple[str, ...] = ("blinapk_version", "blinapk_er", "blinapk_er_units")


def _table(frame: pd.DataFrame | None) -> str:
    return "" if frame is None else frame.to_json(orient="split", index=False)


def _read_table(text: str) -> pd.DataFrame | None:
    return pd.read_json(StringIO(text), orient="split") if text else None


def stamp_er(fit: ERFit) -> dict[str, Any]:
    """Write the provenance attributes of ``fit`` into its posterior attrs and return them.

    Parameters
    ----------
    fit : ERFit
        The fit (its ``idata`` is modified in place).

    Returns
    -------
    dict
        The attributes written (all ``blinapk_*``).
    """
    meta = {"endpoint": fit.endpoint, "kind": fit.kind, "model": fit.model_name,
            "metric": fit.metric, "uncertainty": fit.uncertainty,
            "n_imputations": fit.n_imputations, "log_ref": fit.log_ref, "log_sd": fit.log_sd,
            "time_scale": fit.time_scale, "landmark_months": fit.landmark_months,
            "terms": [asdict(t) for t in fit.terms], "priors": fit.priors.to_dict(),
            "settings": fit.settings, "exposure_source": fit.exposure_source}
    attrs = {"blinapk_version": __version__, "blinapk_er": json.dumps(meta, default=str),
             "blinapk_er_units": _table(fit.units), "blinapk_er_excluded": _table(fit.excluded),
             "blinapk_er_regimens": _table(fit.regimens)}
    fit.idata.posterior.attrs.update(attrs)
    return attrs


def load_er(path: str | Path) -> ERFit:
    """Read an E-R fit written by :meth:`ERFit.save`.

    Parameters
    ----------
    path : str or Path
        netCDF file.

    Returns
    -------
    ERFit
        With ``model=None``; the convergence gates are recomputed from the draws.

    Raises
    ------
    BlinapkError
        No such file, or not a blinapk E-R fit.

    Warns
    -----
    BlinapkWarning
        The file was written by another blinapk version.
    """
    path = Path(path)
    idata, attrs = read_stamped(path, REQUIRED_KEYS, caller="load_er", kind="exposure-response fit")
    warn_if_other_version(attrs, path, caller="load_er")
    meta = json.loads(attrs["blinapk_er"])
    settings = meta["settings"]
    gated = [n for n in settings.get("gated", []) if n in idata.posterior.data_vars]
    group = (("imputation", "subject", "latent") if meta["n_imputations"] > 1 else
             ("subject", "latent"))
    convergence = check_convergence(idata, var_names=gated or None, group_dim=group) \
        if "sample_stats" in idata.groups() else None
    return ERFit(
        idata=idata, endpoint=meta["endpoint"], kind=meta["kind"], model_name=meta["model"],
        metric=meta["metric"], uncertainty=meta["uncertainty"],
        n_imputations=int(meta["n_imputations"]),
        units=_read_table(attrs["blinapk_er_units"]),
        terms=tuple(CovariateTerm(**t) for t in meta["terms"]), log_ref=float(meta["log_ref"]),
        log_sd=float(meta["log_sd"]), time_scale=float(meta["time_scale"]),
        landmark_months=float(meta["landmark_months"]),
        excluded=_read_table(attrs.get("blinapk_er_excluded", "")),
        regimens=_read_table(attrs.get("blinapk_er_regimens", "")),
        priors=ERPriors(**meta["priors"]), settings=settings,
        exposure_source=meta["exposure_source"], convergence=convergence, timings={},
        model=None)
