"""Plots: ``plot_*`` functions take a result, return a matplotlib Axes/Figure, compute nothing."""

from blinapk.plotting.nca import plot_css_by_dose, plot_cytokines, plot_profiles
from blinapk.plotting.poppk import plot_pair, plot_rank, plot_trace
from blinapk.plotting.simulate import plot_css_distribution, plot_target_attainment

__all__ = ["plot_css_by_dose", "plot_css_distribution", "plot_cytokines", "plot_pair",
           "plot_profiles", "plot_rank", "plot_target_attainment", "plot_trace"]
