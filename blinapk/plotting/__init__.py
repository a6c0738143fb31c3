"""Plots: ``plot_*`` functions take a result, return a matplotlib Axes/Figure, compute nothing."""

from blinapk.plotting.nca import plot_css_by_dose, plot_cytokines, plot_profiles

__all__ = ["plot_css_by_dose", "plot_cytokines", "plot_profiles"]
