"""``blinapk demo``: run the analyses on the shipped example study and write the results.

The demo is a list of steps (:data:`STEPS`); each step takes the example
:class:`~blinapk.data.Dataset` and its own output directory and returns the
files it wrote. New analyses (e.g. the population-PK fit) are added by
appending a step.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

NAME = "demo"
HELP = "Run the NCA (and other analyses) on the shipped example study; write tables and figures."


@dataclass(frozen=True)
class DemoStep:
    """One step of the demo.

    Parameters
    ----------
    name : str
        Short name; also the sub-directory of the output.
    title : str
        One line shown while running.
    run : callable
        ``run(dataset, out_dir) -> list of Path``.
    """

    name: str
    title: str
    run: Callable


def _nca_step(dataset, out: Path) -> list[Path]:
    from blinapk.commands.nca import print_report, run_nca

    result = run_nca(dataset, out, studyid="BLIN-EXAMPLE")
    print_report(result, max_rows=8)
    return result["files"]


def _fit_step(dataset, out: Path) -> list[Path]:
    import pandas as pd

    from blinapk.commands.fit import run_demo_fit
    from blinapk.poppk.summary import to_markdown

    paths = run_demo_fit(dataset, out, progressbar=True)
    summary = pd.read_csv(paths["summary"])
    print(to_markdown(summary.fillna({"UNIT": "-"})))  # blank unit = dimensionless
    return list(paths.values())


#: Steps run by ``blinapk demo``, in order.
STEPS: list[DemoStep] = [
    DemoStep("nca", "Noncompartmental analysis: Css, CL = R0/Css, cytokine peaks", _nca_step),
    DemoStep("fit", "Bayesian population PK (1-cmt, CL~BSA power, M3), NUTS", _fit_step),
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``demo`` arguments.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand parser.
    """
    parser.add_argument("--out", default="blinapk-demo", help="output directory (created)")
    parser.add_argument("--steps", default=",".join(s.name for s in STEPS),
                        help="comma-separated steps to run (default: all)")


def run(args: argparse.Namespace) -> int:
    """Run the demo steps on the example study.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        Exit code (0; 2 for an unknown step name).
    """
    from blinapk.datasets import example_path, load_example

    wanted = [s.strip() for s in args.steps.split(",") if s.strip()]
    known = {s.name for s in STEPS}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        print(f"blinapk demo: unknown step(s) {unknown}; known: {sorted(known)}")
        return 2
    out = Path(args.out)
    ds = load_example()
    print(f"example study: {example_path()} ({len(ds.subjects)} subjects, {ds.n_rows} rows)")
    total = 0
    for step in (s for s in STEPS if s.name in wanted):
        print(f"\n== {step.name}: {step.title}")
        files = step.run(ds, out / step.name)
        total += len(files)
        print(f"-> {len(files)} file(s) in {(out / step.name).resolve()}")
    print(f"\ndemo done: {total} file(s) under {out.resolve()}")
    return 0
