"""The frozen result of a population-PK fit (:class:`PopPKFit`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from blinapk._html import posterior_repr
from blinapk.data import RowLedger
from blinapk.mcmc import ConvergenceReport
from blinapk.poppk.priors import PriorConfig
from blinapk.poppk.spec import PopPKSpec
from blinapk.poppk.stamp import write_netcdf

__all__ = ["PopPKFit"]


@dataclass(frozen=True, eq=False)
class PopPKFit:
    """A fitted population-PK model.

    Attributes
    ----------
    idata : arviz.InferenceData
        ``posterior``, ``sample_stats`` (NUTS), ``log_likelihood``,
        ``posterior_predictive`` (on request), ``observed_data`` and
        ``constant_data``; ``posterior.attrs`` carry the stamp (blinapk
        version, spec, priors, card, data hash, sampler, method, seed,
        parameterisation).
    spec : PopPKSpec
        The spec with resolved covariate references.
    priors : PriorConfig
        The complete priors used.
    card_name : str
        Model card used ("" for none).
    method : str
        ``nuts``, ``map`` or ``laplace``.
    sampler : str
        ``nutpie``, ``pymc``, ``numpyro``, ``blackjax`` (NUTS) or ``scipy``.
    seed : int
        Random seed used.
    parameterisation : Mapping[str, str]
        ``centered`` / ``noncentered`` per BSV parameter.
    data_hash : str
        Hash of the dataset fitted.
    ledger : RowLedger or None
        Row ledger (None after :func:`load_fit` without a dataset).
    timings : Mapping[str, float]
        Seconds spent building, compiling, sampling/optimising, post-processing.
    convergence : ConvergenceReport or None
        Gate results (NUTS only).
    model : pymc.Model or None
        The model, when fitted in this session (not saved).
    """

    idata: Any = field(repr=False)
    spec: PopPKSpec
    priors: PriorConfig = field(repr=False)
    card_name: str
    method: str
    sampler: str
    seed: int
    parameterisation: Mapping[str, str]
    data_hash: str = field(repr=False)
    ledger: RowLedger | None = field(default=None, repr=False)
    timings: Mapping[str, float] = field(default_factory=dict)
    convergence: ConvergenceReport | None = field(default=None, repr=False)
    model: Any = field(default=None, repr=False)

    def _repr_html_(self) -> str:
        n = self.idata.posterior.sizes.get("subject", 0)
        return posterior_repr(f"PopPKFit: {self.spec.structure}, {self.method} ({self.sampler}), "
                              f"{n} subjects", self.summary(), self.converged,
                              "full table: .summary(); per subject: .individual()")

    @property
    def posterior(self) -> Any:
        """The posterior group (xarray Dataset)."""
        return self.idata.posterior

    @property
    def converged(self) -> bool | None:
        """True/False for NUTS fits by the convergence gates; None for MAP/Laplace."""
        return None if self.convergence is None else self.convergence.passed

    def summary(self, ci: float = 0.9, **kwargs: Any) -> pd.DataFrame:
        """Summarise population parameters (:func:`blinapk.poppk.summary.summarize_population`)."""
        from blinapk.poppk.summary import summarize_population

        return summarize_population(self, ci=ci, **kwargs)

    def individual(self, ci: float = 0.9) -> pd.DataFrame:
        """Per-subject CL, V, ... (:func:`blinapk.poppk.summary.summarize_individuals`)."""
        from blinapk.poppk.summary import summarize_individuals

        return summarize_individuals(self, ci=ci)

    def css(self, ci: float = 0.9) -> pd.DataFrame:
        """Summarise Css per subject and dose (:func:`blinapk.poppk.summary.summarize_css`)."""
        from blinapk.poppk.summary import summarize_css

        return summarize_css(self, ci=ci)

    def shrinkage(self) -> pd.DataFrame:
        """Eta shrinkage per BSV parameter (:func:`blinapk.poppk.summary.eta_shrinkage`)."""
        from blinapk.poppk.summary import eta_shrinkage

        return eta_shrinkage(self)

    def to_frame(self, ci: float = 0.9) -> pd.DataFrame:
        """Return :meth:`summary` (the population table)."""
        return self.summary(ci=ci)

    def save(self, path: str | Path) -> Path:
        """Write the stamped InferenceData to netCDF; reload with :func:`blinapk.poppk.load_fit`.

        Parameters
        ----------
        path : str or Path
            Output file (conventionally ``*.nc``); parent directories are created.

        Returns
        -------
        Path
            The path written.
        """
        return write_netcdf(self.idata, path)
