"""Experiment: divergences of the 60-subject SBC fits, by parameterisation.

The 50-replicate SBC run of 2026-12-02 (``benchmarks/sbc_poppk.py``, code
``48b1452``) had divergences in 23/50 replicates (161 in all). This script
refits chosen replicates (same truth, trial and sampler seed as the SBC run)
with other settings and prints, per fit, the number of divergences and where
the divergent draws sit in the posterior of each scalar parameter (mean
percentile of the divergent draws; a funnel shows as divergences at the low
end of an omega).

Examples
--------
The comparison in docs/validation.md (refit every replicate that diverged,
V non-centered instead of partially centered)::

    python benchmarks/exp_sbc_divergences.py \\
        --variant '{"spec": {"parameterisation": {"V": "noncentered"}}}' \\
        --replicates 3,4,5,6,8,13,15,16,18,19,20,21,24,28,30,33,36,40,43,44,45,46,47

Where the divergences of replicates 16 and 13 sit (default settings)::

    python benchmarks/exp_sbc_divergences.py --replicates 16,13 --variant '{}' --where
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import sbc_poppk  # noqa: E402


def refit(k: int, variant: Mapping[str, Any], *, base_seed: int = 20261122,
          n_subjects: int = 60, where: bool = False) -> dict[str, Any]:
    """Refit SBC replicate ``k`` with the settings of ``variant``.

    Parameters
    ----------
    k : int
        Replicate index of the SBC run.
    variant : mapping
        ``{"spec": {...PopPKSpec overrides}, "fit": {...fit keyword overrides}}``;
        the rest is the SBC run's settings (500 + 500 draws, 2 chains, its seed).
    base_seed, n_subjects : int
        As in the SBC run.
    where : bool, default False
        Also report the mean posterior percentile of the divergent draws for
        every scalar parameter.

    Returns
    -------
    dict
        ``k``, ``variant``, ``parameterisation``, ``divergences`` (total and per
        chain), ``omega_V`` (mean at divergent draws, mean elsewhere, minimum
        draw), wall time and, with ``where``, ``percentile_at_divergences``.
    """
    from blinapk.poppk import PopPKSpec, fit

    rep = sbc_poppk.simulate_replicate(k, base_seed=base_seed, n_subjects=n_subjects)
    spec = {**sbc_poppk.SPEC_KW, **variant.get("spec", {})}
    kwargs = {"draws": 500, "tune": 500, "chains": 2, "seed": rep["seeds"]["fit"],
              **variant.get("fit", {})}
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit(rep["dataset"], PopPKSpec(**spec), progressbar=False,
                  log_likelihood=False, **kwargs)
    div = np.asarray(res.idata.sample_stats["diverging"].values, dtype=bool)
    post = res.idata.posterior
    omega_v = post["omega_V"].values
    out: dict[str, Any] = {
        "k": k, "variant": dict(variant), "parameterisation": dict(res.parameterisation),
        "divergences": int(div.sum()), "divergences_per_chain": div.sum(axis=1).tolist(),
        "omega_V": [float(omega_v[div].mean()) if div.any() else None,
                    float(omega_v[~div].mean()), float(omega_v.min())],
        "truth_omega_V": rep["truth"]["OMEGA_V"],
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    if where and div.any():
        pct = {}
        for name, da in post.data_vars.items():
            x = da.values
            if x.ndim == 2:  # scalar parameter: (chain, draw)
                ranks = x.reshape(-1).argsort().argsort().reshape(x.shape) / (x.size - 1)
                pct[name] = round(float(ranks[div].mean()), 3)
        out["percentile_at_divergences"] = pct
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: one JSON line per refit on stdout."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", required=True, help="comma-separated replicate indices")
    ap.add_argument("--variant", default="{}", help="JSON: {'spec': {...}, 'fit': {...}}")
    ap.add_argument("--where", action="store_true")
    args = ap.parse_args(argv)
    variant = json.loads(args.variant)
    for k in (int(s) for s in args.replicates.split(",") if s.strip()):
        print(json.dumps(refit(k, variant, where=args.where)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
