"""Bayesian population pharmacokinetics in PyMC.

Declarative model specs (:class:`PopPKSpec`), serialisable priors
(:class:`PriorConfig`), the model builder (:func:`build_model`), fitting by
NUTS, MAP or Laplace (:func:`fit` -> :class:`PopPKFit`), netCDF save/reload
with provenance checks (:func:`load_fit`) and natural-scale summaries. The
sampler vocabulary (:data:`SAMPLERS`, :data:`DEFAULT_SAMPLER`) and the
convergence gates come from :mod:`blinapk.mcmc`. See docs/poppk.md.
"""

from blinapk.mcmc import DEFAULT_SAMPLER, SAMPLERS
from blinapk.poppk.build import BuildInfo, build_model, model_info, sample_prior_predictive
from blinapk.poppk.design import PopPKData, prepare_data
from blinapk.poppk.fit import METHODS, fit
from blinapk.poppk.io import load_fit, save_fit
from blinapk.poppk.parameterisation import ParamChoice, choose_parameterisation
from blinapk.poppk.priors import Prior, PriorConfig, card_priors, default_priors, resolve_priors
from blinapk.poppk.result import PopPKFit
from blinapk.poppk.spec import CovariateSpec, PopPKSpec, parse_covariate, spec_from_cli
from blinapk.poppk.summary import (
    eta_shrinkage,
    summarize_css,
    summarize_individuals,
    summarize_population,
)

__all__ = [
    "DEFAULT_SAMPLER",
    "METHODS",
    "SAMPLERS",
    "BuildInfo",
    "CovariateSpec",
    "ParamChoice",
    "PopPKData",
    "PopPKFit",
    "PopPKSpec",
    "Prior",
    "PriorConfig",
    "build_model",
    "card_priors",
    "choose_parameterisation",
    "default_priors",
    "eta_shrinkage",
    "fit",
    "load_fit",
    "model_info",
    "parse_covariate",
    "prepare_data",
    "resolve_priors",
    "sample_prior_predictive",
    "save_fit",
    "spec_from_cli",
    "summarize_css",
    "summarize_individuals",
    "summarize_population",
]
