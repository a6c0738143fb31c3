"""Mixing of one random effect under two parameterisations, same datasets and seeds.

For each data seed ``d`` a trial ``blinapk.simulate.simulate_trial(N, seed=d,
cytokines=False)`` is fitted with the robustness benchmark's model (1-cmt, CL ~
BSA power at 1.88 m2, combined residual error, M3; default priors, 2 chains x
(1000 + 1000), automatic target acceptance) once per sampler seed
``1 .. --sampler-seeds`` and per requested form of ``--param`` (default V:
``noncentered`` and ``partial``; the other effects keep the automatic choice).
Recorded per fit: divergences, max population R-hat, bulk ESS of the typical
value and of the omega of ``--param``.

Output: ``benchmarks/results/compare_parameterisation_n<N>.json``.

Examples
--------
::

    python benchmarks/compare_parameterisation.py --n-subjects 200 --data-seeds 12 17 \\
        --sampler-seeds 6
"""

from __future__ import annotations

import argparse
import statistics
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _bench_common import machine_notes, write_json  # noqa: E402
from sbc_poppk import code_version  # noqa: E402

SPEC = {"covariates": ("CL~BSA:power@1.88",), "residual": "combined"}


def fit_one(dataset: Any, param: str, form: str, seed: int) -> dict[str, Any]:
    """Fit ``dataset`` with ``param`` in ``form``; return the mixing of its effect."""
    from blinapk.poppk import PopPKSpec, fit

    spec = PopPKSpec(**SPEC, parameterisation={param: form})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit(dataset, spec, draws=1000, tune=1000, chains=2, seed=seed,
                  progressbar=False, log_likelihood=False)
    table = res.summary(ci=0.9).set_index("PARAMETER")
    ess = table.filter(like="ESS").columns[0]
    return {"form": form, "sampler_seed": seed,
            "chosen": dict(res.parameterisation),
            "divergences": int(res.idata.sample_stats["diverging"].sum()),
            "rhat_max": float(table["R_HAT"].max()),
            f"ess_bulk_TV_{param}": float(table.loc[f"TV_{param}", ess]),
            f"ess_bulk_OMEGA_{param}": float(table.loc[f"OMEGA_{param}", ess])}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the comparison and write the results file."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-subjects", type=int, default=200)
    p.add_argument("--data-seeds", type=int, nargs="+", default=[12, 17])
    p.add_argument("--sampler-seeds", type=int, default=6)
    p.add_argument("--param", default="V")
    p.add_argument("--forms", nargs="+", default=["noncentered", "partial"])
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)

    from blinapk.data import read_dataset
    from blinapk.simulate import simulate_trial

    records = []
    for d in args.data_seeds:
        dataset = read_dataset(simulate_trial(args.n_subjects, seed=d, cytokines=False).data)
        for form in args.forms:
            for s in range(1, args.sampler_seeds + 1):
                rec = {"data_seed": d, **fit_one(dataset, args.param, form, s)}
                print(rec, flush=True)
                records.append(rec)
    summary = {}
    for d in args.data_seeds:
        for form in args.forms:
            rows = [r for r in records if r["data_seed"] == d and r["form"] == form]
            summary[f"seed {d}, {form}"] = {
                k: [min(r[k] for r in rows), statistics.median(r[k] for r in rows),
                    max(r[k] for r in rows)]
                for k in rows[0] if k.startswith(("ess_", "rhat", "divergences"))}
    out = args.out or HERE / "results" / f"compare_parameterisation_n{args.n_subjects}.json"
    write_json(out, {"command": "python benchmarks/compare_parameterisation.py "
                                + " ".join(argv if argv is not None else sys.argv[1:]),
                     "param": args.param, "summary_min_median_max": summary,
                     "records": records, "code": code_version(), "machine": machine_notes()})
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
