"""The frozen result of an exposure-response fit (:class:`ERFit`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from blinapk._html import posterior_repr
from blinapk.er.design import CovariateTerm, ERDesign, design_matrix
from blinapk.er.metrics import get_metric
from blinapk.er.models import ERPriors
from blinapk.er.outcomes import get_endpoint
from blinapk.mcmc import ConvergenceReport

__all__ = ["ERFit"]


@dataclass(frozen=True, eq=False)
class ERFit:
    """A fitted exposure-response model.

    Attributes
    ----------
    idata : arviz.InferenceData
        ``posterior`` (E-R variables ``er_*``; in the joint mode also the PK
        variables), ``sample_stats``; ``posterior.attrs`` carry the stamp
        (:mod:`blinapk.er.stamp`).
    endpoint, kind, model_name, metric, uncertainty : str
        What was fitted (``kind``: ``binary``, ``tte`` or ``peak``).
    n_imputations : int
        Copies of the E-R model (propagated mode; 1 otherwise).
    units : DataFrame
        Units analysed: keys, responses, ``EXPOSURE`` (plug-in, pg/mL),
        ``EXPOSURE_LOWER``, ``EXPOSURE_UPPER`` (90 % interval of the
        exposure used: PK posterior, imputations or joint posterior) and raw
        covariates.
    terms : tuple of CovariateTerm
        Covariate design columns.
    log_ref, log_sd : float
        Centre and SD of the plug-in log exposure.
    time_scale : float
        Time-to-event: mean follow-up (months), the model's time unit.
    landmark_months : float
        Time-to-event: landmark of the survival curves.
    excluded : DataFrame
        Units left out and why (exposure missingness included).
    regimens : DataFrame or None
        Predicted response at the label regimens (:mod:`blinapk.er.regimens`).
    priors : ERPriors
        Prior scales used.
    settings : Mapping
        Sampler settings, seed, covariates, exposure options, data hashes.
    exposure_source : str
        ``posterior``, ``given`` or ``observed`` (``joint`` for the joint model).
    convergence : ConvergenceReport or None
        Gate results.
    timings : dict
        Seconds spent (``prepare_s``, ``compile_s``, ``sample_s``, ``total_s``).
    model : pymc.Model or None
        The model, when fitted in this session (not saved).
    """

    idata: Any = field(repr=False)
    endpoint: str
    kind: str
    model_name: str
    metric: str
    uncertainty: str
    n_imputations: int
    units: pd.DataFrame = field(repr=False)
    terms: tuple[CovariateTerm, ...]
    log_ref: float
    log_sd: float
    time_scale: float
    landmark_months: float
    excluded: pd.DataFrame = field(repr=False)
    regimens: pd.DataFrame | None = field(repr=False)
    priors: ERPriors = field(repr=False)
    settings: Mapping[str, Any] = field(repr=False)
    exposure_source: str = "posterior"
    convergence: ConvergenceReport | None = field(default=None, repr=False)
    timings: dict = field(default_factory=dict, repr=False)
    model: Any = field(default=None, repr=False)

    @property
    def level(self) -> str:
        """``event`` for cytokine peaks, else ``subject``."""
        return "event" if self.kind == "peak" else "subject"

    @property
    def symbol(self) -> str:
        """Upper-case metric name used in parameter names (e.g. ``CSS``)."""
        return get_metric(self.metric, self.level).symbol

    @property
    def metric_label(self) -> str:
        """Plain-language name of the exposure metric."""
        return get_metric(self.metric, self.level).label

    @property
    def endpoint_label(self) -> str:
        """Plain-language name of the endpoint."""
        return get_endpoint(self.endpoint).label

    @property
    def X(self) -> np.ndarray:
        """Covariate design of the units analysed."""
        return design_matrix(self.units, self.terms)

    @property
    def converged(self) -> bool | None:
        """True when every convergence gate passed."""
        return None if self.convergence is None else self.convergence.passed

    def _repr_html_(self) -> str:
        return posterior_repr(f"ERFit: {self.endpoint_label} vs {self.metric_label}, "
                              f"{self.model_name} model, {self.uncertainty} exposure, "
                              f"{len(self.units)} units ({len(self.excluded)} excluded)",
                              self.summary(), self.converged,
                              "curve: .curve(); quartiles: .quartiles(); regimens: .regimens")

    def summary(self, ci: float = 0.9) -> pd.DataFrame:
        """Named parameters (:func:`blinapk.er.summary.summarize_er`)."""
        from blinapk.er.summary import summarize_er

        return summarize_er(self, ci=ci)

    def curve(self, ci: float = 0.9, n_points: int = 60) -> pd.DataFrame:
        """E-R curve with its credible band (:func:`blinapk.er.summary.er_curve`)."""
        from blinapk.er.summary import er_curve

        return er_curve(self, ci=ci, n_points=n_points)

    def quartiles(self, conf_level: float = 0.9) -> pd.DataFrame:
        """Observed responses by exposure quartile (:func:`~blinapk.er.observed_by_quartile`)."""
        from blinapk.er.summary import observed_by_quartile

        return observed_by_quartile(self, conf_level=conf_level)

    def save(self, path: str | Path) -> Path:
        """Write the stamped InferenceData to netCDF; reload with :func:`blinapk.er.load_er`."""
        from blinapk.poppk.stamp import write_netcdf

        return write_netcdf(self.idata, path)

    @classmethod
    def from_fit(cls, idata: Any, *, design: ERDesign, exposure: Any, endpoint: str,
                 model_name: str, uncertainty: str, n_imputations: int, priors: ERPriors,
                 time_scale: float, landmark_months: float,
                 convergence: ConvergenceReport | None, model: Any, settings: Mapping,
                 pk_fit: Any, dataset: Any, regimens: bool, timings: dict) -> ERFit:
        """Assemble the result of :func:`blinapk.er.fit_er` (internal)."""
        units = design.units.copy()
        if "er_exposure" in idata.posterior:
            x = idata.posterior["er_exposure"].stack(s=("chain", "draw", "imputation"))
            draws = np.asarray(x.transpose("unit", "s").values, dtype=float)
        elif n_imputations > 1:
            draws = design.imputed(n_imputations)
        else:
            draws = design.exposure_draws
        units["EXPOSURE_LOWER"] = np.quantile(draws, 0.05, axis=1)
        units["EXPOSURE_UPPER"] = np.quantile(draws, 0.95, axis=1)
        source = "joint" if uncertainty == "joint" else exposure.source
        expo_settings = {k: v for k, v in dict(exposure.settings).items()
                         if k in ("window", "cmax_hours", "structure", "nca")}
        fit = cls(idata=idata, endpoint=endpoint, kind=design.kind, model_name=model_name,
                  metric=exposure.metric, uncertainty=uncertainty,
                  n_imputations=n_imputations, units=units, terms=design.terms,
                  log_ref=design.log_ref, log_sd=design.log_sd, time_scale=time_scale,
                  landmark_months=landmark_months, excluded=design.excluded, regimens=None,
                  priors=priors, settings=dict(settings) | {"exposure": expo_settings},
                  exposure_source=source, convergence=convergence, timings=timings,
                  model=model)
        if not regimens:
            return fit
        from blinapk.er.regimens import predict_regimens, regimen_inputs

        inputs = regimen_inputs(idata, exposure, pk_fit, dataset, uncertainty)
        return replace(fit, regimens=predict_regimens(fit, *inputs))
