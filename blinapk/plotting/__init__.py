"""Plots: ``plot_*`` functions take a result, return a matplotlib Axes/Figure, compute nothing."""

from blinapk.plotting.dose_finding import plot_dose_selection
from blinapk.plotting.endpoints import plot_ae_forest, plot_km, plot_response
from blinapk.plotting.er import plot_er
from blinapk.plotting.gof import plot_gof
from blinapk.plotting.individual import plot_individual_fits
from blinapk.plotting.nca import (
    plot_css_by_dose,
    plot_cytokines,
    plot_profile_pages,
    plot_profiles,
)
from blinapk.plotting.poppk import plot_pair, plot_rank, plot_trace
from blinapk.plotting.priors import plot_prior_posterior
from blinapk.plotting.simulate import (
    plot_css_distribution,
    plot_response_rates,
    plot_target_attainment,
)
from blinapk.plotting.vpc import plot_vpc

__all__ = ["plot_ae_forest", "plot_css_by_dose", "plot_css_distribution", "plot_cytokines",
           "plot_dose_selection", "plot_er", "plot_gof", "plot_individual_fits", "plot_km",
           "plot_pair", "plot_prior_posterior", "plot_profile_pages", "plot_profiles", "plot_rank",
           "plot_response", "plot_response_rates", "plot_target_attainment", "plot_trace",
           "plot_vpc"]
