r"""The exposure-response models: PyMC likelihoods and the same predictions in numpy.

With :math:`x` the exposure, :math:`\ell = \log x - \log x_{ref}` (centred
at the median plug-in exposure, :mod:`blinapk.er.design`), :math:`z` the
covariate row and :math:`f` the Emax fraction of :mod:`blinapk.pk.emax`:

Binary endpoints (Bernoulli, logit link)
    ``logistic`` (default): :math:`\text{logit}\,p = a + \beta \ell + \gamma z`;
    ``emax`` / ``sigmoid_emax``: :math:`\text{logit}\,p = E_0 + E_{max} f(x; EC_{50}, h) + \gamma z`
    (:math:`h = 1` for ``emax``).
Time to event (``weibull``)
    proportional hazards :math:`h(t) = k\, s^{k-1} e^{a + \beta \ell + \gamma z} / \bar t`,
    :math:`s = t / \bar t` (:math:`\bar t` the mean follow-up, so :math:`e^a` is the
    cumulative hazard at :math:`\bar t` at the median exposure); censored times
    contribute the survival :math:`e^{-s^k e^{a + \beta \ell + \gamma z}}`.
Cytokine peaks (``emax`` / ``sigmoid_emax``)
    :math:`\log(\text{peak} - \text{baseline})_{ie} = \log E_{max} + \log f(x_{ie}; EC_{50}, h)
    + \log(\rho)\,[e \text{ is a step-up}] + \omega \eta_i + \gamma z + \varepsilon_{ie}`,
    :math:`\eta_i \sim N(0, 1)`, :math:`\varepsilon \sim N(0, \sigma^2)`; a peak below
    LLOQ contributes :math:`P(\log \text{peak} < \log \text{LLOQ})` (left-censored).

Every model carries an ``imputation`` dimension of size :math:`M`: the
propagated mode (:mod:`blinapk.er.fit`) fits :math:`M` independent copies,
one per PK posterior draw of the exposures, in one model; plug-in and joint
fits have :math:`M = 1`.

Priors (:class:`ERPriors`), weakly informative on the scale of the data:

* intercepts, :math:`E_0` ~ N(0, 2.5) on the log-odds (log cumulative hazard)
  scale; exposure slope ~ N(0, 2.5 / SD(log x)) and covariate effects ~
  N(0, 2.5) per SD or level: the default of rstanarm (Gabry & Goodrich 2020;
  Gelman et al., Ann Appl Stat 2008), a change of at most a few units of
  log-odds over the observed exposure range;
* Emax models are sampled through the response at the median exposure
  (log-odds ~ N(0, 2.5), log peak ~ N(log 1000 pg/mL, 2.5)) and EC50; E0 and
  Emax follow;
* binary :math:`E_{max}` ~ N(0, 5) log-odds (either direction);
  :math:`\log EC_{50}` ~ N(log median exposure, 1): EC50 within a factor
  e^2 = 7.4 of the median exposure with 95 % probability (an EC50 far
  outside the data is not identified by them); Hill ~ LogNormal(0, 0.5);
* Weibull shape ~ LogNormal(0, 0.5) (0.4 to 2.7: decreasing to increasing hazards);
* peaks: log peak at the median exposure ~ N(log 1000 pg/mL, 2.5)
  (blinatumomab cytokine peaks span tens to tens of thousands of pg/mL;
  Klinger et al., Blood 2012), :math:`\log \rho` ~ N(0, 2) (a step-up peak 50 times lower or higher
  than the first is still plausible); the total log-scale SD
  :math:`\tau = \sqrt{\omega^2 + \sigma^2}` ~ HalfNormal(2) and the
  between-subject share :math:`\omega^2/\tau^2` ~ Beta(2, 2) (peaks vary
  over orders of magnitude between patients; either source may dominate).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from types import ModuleType
from typing import Any

import numpy as np

from blinapk.er.design import ERDesign
from blinapk.errors import ModelSpecError
from blinapk.mcmc.likelihood import censored_normal_logp
from blinapk.pk.emax import log_emax_fraction

__all__ = ["DEFAULT_MODEL", "MODELS", "ERPriors", "add_er_model", "check_model",
           "linear_predictor", "respond"]

#: Models available per endpoint kind.
MODELS: Mapping[str, tuple[str, ...]] = {
    "binary": ("logistic", "emax", "sigmoid_emax"),
    "tte": ("weibull",),
    "peak": ("emax", "sigmoid_emax"),
}
#: Default model per endpoint kind.
DEFAULT_MODEL: Mapping[str, str] = {"binary": "logistic", "tte": "weibull", "peak": "emax"}
#: Smallest SD of log exposure used to scale the slope prior.
MIN_LOG_SD = 0.05


@dataclass(frozen=True)
class ERPriors:
    r"""Prior scales (see the module docstring for the reasoning).

    Attributes
    ----------
    intercept_sd, slope_sd, covariate_sd : float
        Normal SDs of intercepts, of the slope per SD of log exposure, and of
        covariate effects.
    emax_sd : float
        Normal SD of the binary Emax (log-odds).
    ec50_log_sd, hill_log_sd, shape_log_sd : float
        SDs of log EC50 (around the median exposure), log Hill, log Weibull shape.
    peak_log_emax_mean, peak_log_emax_sd : float
        Normal prior of log Emax of the peak model (log pg/mL).
    episode_log_sd : float
        Normal SD of the log step-up/first-start peak ratio.
    total_sd : float
        HalfNormal scale of the total log-scale SD of the peak model,
        :math:`\tau = \sqrt{\omega^2 + \sigma^2}`.
    share_ab : float
        Beta(a, a) prior of the between-subject share :math:`\rho = \omega^2 / \tau^2`.
    """

    intercept_sd: float = 2.5
    slope_sd: float = 2.5
    covariate_sd: float = 2.5
    emax_sd: float = 5.0
    ec50_log_sd: float = 1.0
    hill_log_sd: float = 0.5
    shape_log_sd: float = 0.5
    peak_log_emax_mean: float = float(np.log(1000.0))
    peak_log_emax_sd: float = 2.5
    episode_log_sd: float = 2.0
    total_sd: float = 2.0
    share_ab: float = 2.0

    def to_dict(self) -> dict[str, float]:
        """JSON-safe dict."""
        return asdict(self)


def check_model(kind: str, model: str | None) -> str:
    """Return ``model`` (default for ``kind`` when None) after checking it fits the endpoint.

    Raises
    ------
    ModelSpecError
        A model not available for that kind of endpoint.
    """
    name = DEFAULT_MODEL[kind] if model is None else str(model).lower().replace("-", "_")
    if name not in MODELS[kind]:
        raise ModelSpecError(f"model: {name!r} is not available for {kind} endpoints; use one "
                             f"of {MODELS[kind]}")
    return name


def linear_predictor(kind: str, model: str, p: Mapping[str, Any], logx: Any, X: np.ndarray,
                     episode: Any, log_ref: float, xp: ModuleType = np) -> Any:
    """Model-scale mean: log-odds, log hazard multiplier or mean log peak.

    Parameters
    ----------
    kind, model : str
        Endpoint kind and model.
    p : mapping
        Parameters by short name (``intercept``, ``slope``, ``e0``, ``emax``,
        ``log_ec50``, ``hill``, ``log_emax``, ``log_ratio``, ``gamma``), each
        with a trailing axis of length 1 (scalars: ``(..., 1)``; ``gamma``:
        ``(..., n_terms)``).
    logx : array, shape (..., n)
        Log exposure.
    X : ndarray, shape (n, n_terms)
        Covariate design (data).
    episode : array_like, shape (n,)
        1 for a step-up peak (peak model only).
    log_ref : float
        Centre of log exposure.
    xp : module
        Array namespace.

    Returns
    -------
    array, shape (..., n)
    """
    if model in ("logistic", "weibull"):
        eta = p["intercept"] + p["slope"] * (logx - log_ref)
    else:
        hill = p["hill"] if model == "sigmoid_emax" else 1.0
        log_f = log_emax_fraction(logx, p["log_ec50"], hill, xp)
        if kind == "binary":
            eta = p["e0"] + p["emax"] * xp.exp(log_f)
        else:
            eta = p["log_emax"] + log_f + p["log_ratio"] * episode
    if X.shape[1]:
        eta = eta + xp.dot(p["gamma"], X.T)
    return eta


def respond(kind: str, eta: np.ndarray, p: Mapping[str, np.ndarray], time: float | None = None
            ) -> np.ndarray:
    """Natural-scale response of a linear predictor (numpy).

    Parameters
    ----------
    kind : str
        ``binary``: probability; ``tte``: survival probability at ``time``
        (in units of the mean follow-up, see :func:`add_er_model`); ``peak``:
        median peak above baseline (pg/mL).
    eta : ndarray
        From :func:`linear_predictor`.
    p : mapping
        Parameters (``shape`` for ``tte``).
    time : float, optional
        ``tte`` only.

    Returns
    -------
    ndarray
    """
    if kind == "binary":
        return 1.0 / (1.0 + np.exp(-eta))
    if kind == "tte":
        return np.exp(-(time ** p["shape"]) * np.exp(eta))
    return np.exp(eta)


def _short(name: str) -> str:
    return name[3:] if name.startswith("er_") else name


def add_er_model(design: ERDesign, model: str, logx: Any, n_imputations: int,
                 priors: ERPriors, subject_index: np.ndarray | None = None,
                 time_scale: float = 1.0) -> list[str]:
    """Add the E-R parameters and likelihood to the PyMC model in context.

    The model in context must have the coords ``imputation`` (length
    ``n_imputations``), ``unit`` and, for peaks, ``subject``; ``term`` is added
    here when there are covariates.

    Parameters
    ----------
    design : ERDesign
        Data of the analysis.
    model : str
        One of :data:`MODELS` for the design's kind.
    logx : array or tensor, shape (n_imputations, n_units)
        Log exposure (data, or symbolic in the joint model).
    n_imputations : int
        Size of the ``imputation`` dimension.
    priors : ERPriors
        Prior scales.
    subject_index : ndarray of int, optional
        Peaks: position of each unit's subject on the ``subject`` coordinate
        (default ``design.subject_index``).
    time_scale : float
        Time-to-event: the unit of the model's time (the mean follow-up).

    Returns
    -------
    list of str
        Names of the free variables added (for the convergence gates).
    """
    import pymc as pm
    import pytensor.tensor as pt

    kind, m = design.kind, n_imputations
    data = design.arrays()
    ctx = pm.modelcontext(None)
    dims = "imputation"
    p: dict[str, Any] = {}

    def add(name: str, dist: Any, *args: Any, **kw: Any) -> Any:
        var = dist(f"er_{name}", *args, dims=kw.pop("dims", dims), **kw)
        p[name] = var[:, None] if var.ndim == 1 else var
        return var

    slope_sd = priors.slope_sd / max(design.log_sd, MIN_LOG_SD)
    if model in ("logistic", "weibull"):
        add("intercept", pm.Normal, 0.0, priors.intercept_sd)
        add("slope", pm.Normal, 0.0, slope_sd)
    else:
        log_ec50 = add("log_ec50", pm.Normal, design.log_ref, priors.ec50_log_sd)
        hill = add("hill", pm.LogNormal, 0.0, priors.hill_log_sd) \
            if model == "sigmoid_emax" else 1.0
        # sampled at the median exposure, where the data pin the response down; the
        # parameter at zero (E0) or full effect (Emax) follows, which breaks the
        # Emax-EC50 ridge that otherwise slows NUTS down several fold
        log_f_ref = log_emax_fraction(design.log_ref, log_ec50, hill, pt)
        if kind == "binary":
            ref = pm.Normal("er_logit_ref", 0.0, priors.intercept_sd, dims=dims)
            emax = add("emax", pm.Normal, 0.0, priors.emax_sd)
            e0 = pm.Deterministic("er_e0", ref - emax * pt.exp(log_f_ref), dims=dims)
            p["e0"] = e0[:, None]
        else:
            ref = pm.Normal("er_log_eref", priors.peak_log_emax_mean, priors.peak_log_emax_sd,
                            dims=dims)
            p["log_emax"] = pm.Deterministic("er_log_emax", ref - log_f_ref, dims=dims)[:, None]
            add("log_ratio", pm.Normal, 0.0, priors.episode_log_sd)
    if design.X.shape[1]:
        ctx.add_coord("term", [t.name for t in design.terms])
        add("gamma", pm.Normal, 0.0, priors.covariate_sd, dims=("imputation", "term"))
    episode = data.get("EPISODE", np.zeros(design.n))
    eta = linear_predictor(kind, model, p, logx, design.X, episode, design.log_ref, pt)
    shape = (m, design.n)
    if kind == "binary":
        pm.Bernoulli("er_y", logit_p=eta, observed=np.broadcast_to(data["Y"], shape),
                     dims=("imputation", "unit"))
    elif kind == "tte":
        k = add("shape", pm.LogNormal, 0.0, priors.shape_log_sd)[:, None]
        s = data["TIME"] / time_scale
        log_h = pt.log(k) + (k - 1.0) * np.log(s) + eta
        pm.Potential("er_loglik", pt.sum(data["EVENT"] * log_h - s**k * pt.exp(eta)))
    else:
        idx = design.subject_index if subject_index is None else subject_index
        # the total SD and the between-subject share: with about one quantified peak per
        # subject only their sum is sharply identified, a ridge NUTS crosses slowly in
        # (omega, sigma) but walks along in (tau, rho)
        tau = pm.HalfNormal("er_tau", priors.total_sd, dims=dims)
        rho = pm.Beta("er_rho", priors.share_ab, priors.share_ab, dims=dims)
        omega = pm.Deterministic("er_omega", tau * pt.sqrt(rho), dims=dims)
        sigma = pm.Deterministic("er_sigma", tau * pt.sqrt(1.0 - rho), dims=dims)
        # partially centred per subject (Papaspiliopoulos et al., Stat Sci 2007): weight
        # n_i / (n_i + 1) from the subject's quantified peaks, 0 = non-centred, 1 = centred
        n_q = np.bincount(idx, weights=1.0 - data["CENS"], minlength=int(idx.max()) + 1)
        w = pt.constant(n_q / (n_q + 1.0))[None, :]
        log_omega = pt.log(omega)[:, None]
        psi = pm.Normal("er_z", 0.0, pt.exp(w * log_omega), dims=("imputation", "subject"))
        mu = eta + (pt.exp((1.0 - w) * log_omega) * psi)[:, idx]
        cens = data["CENS"].astype(np.int64)
        # the M3 likelihood shared with poppk (erfc only: compiles for C, numba and JAX alike)
        pm.CustomDist("er_y", mu, sigma[:, None] + pt.zeros_like(mu), cens, data["Y"],
                      logp=lambda v, m, s, c, lo: censored_normal_logp(v, m, s, c, lo, pt),
                      observed=np.broadcast_to(data["Y"], shape), dims=("imputation", "unit"))
    return [v.name for v in ctx.free_RVs if v.name.startswith("er_")]


def posterior_params(posterior: Any) -> dict[str, np.ndarray]:
    """Pooled E-R draws by short name: ``(n_samples, 1)`` or ``(n_samples, n_terms)``.

    Chains, draws and imputations are pooled (the multiple-imputation
    posterior is the mixture of the imputations' posteriors).

    Parameters
    ----------
    posterior : xarray.Dataset
        The ``posterior`` group of an E-R fit.

    Returns
    -------
    dict of ndarray
    """
    out = {}
    for name, da in posterior.data_vars.items():
        if (not str(name).startswith("er_") or str(name).endswith("__")
                or name in ("er_z", "er_exposure") or "imputation" not in da.dims):
            continue
        extra = [d for d in da.dims if d not in ("chain", "draw", "imputation")]
        stacked = da.stack(sample=("chain", "draw", "imputation")).transpose("sample", *extra)
        v = np.asarray(stacked.values, dtype=float)
        out[_short(str(name))] = v[:, None] if v.ndim == 1 else v
    return out

