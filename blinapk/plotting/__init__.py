"""Plots: ``plot_*`` functions take a result, return a matplotlib Axes/Figure, compute nothing."""

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
from blinapk.plotting.vpc import plot_vpc

__all__ = ["plot_css_by_dose", "plot_cytokines", "plot_pair", "plot_profiles", "plot_rank",
           "plot_trace",
           "plot_gof", "plot_individual_fits", "plot_prior_posterior", "plot_profile_pages",
           "plot_vpc"]
