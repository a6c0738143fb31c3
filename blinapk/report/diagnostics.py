"""Model-qualification diagnostics to files: tables, a Markdown page and figures.

:func:`write_diagnostics` writes what ``blinapk fit`` (unless
``--no-diagnostics``) and ``blinapk diagnose`` leave in their output
directory (:data:`DIAGNOSTICS_OUTPUTS`); :func:`diagnostics_text` is the
short report they print. Every number comes from a
:class:`~blinapk.diagnostics.Diagnostics` bundle.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from blinapk.report.tables import to_markdown, write_csv

__all__ = ["DIAGNOSTICS_OUTPUTS", "diagnostics_markdown", "diagnostics_text",
           "write_diagnostics"]

#: Files written by :func:`write_diagnostics`, in order (``loo.csv`` and
#: ``pareto_k.csv`` only with posterior draws, figures only with ``figures=True``).
DIAGNOSTICS_OUTPUTS = ("predictions.csv", "npde_tests.csv", "vpc.csv", "loo.csv", "pareto_k.csv",
                       "diagnostics.md", "gof.png", "vpc.png", "individual_fits.pdf",
                       "prior_posterior.png")


def diagnostics_markdown(diag: Any) -> str:
    """Render ``diagnostics.md``: NPDE tests, shrinkage, LOO and VPC coverage, with verdicts.

    Parameters
    ----------
    diag : Diagnostics
        From :func:`blinapk.diagnostics.diagnose`.

    Returns
    -------
    str
    """
    fit = diag.fit
    tests = diag.npde_tests
    lines = [f"# Model qualification ({fit.spec.structure}, {fit.method})", "",
             f"{len(diag.predictions)} observations, {diag.predictions.n_draws} posterior "
             f"draws, {diag.vpc.n_sim} simulated datasets, seed {diag.predictions.seed}.", "",
             "## NPDE tests (expected: mean 0, variance 1, normal)", "", to_markdown(tests)]
    glob = tests.loc[tests["TEST"] == "global", "P_VALUE"]
    if len(glob) and float(glob.iloc[0]) < tests.attrs.get("alpha", 0.05):
        lines += ["**The NPDE differ from N(0, 1)**: see NPDE vs time and vs PRED in "
                  "`gof.png` for where the model misses.", ""]
    lines += ["## Eta shrinkage (flagged above 30 %)", "", to_markdown(diag.shrinkage)]
    if diag.loo is not None:
        lines += ["## PSIS-LOO", "", to_markdown(diag.loo.summary()), "Pareto k:", "",
                  to_markdown(diag.loo.k_table())]
    cov = diag.vpc.coverage()
    lines += ["## VPC", "", f"Observed percentiles inside their simulated "
              f"{100 * diag.vpc.ci:g} % band: {100 * cov:.0f} % of estimable bins "
              f"(x = {diag.vpc.x}" + (f", by {diag.vpc.stratify}" if diag.vpc.stratify else "")
              + ").", ""]
    if diag.notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in diag.notes] + [""]
    return "\n".join(lines)


def _save_figures(diag: Any, out: Path) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")  # files only; works without a display
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    from blinapk.plotting import plot_gof, plot_individual_fits, plot_prior_posterior, plot_vpc

    written = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # layout chatter
        for name, make in (("gof", lambda: plot_gof(diag.predictions)),
                           ("vpc", lambda: plot_vpc(diag.vpc))):
            fig = make()
            fig.savefig(out / f"{name}.png", dpi=100)
            plt.close(fig)
            written[name] = out / f"{name}.png"
        path = out / "individual_fits.pdf"
        with PdfPages(path) as pdf:
            for page in plot_individual_fits(diag.individual):
                pdf.savefig(page)
                plt.close(page)
        written["individual_fits"] = path
        fig = plot_prior_posterior(diag.prior_posterior)
        fig.savefig(out / "prior_posterior.png", dpi=90)
        plt.close(fig)
        written["prior_posterior"] = out / "prior_posterior.png"
    return written


def write_diagnostics(diag: Any, out_dir: str | Path, *, figures: bool = True
                      ) -> dict[str, Path]:
    """Write the diagnostics tables, ``diagnostics.md`` and figures.

    ``predictions.csv`` (one row per observation: PRED, IPRED, intervals,
    IWRES, PIT, NPDE, and the LOO ``ELPD`` and ``PARETO_K``), ``npde_tests.csv``,
    ``vpc.csv`` (the VPC bins), ``loo.csv`` (elpd_loo, p_loo, looic, counts),
    ``pareto_k.csv`` (observations by Pareto k range), ``diagnostics.md``,
    ``gof.png``, ``vpc.png``, ``individual_fits.pdf`` (every subject, paged)
    and ``prior_posterior.png``.

    Parameters
    ----------
    diag : Diagnostics
        From :func:`blinapk.diagnostics.diagnose`.
    out_dir : str or Path
        Output directory (created).
    figures : bool, default True
        Write the figures.

    Returns
    -------
    dict
        ``predictions``, ``npde_tests``, ``vpc_table``, (``loo``, ``pareto_k``),
        ``diagnostics_md``, (``gof``, ``vpc``, ``individual_fits``,
        ``prior_posterior``) -> path.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"predictions": write_csv(diag.predictions_table(), out / "predictions.csv"),
             "npde_tests": write_csv(diag.npde_tests, out / "npde_tests.csv"),
             "vpc_table": write_csv(diag.vpc.to_frame(), out / "vpc.csv")}
    if diag.loo is not None:
        paths["loo"] = write_csv(diag.loo.summary(), out / "loo.csv")
        paths["pareto_k"] = write_csv(diag.loo.k_table(), out / "pareto_k.csv")
    paths["diagnostics_md"] = out / "diagnostics.md"
    paths["diagnostics_md"].write_text(diagnostics_markdown(diag), encoding="utf-8")
    if figures:
        paths.update(_save_figures(diag, out))
    return paths


def diagnostics_text(diag: Any, paths: dict[str, Path] | None = None) -> str:
    """Short text report: NPDE verdict, flagged shrinkage, LOO and its Pareto-k warning.

    Parameters
    ----------
    diag : Diagnostics
        The diagnostics.
    paths : dict, optional
        Files written (:func:`write_diagnostics`), listed last.

    Returns
    -------
    str
    """
    t = diag.npde_tests.set_index("TEST")
    lines = [f"NPDE: mean {t.loc['mean', 'ESTIMATE']:.3f} (p={t.loc['mean', 'P_VALUE']:.3g}), "
             f"variance {t.loc['variance', 'ESTIMATE']:.3f} (p={t.loc['variance', 'P_VALUE']:.3g}),"
             f" normality p={t.loc['normality', 'P_VALUE']:.3g}; global p="
             f"{t.loc['global', 'P_VALUE']:.3g}"]
    flagged = diag.shrinkage[diag.shrinkage["FLAG"] != ""]
    lines += [f"shrinkage {r.PARAMETER} {r.SHRINKAGE_PCT:.0f} %: {r.FLAG}"
              for r in flagged.itertuples(index=False)]
    if diag.loo is not None:
        lines.append(f"PSIS-LOO: elpd_loo {diag.loo.elpd:.1f} (SE {diag.loo.se:.1f}), p_loo "
                     f"{diag.loo.p_loo:.1f}; {diag.loo.n_high_k} observation(s) with Pareto k > "
                     "0.7" + (" (see pareto_k.csv and the PARETO_K column)"
                              if diag.loo.n_high_k else ""))
    lines.append(f"VPC: {100 * diag.vpc.coverage():.0f} % of observed percentiles inside their "
                 f"simulated {100 * diag.vpc.ci:g} % band")
    lines += [f"  {name}: {path}" for name, path in (paths or {}).items()]
    return "\n".join(lines)
