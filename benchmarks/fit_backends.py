"""Demo fit with a chosen nutpie backend: wall time from process start, CPU and timings.

Usage::

    python benchmarks/fit_backends.py jax
    python benchmarks/fit_backends.py numba

Fits the demo model (``blinapk demo``'s settings) to the shipped example and
prints one JSON line. Used to decide whether JAX can be an optional extra
(docs/benchmarks.md, install size).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

T0 = time.perf_counter()


def main() -> None:
    import blinapk
    from blinapk.commands.demo import FIT_COVARIATES, FIT_SETTINGS

    ds = blinapk.load_example()
    res = blinapk.fit(ds, blinapk.PopPKSpec(covariates=FIT_COVARIATES), progressbar=False,
                      nutpie_backend=sys.argv[1], **FIT_SETTINGS)
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"backend": sys.argv[1],
                      "wall_from_start_s": round(time.perf_counter() - T0, 1),
                      "cpu_s": round(ru.ru_utime + ru.ru_stime, 1),
                      "load": round(os.getloadavg()[0], 1),
                      "timings": {k: round(v, 1) for k, v in res.timings.items()}}))


if __name__ == "__main__":
    main()
