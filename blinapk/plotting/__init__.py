"""Plots: ``plot_*`` functions take a result, return a matplotlib Axes/Figure, compute nothing."""

from blinapk.plotting.dose_finding import plot_dose_selection
from blinapk.plotting.endpoints import plot_ae_forest, plot_km, plot_response
from blinapk.plotting.er import plot_er
from blinapk.plotting.nca import plot_css_by_dose, plot_cytokines, plot_profiles
from blinapk.plotting.poppk import plot_pair, plot_rank, plot_trace

__all__ = ["plot_ae_forest", "plot_css_by_dose", "plot_cytokines", "plot_dose_selection",
           "plot_er", "plot_km", "plot_pair", "plot_profiles", "plot_rank", "plot_response",
           "plot_trace"]
