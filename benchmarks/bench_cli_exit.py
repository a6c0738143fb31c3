"""Benchmark: process wall time of ``blinapk`` commands with and without the exit freeze.

The console script (:func:`blinapk.cli.run`) freezes the objects alive when
:func:`blinapk.cli.main` returns out of the garbage collector before the
interpreter exits. The peer is the same command through ``main`` with a plain
``sys.exit`` (what the entry point did before). The two alternate, so a busy
moment of the machine hits both.

Run from the repository root::

    python benchmarks/bench_cli_exit.py --pairs 5

Commands: ``blinapk fit`` (NUTS, default sampler) and ``blinapk nca`` on the
shipped example trial, both with ``--no-figures``; the fit also with
``--no-diagnostics``. Prints the median wall time of each side and their
difference.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from blinapk.datasets.example import example_path

PLAIN = "import sys; from blinapk.cli import main; sys.exit(main())"


def _wall(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=5)
    args = ap.parse_args()
    data = str(example_path())
    py = sys.executable
    commands = {
        "fit": ["fit", data, "--no-figures", "--no-diagnostics", "--quiet"],
        "nca": ["nca", data, "--no-figures"],
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, words in commands.items():
            times: dict[str, list[float]] = {"plain exit": [], "blinapk (freeze)": []}
            # one unrecorded run fills the compilation caches
            _wall([py, "-m", "blinapk", *words, "--out", str(Path(tmp) / "warm")])
            for k in range(args.pairs):
                out = str(Path(tmp) / f"{name}{k}")
                times["plain exit"].append(_wall([py, "-c", PLAIN, *words, "--out", out]))
                times["blinapk (freeze)"].append(_wall([py, "-m", "blinapk", *words,
                                                        "--out", out + "-freeze"]))
            med = {side: statistics.median(t) for side, t in times.items()}
            for side, t in times.items():
                print(f"blinapk {name:4s} {side:17s} median {med[side]:.2f} s  "
                      f"({', '.join(f'{x:.2f}' for x in t)})")
            saved = med["plain exit"] - med["blinapk (freeze)"]
            print(f"blinapk {name:4s} saved at exit: {saved:.2f} s")


if __name__ == "__main__":
    main()
