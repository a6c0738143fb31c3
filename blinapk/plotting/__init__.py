"""Plots: ``plot_*`` functions take a result, return a matplotlib Axes/Figure, compute nothing."""

from blinapk.plotting.dose_finding import plot_dose_selection
from blinapk.plotting.nca import plot_css_by_dose, plot_cytokines, plot_profiles
from blinapk.plotting.poppk import plot_pair, plot_rank, plot_trace

__all__ = ["plot_css_by_dose", "plot_cytokines", "plot_dose_selection", "plot_pair",
           "plot_profiles", "plot_rank", "plot_trace"]
