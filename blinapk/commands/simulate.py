"""``blinapk simulate``: a trial with known truth, or exposure of virtual patients on a regimen.

Two modes:

* trial (``--out DATA.csv``, no ``--regimen/--population/--fit``): simulate a
  dataset with its truth from a model card (:func:`blinapk.simulate.simulate_trial`);
* exposure (``--regimen``, ``--population`` or ``--fit`` given, ``--out DIR``):
  Css per dose level, average concentration and time above a threshold of
  ``--n`` virtual patients (:func:`blinapk.simulate.simulate_exposure`),
  summarised by BSA band with target attainment
  (:func:`blinapk.report.write_exposure`); with ``--er ER.nc`` (repeatable),
  the predicted rates of those exposure-response fits per regimen arm
  (:func:`blinapk.simulate.predict_response`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

NAME = "simulate"
HELP = ("Simulate a blinatumomab trial with known truth, clinical tables included (--out "
        "DATA.csv), or the exposure of "
        "virtual patients on any regimen from a model card or a fitted posterior "
        "(--regimen/--population/--fit, --out DIR).")
#: Narrow BSA bands of the target-attainment curve (m2).
CURVE_BANDS = (0.0, *np.round(np.arange(0.3, 2.65, 0.1), 2).tolist(), float("inf"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``simulate`` arguments.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand parser.
    """
    parser.add_argument("--n", type=int, default=100,
                        help="number of subjects / virtual patients (default 100)")
    parser.add_argument("--seed", type=int, default=None,
                        help="random seed (required for a trial; default 1 for exposure)")
    parser.add_argument("--out", required=True, metavar="DATA.csv | DIR",
                        help="trial: output dataset CSV (truth to <stem>_truth.csv, observation "
                        "truth to <stem>_obs_truth.csv, settings to <stem>.json, clinical "
                        "tables to <stem>_subjects.csv, <stem>_assessments.csv, "
                        "<stem>_adverse_events.csv, their truth to <stem>_clinical_truth.csv); "
                        "exposure: output directory")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--card", default="blinatumomab_zhu2020",
                        help="model card name (zhu2020 = blinatumomab_zhu2020) or TOML path "
                        "(default blinatumomab_zhu2020)")
    source.add_argument("--fit", metavar="FIT.nc",
                        help="exposure: draw parameters from a fitted posterior (blinapk fit's "
                        "fit.nc)")
    parser.add_argument("--cycles", type=int, default=None,
                        help="treatment cycles (trial default 2; exposure: the regimen's)")
    trial = parser.add_argument_group("trial mode")
    trial.add_argument("--paediatric-fraction", type=float, default=0.2,
                       help="probability a subject is a child (default 0.2)")
    trial.add_argument("--interruption-fraction", type=float, default=0.15,
                       help="probability of a CRS interruption in cycle 1 (default 0.15)")
    trial.add_argument("--washout-fraction", type=float, default=0.2,
                       help="probability of wash-out samples after cycle 1 (default 0.2)")
    trial.add_argument("--no-cytokines", action="store_true", help="blinatumomab rows only")
    trial.add_argument("--no-clinical", action="store_true",
                       help="no clinical tables (subjects, assessments, adverse events)")
    trial.add_argument("--blq-dv", choices=("lloq", "measured"), default="lloq",
                       help="DV of a censored row: the LLOQ (default) or the measured value")
    trial.add_argument("--study", default="BLIN-SIM", help="STUDY column value")
    exp = parser.add_argument_group("exposure mode")
    exp.add_argument("--regimen", help="regimen preset (adult_rr, paediatric_rr, "
                     "weight_based_rr, mrd, aall1331, ...; default weight_based_rr)")
    exp.add_argument("--population", help="adult, paediatric, mixed, or a CSV whose subjects' "
                     "covariates are resampled (default adult)")
    exp.add_argument("--subjects", choices=("new", "fitted"), default="new",
                     help="with --fit: random effects of new subjects or of the fitted ones")
    exp.add_argument("--draws", type=int, default=1,
                     help="population-parameter draws (posterior draws of a fit; default 1)")
    exp.add_argument("--threshold", type=float, action="append",
                     help="concentration threshold in pg/mL (repeatable; default 470)")
    exp.add_argument("--window", action="append", metavar="NAME=CYCLE|START:END",
                     help="averaging window: a cycle number or hours since the start "
                     "(repeatable; default one per cycle)")
    exp.add_argument("--pause", action="append", metavar="DAY:DAYS[:RULE[:RESTART_DOSE]]",
                     help="an interruption for every patient: 1-based treatment day, length in "
                     "days, rule fixed|continue|new_cycle|label, restart dose in ug/day")
    exp.add_argument("--by", default="BSA_BAND",
                     help="comma-separated grouping of the summary (default BSA_BAND; e.g. "
                     "ARM,BSA_BAND or WT_BAND; '' for none)")
    exp.add_argument("--er", action="append", metavar="ER.nc",
                     help="an exposure-response fit (blinapk er's er.nc; repeatable): predicted "
                     "response / adverse-event rates with credible intervals "
                     "(predicted_rates.csv, .png); a cavg model needs the matching --window, "
                     "e.g. C1_ON=0:672")
    exp.add_argument("--er-by", default="ARM",
                     help="comma-separated grouping of the predicted rates (default ARM; '' "
                     "for none)")
    exp.add_argument("--chunk-size", type=int, default=None,
                     help="patients per chunk (default 100000)")
    exp.add_argument("--dask", metavar="SCHEDULER", nargs="?", const="threads",
                     help="run chunked on dask: threads (default), processes, local (a local "
                     "cluster) or a scheduler address tcp://HOST:PORT")


def _is_exposure(args: argparse.Namespace) -> bool:
    return bool(args.regimen or args.population or args.fit or args.er)


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
    if _is_exposure(args):
        return _run_exposure(args)
    if args.seed is None:
        print("blinapk simulate: error: --seed is required to simulate a trial", file=sys.stderr)
        return 2
    return _run_trial(args)


def _run_trial(args: argparse.Namespace) -> int:
    from blinapk.data import read_dataset, write_dataset
    from blinapk.simulate import simulate_trial, write_clinical_tables

    trial = simulate_trial(
        args.n, args.seed, card=args.card, paediatric_fraction=args.paediatric_fraction,
        n_cycles=2 if args.cycles is None else args.cycles,
        interruption_fraction=args.interruption_fraction,
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


def _windows(items: list[str] | None) -> dict | None:
    if not items:
        return None
    out = {}
    for item in items:
        name, _, spec = item.partition("=")
        if ":" in spec:
            a, b = spec.split(":", 1)
            out[name] = (float(a), float(b))
        else:
            out[name] = spec if spec == "all" else int(spec)
    return out


def _pauses(items: list[str] | None) -> list | None:
    from blinapk.dosing import Interruption

    if not items:
        return None
    out = []
    for item in items:
        parts = item.split(":")
        restart = float(parts[3]) if len(parts) > 3 else None
        out.append(Interruption.from_days(float(parts[0]), float(parts[1]),
                                          schedule=parts[2] if len(parts) > 2 else "fixed",
                                          restart_dose=restart, reason="--pause"))
    return out


def _run_exposure(args: argparse.Namespace) -> int:
    from blinapk.report import exposure_text, write_exposure
    from blinapk.simulate import DEFAULT_THRESHOLDS, simulate_exposure, summarize_exposure
    from blinapk.simulate.exposure import DEFAULT_CHUNK

    regimen = args.regimen or "weight_based_rr"
    population = args.population or "adult"
    by = tuple(b.strip() for b in args.by.split(",") if b.strip())
    ds = simulate_exposure(
        args.n, 1 if args.seed is None else args.seed, source=args.fit or args.card,
        population=population, regimen=regimen, n_cycles=args.cycles,
        interruptions=_pauses(args.pause), n_draws=args.draws,
        windows=_windows(args.window),
        thresholds=tuple(args.threshold or DEFAULT_THRESHOLDS), subjects=args.subjects,
        chunk_size=args.chunk_size or DEFAULT_CHUNK, dask=args.dask)
    label = f"{regimen} ({Path(str(population)).stem})"
    summary = summarize_exposure({label: ds}, by=by)
    curve = summarize_exposure({label: ds}, by=("BSA_BAND",), bands={"BSA": CURVE_BANDS})
    responses = _responses({label: ds}, args)
    paths = write_exposure({label: ds}, summary, args.out, curve=curve, responses=responses)
    print(f"simulated exposure of {args.n:,} patients x {args.draws} draw(s) "
          f"({label}, source {args.fit or args.card})")
    if responses is not None:
        print(_response_text(responses))
    print(exposure_text(summary, paths))
    return 0


def _responses(results: dict, args: argparse.Namespace):
    if not args.er:
        return None
    from blinapk.er import load_er
    from blinapk.simulate import predict_response

    by = tuple(b.strip() for b in args.er_by.split(",") if b.strip())
    return predict_response(results, [load_er(p) for p in args.er], by=by)


def _response_text(table) -> str:
    groups = list(table.columns[1:list(table.columns).index("MODEL_NAME")])
    ci = 100 * table.attrs.get("ci", 0.9)
    lines = []
    for _, r in table.iterrows():
        where = " ".join(f"{g}={r[g]}" for g in groups)
        lines.append(f"{r['SCENARIO']} {where} {r['PREDICTION']} = {100 * r['MEDIAN']:.1f} % "
                     f"({ci:g} % CrI {100 * r['LOWER']:.1f}-{100 * r['UPPER']:.1f}; "
                     f"{r['EXPOSURE']}, n = {int(r['N_SUBJECTS']):,})".replace("  ", " "))
    return "\n".join(lines)
