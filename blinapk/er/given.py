"""An E-R model with given parameters (a published or assumed model), as an :class:`ERFit`.

:func:`given_er` wraps the intercept and slope of a logistic model in log
exposure, ``logit p = intercept + slope (log x - log ref)``, as one-draw
(fixed values) or many-draw (e.g. a published uncertainty) "posterior", so
that everything that takes a fitted model (:func:`blinapk.simulate.predict_response`,
dose finding) also takes a model from the literature or a scenario.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from blinapk.er.design import CovariateTerm
from blinapk.er.metrics import get_metric
from blinapk.er.models import ERPriors
from blinapk.er.outcomes import get_endpoint
from blinapk.er.result import ERFit
from blinapk.er.stamp import stamp_er
from blinapk.errors import ModelSpecError

__all__ = ["given_er"]


def given_er(endpoint: str, *, intercept: Any, slope: Any, ref: float, metric: str = "css",
             terms: Sequence[CovariateTerm] = (), gamma: Any = None) -> ERFit:
    """Build a logistic E-R model from given parameters.

    Parameters
    ----------
    endpoint : str
        A binary endpoint of :data:`blinapk.er.ENDPOINTS` (``crcrh``, ``crs3`` ...).
    intercept, slope : float or array_like
        Log-odds at ``ref`` and per unit log exposure; arrays of equal length
        are draws (parameter uncertainty).
    ref : float
        Exposure (pg/mL) where the log-odds is ``intercept``.
    metric : str
        Subject exposure metric (``css``, ``css_start``, ``cavg``).
    terms : sequence of CovariateTerm
        Covariate terms (``kind="level"``: an indicator; ``"numeric"``: standardised).
    gamma : array_like, optional
        Their effects on the log-odds, ``(n_terms,)`` or ``(n_draws, n_terms)``.

    Returns
    -------
    ERFit
        ``uncertainty="given"``, no data units, no convergence report; stamped,
        so :meth:`ERFit.save` writes a file :func:`blinapk.er.load_er` reads.

    Examples
    --------
    >>> fit = given_er("crcrh", intercept=0.0, slope=1.0, ref=500.0)
    >>> fit.summary()["PARAMETER"].tolist()[:2]
    ['INTERCEPT', 'BETA_LOGCSS']
    """
    import arviz as az

    ep = get_endpoint(endpoint)
    if ep.kind != "binary":
        raise ModelSpecError(f"endpoint: given_er takes binary endpoints, {endpoint!r} is "
                             f"{ep.kind}")
    get_metric(metric, "subject")
    if not (np.isfinite(ref) and ref > 0):
        raise ModelSpecError(f"ref: expected an exposure > 0 pg/mL, got {ref!r}")
    a = np.atleast_1d(np.asarray(intercept, dtype=float))
    b = np.atleast_1d(np.asarray(slope, dtype=float))
    n = max(a.size, b.size)
    a, b = np.broadcast_to(a, (n,)), np.broadcast_to(b, (n,))
    post = {"er_intercept": a[None, :, None], "er_slope": b[None, :, None]}
    dims = {"er_intercept": ["imputation"], "er_slope": ["imputation"]}
    coords: dict[str, Any] = {"imputation": [0]}
    if terms:
        if gamma is None:
            raise ModelSpecError("gamma: give the effect of each covariate term")
        g = np.broadcast_to(np.asarray(gamma, dtype=float).reshape(-1, len(terms)),
                            (n, len(terms)))
        post["er_gamma"] = g[None, :, None, :]
        dims["er_gamma"] = ["imputation", "term"]
        coords["term"] = [t.name for t in terms]
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ModelSpecError("intercept, slope: expected finite numbers")
    idata = az.from_dict(posterior=post, dims=dims, coords=coords)
    empty = pd.DataFrame({"ID": pd.Series(dtype=object), "REASON": pd.Series(dtype=str)})
    fit = ERFit(idata=idata, endpoint=ep.name, kind="binary", model_name="logistic",
                metric=metric, uncertainty="given", n_imputations=1,
                units=pd.DataFrame({"ID": pd.Series(dtype=object)}), terms=tuple(terms),
                log_ref=float(np.log(ref)), log_sd=1.0, time_scale=1.0,
                landmark_months=12.0, excluded=empty, regimens=None, priors=ERPriors(),
                settings={"given": True}, exposure_source="given")
    stamp_er(fit)  # so that fit.save() writes a file load_er reads
    return fit
