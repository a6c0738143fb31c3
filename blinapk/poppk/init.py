"""Starting values for the sampler and the optimiser.

A 3000-subject fit started at the prior centre wastes most of its warm-up
walking towards the data. Here the typical clearance is estimated, before
any fitting, the NCA way: at steady state of a constant infusion
``CL = 1000 * R0 / Css`` (:func:`blinapk.pk.cl_from_css`). Every quantified
observation taken while an infusion has been running at an unchanged rate
for at least :data:`STEADY_HOURS` hours gives one estimate; a subject's
estimate is their geometric mean and the typical value the median over
subjects. Centered random effects start at the subject's own estimate.

Other typical values come from the model card when one is given, else from
the prior centres; variance components from the prior centres (the card's
omega / residual values when card priors are used); covariate effects from the
card when it has the same effect, else 0 (no effect).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from blinapk.pk import cl_from_css
from blinapk.poppk.design import PopPKData
from blinapk.poppk.priors import PriorConfig
from blinapk.poppk.spec import PopPKSpec

__all__ = ["STEADY_HOURS", "InitialValues", "initial_values", "nca_clearance"]

#: Hours at an unchanged infusion rate after which a sample counts as steady
#: state: > 4 half-lives of the typical 1.87 h (Zhu 2020), i.e. > 94 % of Css.
STEADY_HOURS = 8.0
#: Minimum number of subjects with a steady-state sample for the NCA start.
MIN_SUBJECTS = 3


@dataclass(frozen=True)
class InitialValues:
    """Starting values (natural scale for typical values).

    Attributes
    ----------
    typical : Mapping[str, float]
        Typical value of each structural parameter.
    source : Mapping[str, str]
        Where each typical value comes from: ``nca``, ``card`` or ``prior``.
    subject_cl : ndarray
        Per-subject NCA clearance (NaN where no steady-state sample).
    omega, sigma_prop, sigma_add : float or Mapping
        Starting variance components.
    beta : Mapping[str, float]
        Starting covariate effects (continuous forms).
    """

    typical: Mapping[str, float]
    source: Mapping[str, str]
    subject_cl: np.ndarray = field(repr=False)
    omega: Mapping[str, float]
    sigma_prop: float
    sigma_add: float
    beta: Mapping[str, float]


def nca_clearance(data: PopPKData) -> np.ndarray:
    """Per-subject steady-state clearance ``1000 R0 / C`` (L/h), NaN when not available.

    Parameters
    ----------
    data : PopPKData
        Prepared data (uses quantified observations taken after at least
        :data:`STEADY_HOURS` h at an unchanged, positive infusion rate).

    Returns
    -------
    ndarray, shape (n_subjects,)
        Geometric mean of the per-sample estimates of each subject.
    """
    ok = (~data.cens) & (data.rate > 0) & (data.since_change >= STEADY_HOURS) & (data.dv > 0)
    est = np.full(data.n_subjects, np.nan)
    if not ok.any():
        return est
    log_cl = np.log(cl_from_css(data.rate[ok], data.dv[ok]))
    s = data.subject_index[ok]
    mean = pd.Series(log_cl).groupby(s).mean()
    est[mean.index.to_numpy()] = np.exp(mean.to_numpy())
    return est


def initial_values(data: PopPKData, spec: PopPKSpec, priors: PriorConfig, card: Any = None
                   ) -> InitialValues:
    """Compute starting values for ``spec`` on ``data`` (see module docstring).

    Parameters
    ----------
    data : PopPKData
        Prepared data.
    spec : PopPKSpec
        Model spec with resolved covariate references.
    priors : PriorConfig
        Resolved priors (their centres are the fall-back).
    card : ModelCard, optional
        Literature card.

    Returns
    -------
    InitialValues
    """
    typical, source = {}, {}
    cl_sub = nca_clearance(data)
    for p in spec.params:
        if card is not None and p in card.typical:
            typical[p], source[p] = float(card.typical[p]), "card"
        else:
            typical[p], source[p] = math.exp(priors[f"log_{p}"].centre()), "prior"
    if np.sum(np.isfinite(cl_sub)) >= MIN_SUBJECTS:
        typical["CL"], source["CL"] = float(np.nanmedian(cl_sub)), "nca"
    omega = {p: priors[f"omega_{p}"].centre() for p in spec.bsv}
    if spec.correlation:
        omega = {p: max(o, 0.1) for p, o in omega.items()}
    sigma_prop = priors["sigma_prop"].centre() if "sigma_prop" in priors else 0.0
    sigma_add = priors["sigma_add"].centre() if "sigma_add" in priors else 0.0
    effects = {(e.param, e.covariate): e for e in card.covariates} if card is not None else {}
    beta = {}
    for c in spec.covariates:
        if c.is_fixed:
            beta[c.name] = float(c.fixed)  # type: ignore[arg-type]
            continue
        e = effects.get((c.param, c.covariate))
        same = (e is not None and e.form == c.form and c.form != "categorical"
                and float(e.reference) == float(c.reference))  # type: ignore[arg-type]
        beta[c.name] = float(e.value) if same else 0.0  # type: ignore[union-attr,arg-type]
    return InitialValues(typical, source, cl_sub, omega, sigma_prop, sigma_add, beta)
