r"""Automatic centered / non-centered choice of each random effect.

A hierarchical log-normal random effect :math:`\phi_i = \mu + \eta_i`,
:math:`\eta_i \sim N(0, \omega^2)` samples best *centered* (sample
:math:`\phi_i` directly) when each subject's data pin :math:`\phi_i` down
more tightly than the prior does, and *non-centered*
(:math:`\phi_i = \mu + \omega z_i`, :math:`z_i \sim N(0, 1)`) when the prior
dominates; otherwise the posterior has a funnel (Betancourt & Girolami 2015;
Papaspiliopoulos, Roberts & Sköld 2007).

The rule used here compares, per subject :math:`i` and parameter :math:`P`,
the Fisher information of :math:`\log P` carried by the subject's quantified
observations at nominal values,

.. math:: I_i = \sum_j \left(\frac{\partial m_j}{\partial \log P}\right)^2 / s_j^2,

(:math:`m` = log prediction and :math:`s = \sigma_{prop}` for the proportional
models, log-scale or linear, which carry the same information; :math:`m` =
prediction and :math:`s` the residual SD otherwise), with
the prior precision :math:`1/\omega^2`. Data dominate subject :math:`i` when
:math:`I_i \omega^2 > 1`; the parameter is centered when data dominate for
the majority of subjects. Censored rows are left out of :math:`I_i`
(conservative: they carry less information than a quantified value).

Derivatives are central finite differences (step 1e-4 in log P) of
:func:`blinapk.pk.predict_conc` at nominal parameters: the data-driven
initial typical values (:mod:`blinapk.poppk.init`), the prior centres of
:math:`\omega` and of the residual SDs.

For blinatumomab at steady state, :math:`\partial \log C/\partial \log CL = -1`
per sample, so CL is centered as soon as :math:`\omega_{CL} > \sigma_{prop}`;
V only matters in the first hours after a rate change and is usually
non-centered with sparse steady-state sampling.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from blinapk.pk import predict_conc
from blinapk.poppk.design import PopPKData
from blinapk.poppk.spec import PopPKSpec

__all__ = ["ParamChoice", "choose_parameterisation", "fisher_information"]

_STEP = 1e-4


@dataclass(frozen=True)
class ParamChoice:
    r"""The parameterisation of one random effect and why.

    Attributes
    ----------
    param : str
        Structural parameter.
    requested : str
        ``auto``, ``centered`` or ``noncentered`` (from the spec).
    chosen : str
        ``centered`` or ``noncentered``.
    fraction_data_dominated : float
        Share of subjects with :math:`I_i \omega^2 > 1`.
    median_ratio : float
        Median over subjects of :math:`I_i \omega^2`.
    """

    param: str
    requested: str
    chosen: str
    fraction_data_dominated: float
    median_ratio: float

    def to_dict(self) -> dict:
        """Plain-dict form."""
        return {"param": self.param, "requested": self.requested, "chosen": self.chosen,
                "fraction_data_dominated": self.fraction_data_dominated,
                "median_ratio": self.median_ratio}


def fisher_information(data: PopPKData, structure: str, typical: Mapping[str, float],
                       residual: str, sigma_prop: float, sigma_add: float) -> pd.DataFrame:
    """Per-subject Fisher information of each log parameter at ``typical`` values.

    Parameters
    ----------
    data : PopPKData
        Prepared data.
    structure : {"1cmt", "2cmt"}
        Structural model.
    typical : mapping
        Nominal parameter values (natural scale), one per structural parameter.
    residual : str
        Residual model.
    sigma_prop, sigma_add : float
        Nominal residual SDs.

    Returns
    -------
    DataFrame
        Index = subjects, one column per parameter.
    """
    n_sub = data.n_subjects
    quant = ~data.cens
    t, s = data.time[quant], data.subject_index[quant]
    base = {p: np.full(n_sub, float(v)) for p, v in typical.items()}
    out = {}
    f0 = np.asarray(predict_conc(t, s, data.doses, base, model=structure), dtype=float)
    for p in typical:
        hi = dict(base, **{p: base[p] * np.exp(_STEP)})
        lo = dict(base, **{p: base[p] * np.exp(-_STEP)})
        f_hi = np.asarray(predict_conc(t, s, data.doses, hi, model=structure), dtype=float)
        f_lo = np.asarray(predict_conc(t, s, data.doses, lo, model=structure), dtype=float)
        if residual in ("proportional", "proportional_linear"):
            # proportional_linear: (df/dlogP)^2 / (sigma f)^2 = (dlog f/dlogP)^2 / sigma^2
            with np.errstate(divide="ignore", invalid="ignore"):
                d = (np.log(f_hi) - np.log(f_lo)) / (2 * _STEP)
            d = np.where(np.isfinite(d), d, 0.0)
            info = d**2 / sigma_prop**2
        else:
            d = (f_hi - f_lo) / (2 * _STEP)
            sd2 = sigma_add**2 + (0.0 if residual == "additive" else (sigma_prop * f0) ** 2)
            info = d**2 / sd2
        out[p] = np.bincount(s, weights=info, minlength=n_sub)
    return pd.DataFrame(out, index=pd.Index(data.subjects, name="ID"))


def choose_parameterisation(data: PopPKData, spec: PopPKSpec, typical: Mapping[str, float],
                            omega: Mapping[str, float], sigma_prop: float, sigma_add: float
                            ) -> dict[str, ParamChoice]:
    """Centered or non-centered for each parameter with BSV.

    Parameters
    ----------
    data : PopPKData
        Prepared data.
    spec : PopPKSpec
        Model spec (requested parameterisation, BSV parameters, correlation).
    typical : mapping
        Nominal typical values of every structural parameter.
    omega : mapping
        Nominal omega of every BSV parameter.
    sigma_prop, sigma_add : float
        Nominal residual SDs.

    Returns
    -------
    dict
        Parameter -> :class:`ParamChoice`. With ``correlation=True`` the
        correlated block is parameterised as a whole: centered only if every
        parameter whose choice is automatic would be centered (or the user
        requested centered).
    """
    if not spec.bsv:
        return {}
    info = fisher_information(data, spec.structure, typical, spec.residual, sigma_prop, sigma_add)
    out = {}
    for p in spec.bsv:
        ratio = info[p].to_numpy() * float(omega[p]) ** 2
        frac = float(np.mean(ratio > 1.0))
        requested = spec.parameterisation_for(p)
        auto = "centered" if frac > 0.5 else "noncentered"
        chosen = auto if requested == "auto" else requested
        out[p] = ParamChoice(p, requested, chosen, round(frac, 4),
                             round(float(np.median(ratio)), 4))
    if spec.correlation:
        explicit = {c.requested for c in out.values() if c.requested != "auto"}
        if explicit:
            block = explicit.pop()
        else:
            block = "centered" if all(c.chosen == "centered" for c in out.values()) else (
                "noncentered")
        out = {p: ParamChoice(c.param, c.requested, block, c.fraction_data_dominated,
                              c.median_ratio) for p, c in out.items()}
    return out
