"""Exposure-response models in PyMC: cytokine peaks, remission, safety and survival vs exposure.

* Exposure (:mod:`blinapk.er.metrics`, :mod:`blinapk.er.exposure`): Css per
  dose level, average concentration over cycle 1, Cmax after the start and
  the step-up, per subject and per PK posterior draw
  (:func:`posterior_exposure`), from given parameters
  (:func:`exposure_from_params`) or the observed NCA Css
  (:func:`observed_exposure`).
* Outcomes (:func:`derive_outcomes`): CR/CRh*, MRD response, CRS and
  neurologic events (any grade, grade >= 3), RFS and OS, cytokine peaks.
* Models (:mod:`blinapk.er.models`): logistic or Emax-logistic for binary
  endpoints, Weibull for time to event, Emax / sigmoid Emax on the log
  cytokine peak with an episode effect, subject random effects and
  censoring below LLOQ; the Emax function is :mod:`blinapk.pk.emax`.
* Fitting (:func:`fit_er`): exposure uncertainty ``plugin``, ``propagated``
  (default: a latent exposure per unit with its PK posterior as prior,
  :mod:`blinapk.er.latent`) or ``joint`` (PK and E-R in one model);
  ``imputation`` (naive multiple imputation, attenuated) for comparison;
  convergence gates of :mod:`blinapk.mcmc`.
* Results (:class:`ERFit`): named parameters, E-R curves, observed
  responses by exposure quartile, predictions at the label regimens;
  saved and reloaded as stamped netCDF (:func:`load_er`).

See docs/er.md.
"""

from blinapk.er.design import CovariateTerm, ERDesign, make_design
from blinapk.er.exposure import (
    Exposure,
    exposure_from_params,
    observed_exposure,
    pk_draws,
    posterior_exposure,
)
from blinapk.er.fit import UNCERTAINTY, fit_er
from blinapk.er.given import given_er
from blinapk.er.metrics import EVENT_METRICS, METRICS, SUBJECT_METRICS, plan_exposure
from blinapk.er.models import DEFAULT_MODEL, MODELS, ERPriors
from blinapk.er.outcomes import ENDPOINTS, Outcomes, derive_outcomes, get_endpoint_kind
from blinapk.er.predict import predict_at
from blinapk.er.regimens import LABEL_REGIMENS
from blinapk.er.result import ERFit
from blinapk.er.stamp import load_er
from blinapk.er.summary import er_curve, interval_covers, observed_by_quartile, summarize_er

__all__ = [
    "DEFAULT_MODEL",
    "ENDPOINTS",
    "EVENT_METRICS",
    "LABEL_REGIMENS",
    "METRICS",
    "MODELS",
    "SUBJECT_METRICS",
    "UNCERTAINTY",
    "CovariateTerm",
    "ERDesign",
    "ERFit",
    "ERPriors",
    "Exposure",
    "Outcomes",
    "derive_outcomes",
    "er_curve",
    "exposure_from_params",
    "fit_er",
    "get_endpoint_kind",
    "given_er",
    "interval_covers",
    "load_er",
    "make_design",
    "observed_by_quartile",
    "observed_exposure",
    "pk_draws",
    "plan_exposure",
    "posterior_exposure",
    "predict_at",
    "summarize_er",
]
