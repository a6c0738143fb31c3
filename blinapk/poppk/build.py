r"""Build the PyMC population-PK model (:func:`build_model`).

Model, for subject :math:`i`, observation :math:`j` and structural parameter
:math:`P` (CL, V, and Q, V2 for 2-cmt):

.. math::

    \log P_{ij} = \log TV_P + \sum_c f_c(x_{c,ij}) + \eta_{P,i},
    \qquad \eta_{P,i} \sim N(0, \omega_P^2)

with covariate terms :math:`f_c` (power :math:`\beta \log(x/ref)`,
exponential :math:`\beta (x - ref)`, linear :math:`\log(1 + \beta (x - ref))`
floored, categorical :math:`\beta_{level}`; see :mod:`blinapk.pk.covariates`),
:math:`\eta` absent for parameters without
BSV, a fixed coefficient (``CovariateSpec(fixed=...)``) entering as a constant, and
(``correlation=True``) :math:`\eta_i \sim MvN(0, \Omega)` with an LKJ
prior on the correlation. Predictions come from :func:`blinapk.pk.predict_conc`
(the same closed forms used for simulation) and enter the residual model of
:mod:`blinapk.poppk.likelihood`.

Time-varying covariates: the value in force at each observation (the last
value at or before it) sets that observation's parameters, and the
concentration is computed *as if that value had held over the whole dose
history* (``per_observation=True`` of :func:`blinapk.pk.predict_conc`). This
is exact for covariates constant within a subject and a good approximation
when a covariate changes slowly relative to the drug's half-life (about 2 h
for blinatumomab: after a change, the approximation error decays within a
few hours). The random effects are defined at each subject's *baseline*
(first) covariate values.

Variable names (the posterior's vocabulary): ``log_<P>`` (log typical
value), ``omega_<P>``, ``beta_<P>_<COV>``, ``sigma_prop`` / ``sigma_add`` (a
deterministic ``|sigma_add_folded|`` in the combined model, :func:`folds_sigma_add`),
``phi_<P>`` (centered), ``z_<P>`` (non-centered) or ``psi_<P>`` (partially
centered, the ``auto`` default; see :mod:`blinapk.poppk.parameterisation`)
per subject (``phi`` /
``z`` with dims ``(subject, eta_param)`` and ``chol_eta``, ``corr_eta`` with
correlation); deterministics ``typical`` (param), ``indiv`` (subject, param;
at baseline covariates) and ``eta`` (subject, eta_param); the observed
variable ``obs``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from blinapk.cards import ModelCard, load_card
from blinapk.data import Dataset
from blinapk.errors import ModelSpecError
from blinapk.pk import predict_conc
from blinapk.pk.covariates import design, log_effect
from blinapk.poppk.design import (
    PopPKData,
    covariate_spread,
    prepare_data,
    resolve_references,
)
from blinapk.poppk.init import InitialValues, initial_values
from blinapk.poppk.likelihood import add_observations, uses_sigma_add, uses_sigma_prop
from blinapk.poppk.parameterisation import ParamChoice, choose_parameterisation
from blinapk.poppk.priors import PriorConfig, resolve_priors
from blinapk.poppk.spec import CovariateSpec, PopPKSpec

__all__ = ["BuildInfo", "build_model", "model_info", "sample_prior_predictive"]


@dataclass(frozen=True, eq=False)
class BuildInfo:
    """What :func:`build_model` decided, attached to the model as ``model.blinapk_info``.

    Attributes
    ----------
    spec : PopPKSpec
        The spec with every covariate reference resolved.
    priors : PriorConfig
        The complete priors used.
    card_name : str
        Name of the model card ("" when none).
    data : PopPKData
        Prepared arrays and the row ledger.
    parameterisation : Mapping[str, ParamChoice]
        Centered / non-centered choice of each BSV parameter, with its evidence.
    init : InitialValues
        Starting values.
    initvals : Mapping[str, Any]
        Starting values by model variable name (constrained space).
    levels : Mapping[str, tuple]
        Non-reference levels of each categorical effect.
    """

    spec: PopPKSpec
    priors: PriorConfig
    card_name: str
    data: PopPKData = field(repr=False)
    parameterisation: Mapping[str, ParamChoice]
    init: InitialValues = field(repr=False)
    initvals: Mapping[str, Any] = field(repr=False)
    levels: Mapping[str, tuple]

    @property
    def chosen(self) -> dict[str, str]:
        """Parameter -> ``centered`` / ``noncentered``."""
        return {p: c.chosen for p, c in self.parameterisation.items()}


def model_info(model: Any) -> BuildInfo:
    """Return the :class:`BuildInfo` of a model made by :func:`build_model`."""
    info = getattr(model, "blinapk_info", None)
    if not isinstance(info, BuildInfo):
        raise ModelSpecError("model: not built by blinapk.poppk.build_model")
    return info


def _resolve_card(card: str | ModelCard | None) -> ModelCard | None:
    if card is None or isinstance(card, ModelCard):
        return card
    return load_card(card)


def _effect(c: CovariateSpec, beta: Any, x: np.ndarray, levels: tuple, xp: Any) -> Any:
    """Log-scale contribution of one covariate effect at covariate values ``x``."""
    d = design(c.form, x, c.reference, levels)  # type: ignore[arg-type]
    return log_effect(c.form, beta, d, xp)


def _levels(data: PopPKData, spec: PopPKSpec) -> dict[str, tuple]:
    out = {}
    for c in spec.covariates:
        if c.form == "categorical":
            seen = np.concatenate([data.cov_subject[c.covariate], data.cov_obs[c.covariate]])
            lv = sorted(set(np.asarray(seen, dtype=object).astype(str).tolist()))
            out[c.name] = tuple(level for level in lv if level != str(c.reference))
            if not out[c.name]:
                raise ModelSpecError(
                    f"covariates[{c.param}~{c.covariate}]: every subject is at the reference "
                    f"level {c.reference!r}; the effect is not estimable"
                )
    return out


#: Free variable that carries ``sigma_add`` when it is folded (see :func:`folds_sigma_add`).
SIGMA_ADD_FOLDED = "sigma_add_folded"


def folds_sigma_add(spec: PopPKSpec, priors: PriorConfig) -> bool:
    r"""Whether ``sigma_add`` is sampled as :math:`|x|`, :math:`x \sim N(0, s)` (folded).

    A ``HalfNormal(s)`` prior is the law of :math:`|x|` for :math:`x \sim N(0, s)`,
    and the combined error depends on ``sigma_add`` only through its square,
    so sampling :math:`x` on the real line and using :math:`|x|` is the same
    model. It is used for the **combined** residual model, where the additive
    part is informed only by concentrations near the LLOQ and its posterior
    keeps density at 0: on the usual log scale that is a long left tail
    (on the N = 200 robustness datasets the 1 % quantile was 0.0-0.2 pg/mL
    for a median of 8), which is where the two seeds that missed R-hat <= 1.01
    lost their mixing. On the folded scale the same posterior is two mirror
    images joined through 0, which NUTS crosses freely. Not used for the
    additive model (``sigma_add`` well identified, far from 0) or with other
    prior families (e.g. a card's LogNormal, whose density vanishes at 0).

    Parameters
    ----------
    spec : PopPKSpec
        Model spec.
    priors : PriorConfig
        Resolved priors.

    Returns
    -------
    bool
        True when the combined model has a HalfNormal ``sigma_add`` prior.
    """
    return spec.residual == "combined" and priors["sigma_add"].dist == "HalfNormal"


def gated_variables(model: Any) -> list[str]:
    """Free variables whose convergence is gated, with ``sigma_add`` in place of its fold.

    The folded variable is bimodal by construction (:func:`folds_sigma_add`);
    its absolute value ``sigma_add`` is the parameter, so that is what R-hat
    and ESS are computed on.

    Parameters
    ----------
    model : pymc.Model
        A model from :func:`build_model`.

    Returns
    -------
    list of str
        Variable names in the posterior.
    """
    return ["sigma_add" if rv.name == SIGMA_ADD_FOLDED else rv.name for rv in model.free_RVs]


def _initvals(info_init: InitialValues, data: PopPKData, spec: PopPKSpec,
              choices: Mapping[str, ParamChoice], levels: Mapping[str, tuple],
              folded: bool = False) -> dict[str, Any]:
    """Return the starting values by variable name (numpy)."""
    iv: dict[str, Any] = {f"log_{p}": np.log(info_init.typical[p]) for p in spec.params}
    mu = {p: np.full(data.n_subjects, np.log(info_init.typical[p])) for p in spec.params}
    for c in spec.covariates:
        if c.form == "categorical":
            iv[f"beta_{c.name}"] = np.zeros(len(levels[c.name]))
            continue
        b = info_init.beta[c.name]
        if not c.is_fixed:
            iv[f"beta_{c.name}"] = b
        mu[c.param] = mu[c.param] + _effect(c, b, data.cov_subject[c.covariate], (), np)
    if uses_sigma_prop(spec.residual):
        iv["sigma_prop"] = info_init.sigma_prop
    if uses_sigma_add(spec.residual):
        iv[SIGMA_ADD_FOLDED if folded else "sigma_add"] = info_init.sigma_add
    # each subject at its conditional mode (blinapk.poppk.init.subject_starts; CL at
    # the subject's NCA estimate where there is one)
    start_phi = {p: mu[p] + info_init.subject_eta[p] for p in spec.bsv}
    if spec.correlation:
        # explicit start of the packed Cholesky factor (diagonal: the omegas, no
        # correlation); nutpie's default start draws from sd_dist and fails on frozen data
        k = len(spec.bsv)
        packed = np.zeros(k * (k + 1) // 2)
        packed[[i * (i + 1) // 2 + i for i in range(k)]] = [info_init.omega[p] for p in spec.bsv]
        iv["chol_eta"] = packed
        block = choices[spec.bsv[0]].chosen if spec.bsv else "noncentered"
        if block == "centered":
            iv["phi"] = np.stack([start_phi[p] for p in spec.bsv], axis=1)
        else:
            # diagonal start of the Cholesky factor: z = eta / omega
            iv["z"] = np.stack([(start_phi[p] - mu[p]) / info_init.omega[p]
                                for p in spec.bsv], axis=1)
    else:
        for p in spec.bsv:
            iv[f"omega_{p}"] = info_init.omega[p]
            if choices[p].chosen == "centered":
                iv[f"phi_{p}"] = start_phi[p]
            elif choices[p].chosen == "partial":
                w = choices[p].weights
                # psi such that mu + omega**(1 - w) * (psi - w * mu) == start_phi
                iv[f"psi_{p}"] = w * mu[p] + (start_phi[p] - mu[p]) / (
                    info_init.omega[p] ** (1.0 - w))
            else:
                iv[f"z_{p}"] = (start_phi[p] - mu[p]) / info_init.omega[p]
    return iv


def _omega_block(priors: PriorConfig, bsv: tuple[str, ...]) -> Any:
    """Shared-family vector distribution of the omegas for LKJCholeskyCov."""
    import pymc as pm

    fams = {priors[f"omega_{p}"].dist for p in bsv}
    if len(fams) != 1:
        raise ModelSpecError(
            f"omega_{bsv[0]}: with correlation=True every omega prior must use one family "
            f"(got {sorted(fams)})"
        )
    fam = fams.pop()
    names = [n for n, _ in priors[f"omega_{bsv[0]}"].params]
    kwargs = {n: np.array([priors[f"omega_{p}"].kwargs[n] for p in bsv]) for n in names}
    return getattr(pm, fam).dist(**kwargs, shape=len(bsv))


def _assemble(data: PopPKData, spec: PopPKSpec, priors: PriorConfig,
              choices: Mapping[str, ParamChoice], levels: Mapping[str, tuple]) -> Any:
    import pymc as pm
    import pytensor.tensor as pt

    n_sub = data.n_subjects
    coords: dict[str, Any] = {"subject": list(data.subjects), "obs": data.obs_row.tolist(),
                              "param": list(spec.params)}
    if spec.bsv:
        coords["eta_param"] = list(spec.bsv)
    for c in spec.covariates:
        if c.form == "categorical":
            coords[f"level_{c.name}"] = list(levels[c.name])
    if spec.correlation:
        coords["eta_param_bis"] = list(spec.bsv)

    with pm.Model(coords=coords) as model:
        pm.Data("time", data.time, dims="obs")
        pm.Data("subject_index", data.subject_index, dims="obs")
        pm.Data("lloq", data.lloq, dims="obs")
        pm.Data("cens", data.cens.astype(np.int64), dims="obs")
        pm.Data("rate", data.rate, dims="obs")

        log_tv = {p: priors[f"log_{p}"].create(f"log_{p}") for p in spec.params}
        mu = {p: log_tv[p] + pt.zeros(n_sub) for p in spec.params}
        tv_shift: dict[str, Any] = {}
        for c in spec.covariates:
            dims = f"level_{c.name}" if c.form == "categorical" else None
            if c.is_fixed:
                # a FIX-ed coefficient: a constant, kept in the posterior for the summaries
                beta = pm.Deterministic(f"beta_{c.name}", pt.constant(float(c.fixed)))
            else:
                beta = priors[f"beta_{c.name}"].create(f"beta_{c.name}", dims=dims)
            lv = levels.get(c.name, ())
            base = _effect(c, beta, data.cov_subject[c.covariate], lv, pt)
            mu[c.param] = mu[c.param] + base
            if c.covariate in data.time_varying:
                now = _effect(c, beta, data.cov_obs[c.covariate], lv, pt)
                shift = now - base[data.subject_index]
                tv_shift[c.param] = tv_shift.get(c.param, 0.0) + shift

        log_ind = dict(mu)
        etas = {}
        if spec.correlation:
            k = len(spec.bsv)
            # compute_corr=False: PyMC's own chol_eta_corr / chol_eta_stds deterministics,
            # wrapped again here, lose their names when nutpie freezes the model for JAX
            # (two columns called chol_eta_corr); corr and stds are derived here instead.
            packed = pm.LKJCholeskyCov(
                "chol_eta", n=k, eta=priors["lkj_eta"].kwargs["eta"],
                sd_dist=_omega_block(priors, spec.bsv), compute_corr=False)
            chol = pm.expand_packed_triangular(k, packed, lower=True)
            stds = pt.sqrt(pt.sum(chol**2, axis=1))
            corr = pt.dot(chol, chol.T) / pt.outer(stds, stds)
            for j, p in enumerate(spec.bsv):
                pm.Deterministic(f"omega_{p}", stds[j])
            pm.Deterministic("corr_eta", corr, dims=("eta_param", "eta_param_bis"))
            mu_block = pt.stack([mu[p] for p in spec.bsv], axis=1)
            if choices[spec.bsv[0]].chosen == "centered":
                phi = pm.MvNormal("phi", mu=mu_block, chol=chol, dims=("subject", "eta_param"))
                eta_block = phi - mu_block
            else:
                z = pm.Normal("z", 0.0, 1.0, dims=("subject", "eta_param"))
                eta_block = pt.dot(z, chol.T)
            for j, p in enumerate(spec.bsv):
                etas[p] = eta_block[:, j]
                log_ind[p] = mu[p] + etas[p]
        else:
            for p in spec.bsv:
                omega = priors[f"omega_{p}"].create(f"omega_{p}")
                if choices[p].chosen == "centered":
                    phi = pm.Normal(f"phi_{p}", mu=mu[p], sigma=omega, dims="subject")
                    etas[p] = phi - mu[p]
                    log_ind[p] = phi
                elif choices[p].chosen == "partial":
                    # partially centered, weight w per subject (1 = centered, 0 = not)
                    w = pt.constant(choices[p].weights)
                    log_omega = pt.log(omega)
                    psi = pm.Normal(f"psi_{p}", mu=w * mu[p], sigma=pt.exp(w * log_omega),
                                    dims="subject")
                    etas[p] = pt.exp((1.0 - w) * log_omega) * (psi - w * mu[p])
                    log_ind[p] = mu[p] + etas[p]
                else:
                    z = pm.Normal(f"z_{p}", 0.0, 1.0, dims="subject")
                    etas[p] = omega * z
                    log_ind[p] = mu[p] + etas[p]

        pm.Deterministic("typical", pt.stack([pt.exp(log_tv[p]) for p in spec.params]),
                         dims="param")
        pm.Deterministic("indiv", pt.stack([pt.exp(log_ind[p]) for p in spec.params], axis=1),
                         dims=("subject", "param"))
        if spec.bsv:
            pm.Deterministic("eta", pt.stack([etas[p] for p in spec.bsv], axis=1),
                             dims=("subject", "eta_param"))

        if tv_shift:
            params = {p: pt.exp(log_ind[p][data.subject_index] + tv_shift.get(p, 0.0))
                      for p in spec.params}
            pred = predict_conc(data.time, np.arange(data.n_obs), data.doses_per_observation(),
                                params, model=spec.structure, xp=pt, method="dense",
                                per_observation=True)
        else:
            params = {p: pt.exp(log_ind[p]) for p in spec.params}
            # the exact segment recursion: one step per rate change instead of every
            # observation x every dose; 1.8-3.3x cheaper gradients (docs/benchmarks-poppk.md)
            pred = predict_conc(data.time, data.subject_index, data.doses, params,
                                model=spec.structure, xp=pt, method="segments")
        sigma_prop = sigma_add = None
        if uses_sigma_prop(spec.residual):
            sigma_prop = priors["sigma_prop"].create("sigma_prop")
        if uses_sigma_add(spec.residual) and folds_sigma_add(spec, priors):
            scale = dict(priors["sigma_add"].kwargs)["sigma"]
            folded = pm.Normal(SIGMA_ADD_FOLDED, 0.0, scale)
            sigma_add = pm.Deterministic("sigma_add", pt.abs(folded))
        elif uses_sigma_add(spec.residual):
            sigma_add = priors["sigma_add"].create("sigma_add")
        add_observations(pred, data, spec.residual, sigma_prop, sigma_add)
    return model


def build_model(dataset: Dataset, spec: PopPKSpec | None = None, *,
                priors: PriorConfig | Mapping[str, Any] | None = None,
                card: str | ModelCard | None = None) -> Any:
    """Build the Bayesian population-PK model of ``dataset``.

    Parameters
    ----------
    dataset : Dataset
        From :func:`blinapk.data.read_dataset` (never modified).
    spec : PopPKSpec, optional
        Model specification. Default: the card's structure, covariates and
        BSV when ``card`` is given, else ``PopPKSpec()`` (1-cmt, no
        covariates, BSV on CL and V, proportional error, M3).
    priors : PriorConfig or mapping, optional
        Prior overrides (keys of :mod:`blinapk.poppk.priors`); the rest are
        the defaults or, with ``card``, centred on the card.
    card : str or ModelCard, optional
        Literature model card for informative priors and starting values.

    Returns
    -------
    pymc.Model
        With coords ``subject``, ``obs`` (dataset ROW numbers), ``param`` and
        ``eta_param``; ``model.blinapk_info`` holds the :class:`BuildInfo`
        (resolved spec, priors, chosen parameterisation, row ledger).

    Raises
    ------
    ModelSpecError
        Invalid spec or priors, or no usable observation.
    DataValidationError
        Covariates missing or invalid.

    Examples
    --------
    >>> from blinapk.datasets import load_example
    >>> model = build_model(load_example())
    >>> model_info(model).chosen
    {'CL': 'partial', 'V': 'partial'}
    """
    card_obj = _resolve_card(card)
    if spec is None:
        spec = PopPKSpec.from_card(card_obj) if card_obj is not None else PopPKSpec()
    elif not isinstance(spec, PopPKSpec):
        spec = PopPKSpec.from_dict(spec)
    data = prepare_data(dataset, spec)
    refs = resolve_references(data, spec)
    spec = spec.with_references(refs)
    cfg = resolve_priors(spec, priors, card_obj, covariate_spread(data, spec, refs))
    init = initial_values(data, spec, cfg, card_obj)
    choices = choose_parameterisation(
        data, spec, init.typical, init.omega,
        init.sigma_prop or 0.3, init.sigma_add or 10.0)
    levels = _levels(data, spec)
    iv = _initvals(init, data, spec, choices, levels, folds_sigma_add(spec, cfg))
    model = _assemble(data, spec, cfg, choices, levels)
    model.blinapk_info = BuildInfo(spec, cfg, card_obj.name if card_obj else "", data, choices,
                                   init, iv, levels)
    return model


def sample_prior_predictive(dataset: Dataset, spec: PopPKSpec | None = None, *,
                            priors: PriorConfig | Mapping[str, Any] | None = None,
                            card: str | ModelCard | None = None, draws: int = 500,
                            seed: int | None = None) -> Any:
    """Draw from the prior and the prior predictive of the model.

    Parameters
    ----------
    dataset, spec, priors, card
        As :func:`build_model`.
    draws : int, default 500
        Number of draws.
    seed : int, optional
        Random seed (same seed, same draws).

    Returns
    -------
    arviz.InferenceData
        Groups ``prior``, ``prior_predictive``, ``observed_data``,
        ``constant_data``.
    """
    import pymc as pm

    model = build_model(dataset, spec, priors=priors, card=card)
    with model:
        return pm.sample_prior_predictive(draws=draws, random_seed=seed)
