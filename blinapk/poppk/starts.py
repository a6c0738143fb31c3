"""Per-chain starting points for nutpie: data-driven starts with a scaled jitter.

NUTS chains start at :func:`blinapk.poppk.init.initial_values` (the NCA
clearance, card or naive-pooled typical values, each subject's own clearance)
plus a random jitter, so that chains start apart and R-hat can detect chains
that did not mix. PyMC and nutpie jitter every unconstrained value by
U(-1, 1). For a log typical value that is a factor up to e = 2.7 from a start
that the data already pin down, and with partial centering a subject's own
parameters move with the typical value. This can start a subject in the wrong
basin of a bimodal likelihood. It happened in the N = 3000 robustness run
(seed 6, docs/validation.md): the typical-CL jitter +0.82 started subject 877
at CL 1.32 L/h (its data say 0.62). To fit a sample 0.73 h after an infusion
restart, the chain then dropped its V to 0.6 L (fast equilibration) instead of
about 8 L (slow decay during the 15-h pause). That mode has about 1e-8 of the
posterior mass, but the chain stayed in it for all 2000 iterations
(omega_V R-hat 1.14).

Here the jitter is scaled by the role of the variable, on the unconstrained
scale:

* typical values and covariate effects (``log_<P>``, ``beta_*``):
  U(-:data:`LOCATION_JITTER`, +) (a factor up to 1.22), still many posterior
  SDs apart for any trial of more than a few dozen subjects;
* variance components (log omegas, log sigmas, the LKJ Cholesky factor):
  U(-:data:`VARIANCE_JITTER`, +) (a factor up to 1.65);
* per-subject effects (variables with a ``subject`` dimension):
  U(-:data:`SUBJECT_JITTER`, +);
* anything else (e.g. the folded ``sigma_add`` in pg/mL) keeps U(-1, 1).

The measured effect is in docs/validation.md (N = 3000 robustness) and
docs/benchmarks-poppk.md (warm-up cost). Drawing the jitter and handing the
starts to nutpie is generic (:mod:`blinapk.mcmc.starts`); this module only
chooses the widths.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from blinapk.mcmc.starts import StartFn, jittered_start_fn

__all__ = ["LOCATION_JITTER", "SUBJECT_JITTER", "VARIANCE_JITTER", "jitter_scales",
           "make_start_fn"]

#: Jitter half-width (unconstrained scale) of typical values and covariate effects.
LOCATION_JITTER = 0.2
#: Jitter half-width of log variance components (omegas, sigmas, LKJ factor).
VARIANCE_JITTER = 0.5
#: Jitter half-width of per-subject effects (``phi``/``psi``/``z``).
SUBJECT_JITTER = 0.5


def _role(value_name: str, dims: tuple[str, ...]) -> str:
    if "subject" in dims:
        return "subject"
    if value_name.endswith("_log__") or "chol" in value_name:
        return "variance"
    if value_name.startswith(("log_", "beta_")):
        return "location"
    return "other"


def jitter_scales(model: Any, *, location: float = LOCATION_JITTER,
                  variance: float = VARIANCE_JITTER,
                  subject: float = SUBJECT_JITTER) -> dict[str, float]:
    """Jitter half-width of every value variable of ``model`` (see module docstring).

    Parameters
    ----------
    model : pymc.Model
        A model from :func:`blinapk.poppk.build.build_model` (or any PyMC model).
    location, variance, subject : float
        Half-widths by role (defaults :data:`LOCATION_JITTER`,
        :data:`VARIANCE_JITTER`, :data:`SUBJECT_JITTER`); other variables get 1.

    Returns
    -------
    dict
        Value-variable name (e.g. ``omega_CL_log__``) -> half-width.

    Examples
    --------
    >>> import pymc as pm
    >>> with pm.Model(coords={"subject": [1, 2]}) as m:
    ...     _ = pm.Normal("log_CL", 0, 1)
    ...     _ = pm.HalfNormal("omega_CL", 1)
    ...     _ = pm.Normal("psi_CL", 0, 1, dims="subject")
    >>> jitter_scales(m)
    {'log_CL': 0.2, 'omega_CL_log__': 0.5, 'psi_CL': 0.5}
    """
    by_role = {"location": location, "variance": variance, "subject": subject, "other": 1.0}
    out = {}
    for rv in model.free_RVs:
        value = model.rvs_to_values[rv]
        out[value.name] = by_role[_role(value.name,
                                        tuple(model.named_vars_to_dims.get(rv.name, ())))]
    return out


def make_start_fn(model: Any, initvals: Mapping[str, Any],
                  scales: Mapping[str, float] | None = None
                  ) -> tuple[StartFn, np.ndarray]:
    """Build ``seed -> flat unconstrained start`` with the role-scaled jitter.

    :func:`blinapk.mcmc.starts.jittered_start_fn` with :func:`jitter_scales`
    as the default half-widths; this is the chain-start hook
    :func:`blinapk.poppk.fit` gives the sampler.

    Parameters
    ----------
    model : pymc.Model
        The model the sampler is compiled from.
    initvals : mapping
        Starting values by variable name (constrained scale), as in
        ``BuildInfo.initvals``.
    scales : mapping, optional
        Jitter half-width by value-variable name (default :func:`jitter_scales`).

    Returns
    -------
    start_fn : callable
        ``start_fn(seed)``: the un-jittered start plus ``scale * U(-1, 1)``
        drawn from ``numpy.random.default_rng(seed)``.
    centre : ndarray
        The un-jittered flat start.
    """
    return jittered_start_fn(model, initvals, jitter_scales(model) if scales is None else scales)
