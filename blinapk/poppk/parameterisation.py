r"""Automatic parameterisation of each random effect: partially centered per subject.

A hierarchical log-normal random effect :math:`\phi_i = \mu_i + \eta_i`,
:math:`\eta_i \sim N(0, \omega^2)` samples best *centered* (sample
:math:`\phi_i` directly) when each subject's data pin :math:`\phi_i` down
more tightly than the prior does, and *non-centered*
(:math:`\phi_i = \mu_i + \omega z_i`, :math:`z_i \sim N(0, 1)`) when the prior
dominates; otherwise the posterior has a funnel (Betancourt & Girolami 2015;
Papaspiliopoulos, Roberts & Sköld 2007). In a clinical PK dataset both kinds
of subject occur for the same parameter: for blinatumomab, V is pinned by the
wash-out samples of the few subjects who have them and by nothing in the
others.

How informative the data are is measured, per subject :math:`i` and
parameter :math:`P`, by the Fisher information of :math:`\log P` carried by
the subject's quantified observations at nominal values,

.. math:: I_i = \sum_j \left(\frac{\partial m_j}{\partial \log P}\right)^2 / s_j^2,

(:math:`m` = log prediction and :math:`s = \sigma_{prop}` for the proportional
models, log-scale or linear, which carry the same information; :math:`m` =
prediction and :math:`s` the residual SD otherwise), against the prior
precision :math:`1/\omega^2`: :math:`r_i = I_i \omega^2`. Censored rows are
left out of :math:`I_i` (conservative: they carry less information than a
quantified value).

``"auto"`` (the default, independent random effects) uses the **partially
centered** parameterisation of Papaspiliopoulos, Roberts & Sköld (Stat Sci
2007;22:59-73) and Gorinova, Moore & Hoffman (ICML 2020), with a weight per
subject:

.. math::

    w_i = \frac{r_i}{1 + r_i}, \qquad
    \tilde\phi_i \sim N(w_i \mu_i, \omega^{w_i}), \qquad
    \phi_i = \mu_i + \omega^{1 - w_i} (\tilde\phi_i - w_i \mu_i).

:math:`w_i = 1` is the centered and :math:`w_i = 0` the non-centered
parameterisation; the model (and so the posterior) is the same for every
:math:`w`. In the normal-normal model :math:`w_i` is the share of subject
:math:`i`'s posterior precision that comes from its data, the weight that
makes :math:`\tilde\phi_i` a posteriori independent of :math:`\mu_i`.

That share depends on :math:`\omega`, which is unknown before the fit and, in a
small trial, poorly known after it. A weight set at a typical :math:`\omega`
puts the subject in a funnel wherever the posterior of :math:`\omega` reaches
much lower values: in 60-subject trials with about ten V-informative subjects
the posterior of :math:`\omega_V` reaches 0.02, and V's partial centering at
the prior centre of :math:`\omega_V` caused divergences in 23 of 50 simulated
trials (docs/validation.md). The weights are therefore computed at
:math:`\omega_{lo}` (:func:`omega_floor`), the lowest value the data plausibly
allow: about :data:`OMEGA_LOW_SDS` posterior SDs of :math:`\log\omega` below the
nominal :math:`\omega`, the SD taken from the Fisher information on
:math:`\log\omega`, :math:`J = 2 \sum_i w_i^2`, which itself depends on the
weights at :math:`\omega_{lo}` (a fixed point). How much each subject informs
each parameter thus decides twice: through its own :math:`I_i`, and through
how many other subjects inform the same parameter. When few do, the floor
falls to 0, every weight is 0 and the parameter is reported ``noncentered``
(V in trials of 30-60 subjects on the label regimen); when many do, the floor
stays near :math:`\omega` and the informative subjects are nearly centered
(V at N = 200-3000, CL at every size: every steady-state sample informs CL).
A parameter informed (:math:`r_i > 1`) by fewer than
:data:`FEW_INFORMED_SUBJECTS` subjects is non-centered even when its floor
stays above 0: those few subjects kept a funnel in some 60-subject trials.
Such models are also sampled with a higher target acceptance
(:func:`auto_target_accept`).

The floor protects small trials and costs larger ones: at N = 200, where
:math:`\omega_V`'s floor is about 0.55 of the nominal value, weights at the
floor gave TV_V a median bulk ESS of 1172 over 20 simulated trials against
1725 at the nominal omega. So the weights are set at the floor only in a
*small trial*, one where some random effect is informed by fewer than
:data:`FEW_INFORMED_SUBJECTS` subjects (the same trigger as the higher target
acceptance); otherwise at the nominal omega. In 30-subject trials, weights at
the nominal omega gave divergences in 4 of 50 fits against 2 at the floor
(docs/validation.md). Outside small trials the floor decides nothing: a
parameter is partially centered at the nominal omega even when its floor is
0. In 2 of 20 simulated 200-subject trials (robustness seeds 12 and 17) V's
floor is 0 although more than 20 subjects inform V; over 6 sampler seeds each,
V non-centered gave TV_V a bulk ESS of 543-855 and 698-1344, partially
centered at the nominal omega 2297-2921 and 867-1477, neither with a
divergence.
On the N = 200 benchmark dataset partial centering raised the minimum bulk
ESS of the population parameters from about 640 (V non-centered) to about
1700 for the same number of gradients (docs/benchmarks-poppk.md).

With ``correlation=True`` the correlated block is centered or non-centered as
a whole: centered when the data dominate (:math:`r_i > 1`) for the majority
of subjects for every parameter, non-centered otherwise. ``"centered"``,
``"noncentered"`` and ``"partial"`` can also be requested per parameter.

Derivatives are central finite differences (step 1e-4 in log P) of
:func:`blinapk.pk.predict_conc` at nominal parameters: the data-driven
initial typical values (:mod:`blinapk.poppk.init`), the prior centres of
:math:`\omega` and of the residual SDs.

For blinatumomab at steady state, :math:`\partial \log C/\partial \log CL = -1`
per sample, so CL weights are close to 1 as soon as :math:`\omega_{CL} >
\sigma_{prop}`; V only matters in the first hours after a rate change, so its
weights are near 0 except in subjects with early or wash-out samples.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from blinapk.pk import predict_conc
from blinapk.poppk.design import PopPKData
from blinapk.poppk.spec import PopPKSpec

__all__ = ["FEW_INFORMED_SUBJECTS", "OMEGA_LOW_SDS", "TARGET_ACCEPT", "TARGET_ACCEPT_FEW",
           "ParamChoice", "auto_precision", "auto_target_accept", "centering_weights",
           "choose_parameterisation", "fisher_information", "omega_floor"]

_STEP = 1e-4
#: How many (approximate) posterior SDs of log omega below the nominal omega the
#: centering weights are computed at (:func:`omega_floor`).
OMEGA_LOW_SDS = 2.5
#: Below this fraction of the nominal omega the floor is taken as 0 (all weights 0).
_FLOOR_MIN = 1e-3
#: NUTS target acceptance when every random effect is informed by many subjects.
TARGET_ACCEPT = 0.8
#: NUTS target acceptance when some random effect is informed by few subjects.
TARGET_ACCEPT_FEW = 0.99
#: "Few": fewer subjects than this whose data dominate the prior for a parameter.
FEW_INFORMED_SUBJECTS = 20


@dataclass(frozen=True)
class ParamChoice:
    r"""The parameterisation of one random effect and why.

    Attributes
    ----------
    param : str
        Structural parameter.
    requested : str
        ``auto``, ``centered``, ``noncentered`` or ``partial`` (from the spec).
    chosen : str
        ``centered``, ``noncentered`` or ``partial``.
    fraction_data_dominated : float
        Share of subjects with :math:`I_i \omega^2 > 1`.
    median_ratio : float
        Median over subjects of :math:`I_i \omega^2`.
    weights : ndarray, shape (n_subjects,)
        Centering weight of each subject, :math:`w_i = r_i / (1 + r_i)` with
        :math:`r_i = I_i \omega_{ref}^2` (used when ``chosen == "partial"``;
        1 = centered, 0 = non-centered).
    omega_ref : float
        The omega the weights are computed at: :attr:`omega_lo` in a small
        trial (some effect informed by fewer than
        :data:`FEW_INFORMED_SUBJECTS` subjects), else the nominal omega.
    omega_lo : float
        :func:`omega_floor` of the nominal omega (0: omega's posterior
        reaches 0, and the parameter is non-centered).
    information : ndarray, shape (n_subjects,)
        :math:`I_i`, each subject's Fisher information on the log parameter
        (:func:`fisher_information`).
    """

    param: str
    requested: str
    chosen: str
    fraction_data_dominated: float
    median_ratio: float
    weights: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False, compare=False)
    omega_ref: float = float("nan")
    omega_lo: float = float("nan")
    information: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False,
                                    compare=False)

    @property
    def n_data_dominated(self) -> int:
        r"""Subjects whose data dominate the prior (:math:`I_i \omega^2 > 1`)."""
        return int(round(self.fraction_data_dominated * self.weights.size))

    @property
    def median_weight(self) -> float:
        """Median centering weight over subjects (NaN when there are none)."""
        return round(float(np.median(self.weights)), 4) if self.weights.size else float("nan")

    def to_dict(self) -> dict:
        """Plain-dict form (per-subject weights summarised by their median)."""
        return {"param": self.param, "requested": self.requested, "chosen": self.chosen,
                "fraction_data_dominated": self.fraction_data_dominated,
                "median_ratio": self.median_ratio, "median_weight": self.median_weight,
                "omega_ref": self.omega_ref, "omega_lo": self.omega_lo}


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


def centering_weights(ratio: np.ndarray) -> np.ndarray:
    r"""Partial-centering weights :math:`w_i = r_i / (1 + r_i)` from :math:`r_i = I_i \omega^2`.

    Parameters
    ----------
    ratio : array
        Data-to-prior precision ratio of each subject (>= 0; NaN counts as 0).

    Returns
    -------
    ndarray
        Weights in [0, 1).

    Examples
    --------
    >>> centering_weights(np.array([0.0, 1.0, 9.0])).tolist()
    [0.0, 0.5, 0.9]
    """
    r = np.nan_to_num(np.asarray(ratio, dtype=float), nan=0.0, posinf=1e12)
    r = np.clip(r, 0.0, 1e12)
    return r / (1.0 + r)


def omega_floor(info: np.ndarray, omega: float, n_sds: float | None = None) -> float:
    r"""Return the smallest omega the data plausibly allow (where the weights are set).

    Treating each subject's data as a measurement of its random effect with
    variance :math:`1/I_i`, the Fisher information on :math:`\log\omega` is
    :math:`J(\omega) = 2 \sum_i w_i(\omega)^2`, :math:`w_i = I_i\omega^2 /
    (1 + I_i\omega^2)` (each subject's estimate has variance
    :math:`\omega^2 + 1/I_i`). The floor is the fixed point of

    .. math:: \omega_{lo} = \omega \exp\left(-n_{sds} / \sqrt{J(\omega_{lo})}\right),

    reached by iterating from :math:`\omega` (the sequence decreases). When few
    subjects inform the parameter, :math:`J` shrinks as :math:`\omega_{lo}`
    does and the floor falls to 0: the posterior of omega reaches 0 and only
    the non-centered form is free of a funnel there. When many do, it stays
    near :math:`\omega` (N = 3000: within a few per cent).

    Parameters
    ----------
    info : array
        Per-subject Fisher information :math:`I_i` of the log parameter.
    omega : float
        Nominal omega.
    n_sds : float, optional
        Approximate posterior SDs of :math:`\log\omega` below the nominal value
        (default :data:`OMEGA_LOW_SDS`).

    Returns
    -------
    float
        :math:`\omega_{lo}` in [0, omega]; 0 when it falls below 1e-3 omega.

    Examples
    --------
    >>> omega_floor(np.zeros(60), 0.7)
    0.0
    >>> round(omega_floor(np.full(5000, 1e9), 0.7), 3)   # w = 1: 0.7 exp(-2.5 / 100)
    0.683
    """
    i = np.clip(np.nan_to_num(np.asarray(info, dtype=float), nan=0.0, posinf=1e12), 0.0, 1e12)
    omega = float(omega)
    n_sds = OMEGA_LOW_SDS if n_sds is None else float(n_sds)
    lo = omega
    for _ in range(200):
        j = 2.0 * float(np.sum(centering_weights(i * lo**2) ** 2))
        new = omega * float(np.exp(-n_sds / np.sqrt(j))) if j > 0 else 0.0
        if new < _FLOOR_MIN * omega:
            return 0.0
        if abs(new - lo) <= 1e-9 * omega:
            return new
        lo = new
    return lo


def choose_parameterisation(data: PopPKData, spec: PopPKSpec, typical: Mapping[str, float],
                            omega: Mapping[str, float], sigma_prop: float, sigma_add: float
                            ) -> dict[str, ParamChoice]:
    """Centered, non-centered or partially centered for each parameter with BSV.

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
    ratios = {p: info[p].to_numpy() * float(omega[p]) ** 2 for p in spec.bsv}
    # a small trial: some effect informed by few subjects (the trigger of auto_target_accept)
    small = any(int(np.sum(r > 1.0)) < FEW_INFORMED_SUBJECTS for r in ratios.values())
    out = {}
    for p in spec.bsv:
        ratio = ratios[p]
        frac = float(np.mean(ratio > 1.0))
        requested = spec.parameterisation_for(p)
        lo = omega_floor(info[p].to_numpy(), float(omega[p]))
        if requested != "auto":
            chosen = requested
        elif spec.correlation:
            chosen = "centered" if frac > 0.5 else "noncentered"
        else:
            # a parameter only a few subjects inform is non-centered (their funnel survives
            # the floor); in a small trial so is one whose floor is 0 (every weight at the
            # floor is 0: the non-centered form, named so). Elsewhere the weights are at
            # the nominal omega and partial: at N = 200 a floor of 0 for V with V
            # non-centered gave TV_V a bulk ESS of 543-1344 against 867-2921 partial
            informed = int(np.sum(ratio > 1.0))
            few = informed < FEW_INFORMED_SUBJECTS or (small and not lo > 0)
            chosen = "noncentered" if few else "partial"
        # weights at the omega floor in a small trial (omega's posterior reaches low
        # values; weights at the nominal omega gave divergences in 4 of 50 30-subject
        # trials), at the nominal omega otherwise (the floor cost V a third of its ESS
        # at N = 200); docs/validation.md
        ref = lo if small else float(omega[p])
        out[p] = ParamChoice(p, requested, chosen, round(frac, 4),
                             round(float(np.median(ratio)), 4),
                             weights=centering_weights(info[p].to_numpy() * ref**2),
                             omega_ref=round(ref, 6), omega_lo=round(lo, 6),
                             information=info[p].to_numpy())
    if spec.correlation:
        explicit = {c.requested for c in out.values() if c.requested != "auto"}
        if explicit:
            block = explicit.pop()
        else:
            block = "centered" if all(c.chosen == "centered" for c in out.values()) else (
                "noncentered")
        out = {p: replace(c, chosen=block) for p, c in out.items()}
    return out


def auto_target_accept(choices: Mapping[str, ParamChoice]) -> float:
    r"""NUTS target acceptance for a model, from how many subjects inform each effect.

    When fewer than :data:`FEW_INFORMED_SUBJECTS` subjects inform a random
    effect (data dominating the prior, :math:`I_i\omega^2 > 1`), the
    posterior of its :math:`\omega` reaches close to 0 and the few informed
    subjects keep a residual funnel that NUTS's step size adapted at 0.8 does
    not resolve. In simulated 30-subject trials on the label regimen (about
    five V-informative subjects) 12 of 50 fits had divergences at 0.95; the
    four examined had none at 0.99, for about the same sampling time
    (docs/validation.md). Trials where every effect is informed by many
    subjects keep :data:`TARGET_ACCEPT`.

    Parameters
    ----------
    choices : mapping
        Parameter -> :class:`ParamChoice` (from :func:`choose_parameterisation`).

    Returns
    -------
    float
        :data:`TARGET_ACCEPT_FEW` or :data:`TARGET_ACCEPT`.

    Examples
    --------
    >>> few = ParamChoice("V", "auto", "noncentered", 0.1, 0.2, weights=np.zeros(60))
    >>> many = ParamChoice("CL", "auto", "partial", 0.9, 5.0, weights=np.ones(60))
    >>> auto_target_accept({"CL": many}), auto_target_accept({"CL": many, "V": few})
    (0.8, 0.99)
    """
    return TARGET_ACCEPT_FEW if _few_informed(choices) else TARGET_ACCEPT


def auto_precision(choices: Mapping[str, ParamChoice]) -> str:
    """Precision of NumPyro's sampler for a model: double in small trials, else single.

    Single precision makes a gradient about 1.5x cheaper. In the small-trial
    regime of :func:`auto_target_accept` (fewer than
    :data:`FEW_INFORMED_SUBJECTS` subjects inform some random effect) the
    fits are short anyway (0.4-0.6 s of a 7-8 s 30-subject fit) and the
    sampler works in a residual funnel at target acceptance 0.99; there the
    default stays double precision, the setting that met the small-trial
    calibration targets (in single precision one 30-subject SBC run had 47
    instead of 48 of 50 fits without a divergence, a difference within chance
    but below the target; docs/validation.md).

    Parameters
    ----------
    choices : mapping
        Parameter -> :class:`ParamChoice` (from :func:`choose_parameterisation`).

    Returns
    -------
    str
        ``"float64"`` or ``"float32"``.

    Examples
    --------
    >>> few = ParamChoice("V", "auto", "noncentered", 0.1, 0.2, weights=np.zeros(60))
    >>> many = ParamChoice("CL", "auto", "partial", 0.9, 5.0, weights=np.ones(60))
    >>> auto_precision({"CL": many}), auto_precision({"CL": many, "V": few})
    ('float32', 'float64')
    """
    return "float64" if _few_informed(choices) else "float32"


def _few_informed(choices: Mapping[str, ParamChoice]) -> bool:
    """Whether fewer than :data:`FEW_INFORMED_SUBJECTS` subjects inform some random effect."""
    return any(c.n_data_dominated < FEW_INFORMED_SUBJECTS for c in choices.values())
