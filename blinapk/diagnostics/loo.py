r"""PSIS leave-one-out cross-validation of a fit, and comparison of fits on the same data.

:func:`compute_loo` estimates the expected log predictive density of a new
observation (:math:`\mathrm{elpd}_{loo}`) by Pareto-smoothed importance
sampling of the pointwise log-likelihood the fit stores (Vehtari, Gelman &
Gabry 2017), and reports the Pareto shape :math:`\hat k` of every
observation. Observations with :math:`\hat k > 0.7` have unreliable
importance weights: they are counted in :meth:`LOOResult.k_table`, listed in
:attr:`LOOResult.pointwise`, and a :class:`~blinapk.errors.DiagnosticWarning`
names them. In a hierarchical model a high :math:`\hat k` usually marks an
observation that alone determines its subject's random effects (a subject
with one or two samples) or an outlier.

The log-likelihood is put on the scale of the observations before
anything else: the proportional error model's likelihood is written for
:math:`\log DV`, so :math:`-\log DV` (the Jacobian) is added to its
quantified rows; censored rows are probabilities and need nothing. ELPDs of
different residual models are then comparable (:func:`compare_fits`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from blinapk.errors import BlinapkError, DiagnosticWarning

__all__ = ["K_THRESHOLD", "LOOResult", "compare_fits", "compute_loo"]

#: Pareto k above which PSIS-LOO is unreliable for an observation.
K_THRESHOLD = 0.7
#: Pareto-k categories of :meth:`LOOResult.k_table` (upper bounds inclusive).
K_RANGES = (("(-inf, 0.5]", "good", 0.5), ("(0.5, 0.7]", "ok", 0.7),
            ("(0.7, 1]", "bad", 1.0), ("(1, inf)", "very bad", np.inf))


@dataclass(frozen=True, eq=False)
class LOOResult:
    r"""PSIS-LOO of a fit (:func:`compute_loo`).

    Attributes
    ----------
    elpd : float
        :math:`\mathrm{elpd}_{loo}` (log density of the observations, pg/mL scale).
    se : float
        Its standard error.
    p_loo : float
        Effective number of parameters.
    pointwise : DataFrame
        ``ROW, ID, TIME, CENS, ELPD, PARETO_K`` per observation.
    n_draws : int
        Posterior draws used.
    elpd_data : arviz.ELPDData
        ArviZ's result (for :func:`arviz.compare`).
    """

    elpd: float
    se: float
    p_loo: float
    pointwise: pd.DataFrame = field(repr=False)
    n_draws: int
    elpd_data: Any = field(repr=False)

    @property
    def looic(self) -> float:
        r"""LOO information criterion, :math:`-2\,\mathrm{elpd}_{loo}`."""
        return -2.0 * self.elpd

    @property
    def n_high_k(self) -> int:
        """Observations with Pareto k above :data:`K_THRESHOLD`."""
        return int(np.sum(self.pointwise["PARETO_K"].to_numpy(float) > K_THRESHOLD))

    def k_table(self) -> pd.DataFrame:
        """Count the observations by Pareto k range.

        Returns
        -------
        DataFrame
            ``K_RANGE, LABEL, COUNT, PERCENT``.
        """
        k = self.pointwise["PARETO_K"].to_numpy(float)
        lower = -np.inf
        rows = []
        for rng, label, upper in K_RANGES:
            n = int(np.sum((k > lower) & (k <= upper)))
            rows.append((rng, label, n, 100.0 * n / max(k.size, 1)))
            lower = upper
        return pd.DataFrame(rows, columns=["K_RANGE", "LABEL", "COUNT", "PERCENT"])

    def summary(self) -> pd.DataFrame:
        """Return the estimates as a table.

        Returns
        -------
        DataFrame
            ``QUANTITY, ESTIMATE, SE`` for ``elpd_loo``, ``p_loo``, ``looic``,
            ``n_obs``, ``n_draws`` and ``n_pareto_k_above_0.7``.
        """
        n = len(self.pointwise)
        return pd.DataFrame([
            ("elpd_loo", self.elpd, self.se), ("p_loo", self.p_loo, np.nan),
            ("looic", self.looic, 2.0 * self.se), ("n_obs", float(n), np.nan),
            ("n_draws", float(self.n_draws), np.nan),
            (f"n_pareto_k_above_{K_THRESHOLD:g}", float(self.n_high_k), np.nan)],
            columns=["QUANTITY", "ESTIMATE", "SE"])


def natural_scale_loglik(fit: Any) -> Any:
    """Pointwise log-likelihood of the fit on the scale of DV (xarray, chain x draw x obs).

    Raises
    ------
    BlinapkError
        The fit has no ``log_likelihood`` group (fitted with
        ``log_likelihood=False``).
    """
    idata = fit.idata
    if "log_likelihood" not in idata.groups():
        raise BlinapkError("LOO: the fit has no log_likelihood group; refit with "
                           "log_likelihood=True (the default)")
    ll = idata.log_likelihood["conc"]
    if fit.spec.residual == "proportional":
        log_dv = idata.observed_data["conc"]
        cens = idata.constant_data["cens"].values > 0
        ll = ll - log_dv.where(~cens, 0.0)
    return ll


def compute_loo(fit: Any, *, warn: bool = True) -> LOOResult:
    """PSIS-LOO with the Pareto-k diagnostic.

    Parameters
    ----------
    fit : PopPKFit
        A fit with posterior draws (NUTS or Laplace) and a log-likelihood group.
    warn : bool, default True
        Warn when some Pareto k exceeds :data:`K_THRESHOLD`.

    Returns
    -------
    LOOResult

    Raises
    ------
    BlinapkError
        A MAP fit (one draw) or no log-likelihood.

    Warns
    -----
    DiagnosticWarning
        Observations with Pareto k > 0.7.
    """
    import arviz as az
    import xarray as xr

    post = fit.idata.posterior
    n_draws = int(post.sizes["chain"] * post.sizes["draw"])
    if n_draws < 2:
        raise BlinapkError("LOO needs posterior draws; a MAP fit has one (use NUTS or Laplace)")
    ll = natural_scale_loglik(fit)
    data = az.InferenceData(posterior=post[[]].assign(_=xr.zeros_like(ll.isel(obs=0))),
                            log_likelihood=xr.Dataset({"conc": ll}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the k values are reported below, in our words
        res = az.loo(data, pointwise=True)
    # an observation the model predicts with certainty (a BLQ sample long after the
    # infusion stopped: log P(Y < LLOQ) ~ 0 in every draw) has (nearly) uniform weights;
    # PSIS returns k = inf for it, which is an artefact, not a warning
    flat = ll.stack(__sample__=("chain", "draw")).transpose("obs", "__sample__").values
    constant = np.ptp(flat, axis=1) < 1e-3
    if constant.any():
        res.pareto_k.values[constant] = 0.0
        res["warning"] = bool(np.any(res.pareto_k.values > K_THRESHOLD))
    const = fit.idata.constant_data
    subj = const["subject_index"].values.astype(int)
    ids = post["subject"].values[subj]
    pointwise = pd.DataFrame({"ROW": ll["obs"].values, "ID": ids,
                              "TIME": const["time"].values,
                              "CENS": const["cens"].values.astype(int),
                              "ELPD": np.asarray(res.loo_i), "PARETO_K": np.asarray(res.pareto_k)})
    out = LOOResult(elpd=float(res.elpd_loo), se=float(res.se), p_loo=float(res.p_loo),
                    pointwise=pointwise, n_draws=n_draws, elpd_data=res)
    if warn and out.n_high_k:
        worst = pointwise.nlargest(min(5, out.n_high_k), "PARETO_K")
        listed = ", ".join(f"ROW {r.ROW} (ID {r.ID}, k={r.PARETO_K:.2f})"
                           for r in worst.itertuples(index=False))
        warnings.warn(
            f"PSIS-LOO: {out.n_high_k} of {len(pointwise)} observations have Pareto k > "
            f"{K_THRESHOLD:g} ({listed}{', ...' if out.n_high_k > 5 else ''}); their LOO "
            "estimates are unreliable, so elpd_loo and model comparisons are too optimistic. "
            "Such observations alone pin their subject's random effects or are outliers: "
            "inspect them (predictions table, individual fits) and prefer K-fold "
            "cross-validation by subject for the comparison.",
            DiagnosticWarning, stacklevel=2)
    return out


def _label(fit: Any) -> str:
    covs = ", ".join(f"{c.param}~{c.covariate}" for c in fit.spec.covariates)
    return f"{fit.spec.structure}" + (f" + {covs}" if covs else "") + f", {fit.spec.residual}"


def compare_fits(fits: Mapping[str, Any]) -> pd.DataFrame:
    """Rank fits of different specs on the same data by PSIS-LOO.

    Parameters
    ----------
    fits : mapping
        Name -> PopPKFit (e.g. ``{"1cmt": fit1, "2cmt": fit2}``), all fitted
        to the same dataset with the same observations (same BLQ method and
        analyte).

    Returns
    -------
    DataFrame
        ``MODEL, SPEC, RANK, ELPD_LOO, SE, P_LOO, ELPD_DIFF, DSE, WEIGHT,
        N_HIGH_K`` (best first; ``ELPD_DIFF`` and its SE ``DSE`` against the
        best, a difference of several ``DSE`` is a real preference;
        ``WEIGHT``: stacking weights).

    Raises
    ------
    BlinapkError
        Fewer than two fits, different datasets or different observations.
    """
    import arviz as az

    if len(fits) < 2:
        raise BlinapkError("compare_fits: give at least two fits")
    items = list(fits.items())
    ref_name, ref = items[0]
    ref_obs = ref.idata.observed_data["obs"].values
    for name, f in items[1:]:
        if f.data_hash != ref.data_hash:
            raise BlinapkError(f"compare_fits: {name!r} was fitted to another dataset than "
                               f"{ref_name!r}; LOO compares models on the same data only")
        if not np.array_equal(f.idata.observed_data["obs"].values, ref_obs):
            raise BlinapkError(f"compare_fits: {name!r} uses other observations than "
                               f"{ref_name!r} (BLQ method or analyte differ)")
    loos = {name: compute_loo(f, warn=False) for name, f in items}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = az.compare({n: r.elpd_data for n, r in loos.items()}, ic="loo")
    out = pd.DataFrame({
        "MODEL": table.index, "SPEC": [_label(fits[n]) for n in table.index],
        "RANK": table["rank"].to_numpy(int), "ELPD_LOO": table["elpd_loo"].to_numpy(float),
        "SE": table["se"].to_numpy(float), "P_LOO": table["p_loo"].to_numpy(float),
        "ELPD_DIFF": table["elpd_diff"].to_numpy(float), "DSE": table["dse"].to_numpy(float),
        "WEIGHT": table["weight"].to_numpy(float),
        "N_HIGH_K": [loos[n].n_high_k for n in table.index]})
    return out.reset_index(drop=True)
