"""Dose-finding operating characteristics to files: the OC tables (CSV) and the selection figure.

:func:`write_dose_finding` writes :data:`DOSE_FINDING_OUTPUTS` for a
:class:`~blinapk.simulate.dose_oc.DoseFindingOC`; every number comes from
its ``selection()``, ``summary()`` and ``to_frame()``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from blinapk.report.tables import write_csv

__all__ = ["DOSE_FINDING_OUTPUTS", "write_dose_finding"]

#: Files written by :func:`write_dose_finding`, in order (the per-trial table
#: only with ``trials=True``, the figure only with ``figures=True``).
DOSE_FINDING_OUTPUTS = ("dose_selection.csv", "dose_finding_summary.csv",
                        "dose_finding_trials.csv", "dose_selection.png")


def write_dose_finding(oc: Any, out_dir: str | Path, *, trials: bool = False,
                       figures: bool = True) -> list[Path]:
    """Write the operating characteristics of dose-finding designs.

    ``dose_selection.csv`` (per design and dose, then no dose: true P(DLT),
    probability of selection with its Monte Carlo standard error, mean
    patients and DLTs at the dose), ``dose_finding_summary.csv`` (per design:
    probability of no dose, sample size, DLTs, DLT rate, duration in days),
    with ``trials`` ``dose_finding_trials.csv`` (one row per simulated trial)
    and with ``figures`` ``dose_selection.png``
    (:func:`~blinapk.plotting.dose_finding.plot_dose_selection`).

    Parameters
    ----------
    oc : DoseFindingOC
        :func:`~blinapk.simulate.dose_oc.operating_characteristics` result.
    out_dir : str or Path
        Output directory (created).
    trials : bool, default False
        Also write every simulated trial.
    figures : bool, default True
        Write the figure.

    Returns
    -------
    list of Path
        The files written, in the order of :data:`DOSE_FINDING_OUTPUTS`.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = [write_csv(oc.selection(), out / "dose_selection.csv"),
             write_csv(oc.summary(), out / "dose_finding_summary.csv")]
    if trials:
        files.append(write_csv(oc.to_frame(), out / "dose_finding_trials.csv"))
    if figures:
        import matplotlib

        matplotlib.use("Agg")  # files only; works without a display
        import matplotlib.pyplot as plt

        from blinapk.plotting.dose_finding import plot_dose_selection

        fig = plot_dose_selection(oc)
        fig.savefig(out / "dose_selection.png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        files.append(out / "dose_selection.png")
    return files
