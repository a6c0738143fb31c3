"""``blinapk simulate``: simulate a blinatumomab trial with known truth from a model card."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "simulate"
HELP = ("Simulate a blinatumomab trial (adults and children, label regimens, per-protocol "
        "sampling, assay censoring, cytokines, clinical tables) and write data, truth and "
        "settings.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``simulate`` arguments.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand parser.
    """
    parser.add_argument("--n", type=int, default=100, help="number of subjects (default 100)")
    parser.add_argument("--seed", type=int, required=True, help="random seed (required)")
    parser.add_argument("--out", required=True, metavar="DATA.csv",
                        help="output dataset CSV; truth goes to <stem>_truth.csv, observation "
                        "truth to <stem>_obs_truth.csv, settings to <stem>.json, the clinical "
                        "tables to <stem>_subjects.csv, <stem>_assessments.csv, "
                        "<stem>_adverse_events.csv and their truth to <stem>_clinical_truth.csv")
    parser.add_argument("--card", default="blinatumomab_zhu2020",
                        help="model card name or TOML path (default blinatumomab_zhu2020)")
    parser.add_argument("--paediatric-fraction", type=float, default=0.2,
                        help="probability a subject is a child (default 0.2)")
    parser.add_argument("--cycles", type=int, default=2, help="treatment cycles (default 2)")
    parser.add_argument("--interruption-fraction", type=float, default=0.15,
                        help="probability of a CRS interruption in cycle 1 (default 0.15)")
    parser.add_argument("--washout-fraction", type=float, default=0.2,
                        help="probability of wash-out samples after cycle 1 (default 0.2)")
    parser.add_argument("--no-cytokines", action="store_true", help="blinatumomab rows only")
    parser.add_argument("--no-clinical", action="store_true",
                        help="no clinical tables (subjects, assessments, adverse events)")
    parser.add_argument("--blq-dv", choices=("lloq", "measured"), default="lloq",
                        help="DV of a censored row: the LLOQ (default) or the measured value")
    parser.add_argument("--study", default="BLIN-SIM", help="STUDY column value")


def run(args: argparse.Namespace) -> int:
    """Simulate and write the files.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        0 on success.
    """
    from blinapk.data import read_dataset, write_dataset
    from blinapk.simulate import simulate_trial, write_clinical_tables

    trial = simulate_trial(
        args.n, args.seed, card=args.card, paediatric_fraction=args.paediatric_fraction,
        n_cycles=args.cycles, interruption_fraction=args.interruption_fraction,
        washout_fraction=args.washout_fraction, cytokines=not args.no_cytokines,
        blq_dv=args.blq_dv, study=args.study, clinical=not args.no_clinical,
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    data = write_dataset(read_dataset(trial.data), out)
    truth = out.with_name(f"{out.stem}_truth.csv")
    trial.truth.to_csv(truth, index=False, lineterminator="\n")
    obs = out.with_name(f"{out.stem}_obs_truth.csv")
    trial.observations.to_csv(obs, index=False, lineterminator="\n")
    settings = out.with_name(f"{out.stem}.json")
    settings.write_text(trial.settings_json(), encoding="utf-8")
    written = [("data", data), ("truth", truth), ("observation truth", obs),
               ("settings", settings)]
    if trial.subjects is not None:
        tables = write_clinical_tables(trial.clinical, out.with_name(out.stem))
        clinical_truth = out.with_name(f"{out.stem}_clinical_truth.csv")
        trial.clinical_truth.to_csv(clinical_truth, index=False, lineterminator="\n")
        written += [(name.replace("_", " "), path) for name, path in tables.items()]
        written.append(("clinical truth", clinical_truth))
    n_obs = int((trial.data["EVID"] == 0).sum())
    print(f"simulated {args.n} subjects (seed {args.seed}, card {trial.settings['card']}): "
          f"{n_obs} observations, {len(trial.data) - n_obs} dose records")
    for label, path in written:
        print(f"  {label}: {path}")
    return 0
