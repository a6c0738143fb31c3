"""Per-protocol sampling schedule of a simulated trial, with realistic clock-time jitter.

Serum for blinatumomab (``BLIN``) is drawn pre-dose, 48 h after every
infusion start or dose step, and on days 8, 15, 22 and 29 of every cycle;
a subset of subjects also gives wash-out samples 1, 2, 4 and 8 h after the
end of the cycle-1 infusion. Cytokines (``CYTO``: IL-2, IL-6, IL-10, TNF-a,
IFN-g from the same draw) are measured 0, 2, 6, 24 and 48 h after every
start or step (0 h = just before it). Samples sharing a nominal time are one
blood draw.

Jitter: the actual time is the nominal time plus ``U(-w, w)`` with
``w = min(jitter_h, jitter_fraction * offset)`` (``offset`` = nominal time
since the reference event); a sample whose window contains a change of the
infusion rate (step, interruption, end of infusion) is drawn *before* the
change, ``U(before_change_h)`` hours ahead of it, as protocols ask for troughs.
The change may lie up to ``w`` *before* the nominal time (e.g. a dose step
moved by an interruption to 0.47 h before the day-15 sample), so such a draw
can be up to ``jitter_h + before_change_h[1]`` = 1.5 h from nominal; all
others are within ``w`` <= 0.5 h.
The pre-dose sample at time 0 is exactly 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["PROTOCOL", "sampling_schedule"]

#: Sampling protocol (recorded in SimulatedTrial.settings["protocol"]).
PROTOCOL: Mapping[str, Any] = MappingProxyType({
    "pk_after_event_h": [48.0],
    "pk_cycle_days": [8, 15, 22, 29],
    "cytokine_after_event_h": [0.0, 2.0, 6.0, 24.0, 48.0],
    "washout_after_end_h": [1.0, 2.0, 4.0, 8.0],
    "jitter_h": 0.5,
    "jitter_fraction": 0.1,
    "before_change_h": [0.1, 1.0],
    "time_decimals": 2,
})


def sampling_schedule(
    event_times: Sequence[float],
    event_labels: Sequence[str],
    change_times: Sequence[float],
    cycle_starts: Sequence[float],
    rng: np.random.Generator,
    *,
    washout_after: float | None = None,
    cytokines: bool = True,
    protocol: Mapping[str, Any] = PROTOCOL,
) -> pd.DataFrame:
    """Return the sampling times of one subject.

    Parameters
    ----------
    event_times : sequence of float
        Infusion starts and dose steps (h), e.g. ``release_events(...)["TIME"]``.
    event_labels : sequence of str
        Label of each event used in ``SAMPLE`` (e.g. ``"C1.step"``).
    change_times : sequence of float
        Every time the infusion rate changes (h): starts and ends of rate segments.
    cycle_starts : sequence of float
        Scheduled start of each cycle (h); day ``d`` of cycle ``k`` is
        ``cycle_starts[k-1] + (d - 1) * 24``.
    rng : numpy.random.Generator
        Source of the jitter.
    washout_after : float, optional
        End of the cycle-1 infusion (h) if the subject gives wash-out samples.
    cytokines : bool, default True
        Whether cytokine draws are scheduled.
    protocol : Mapping
        Protocol settings, defaults :data:`PROTOCOL`.

    Returns
    -------
    pandas.DataFrame
        One row per blood draw sorted by TIME: ``NOMTIME``, ``TIME`` (h),
        ``CYCLE`` (by nominal time), ``SAMPLE`` (label(s) of the protocol
        item(s), ``;``-joined), ``BLIN`` and ``CYTO`` (bool: what is assayed).
    """
    items: list[tuple[float, float, str, bool, bool]] = []  # nominal, offset, label, pk, cyto
    items.append((0.0, 0.0, "predose", True, False))
    for te, name in zip(event_times, event_labels, strict=True):
        for h in protocol["pk_after_event_h"]:
            items.append((te + h, h, f"{name}+{h:g}h", True, False))
        if cytokines:
            for h in protocol["cytokine_after_event_h"]:
                items.append((te + h, h, f"{name}+{h:g}h", False, True))
    for c, c0 in enumerate(cycle_starts, start=1):
        for d in protocol["pk_cycle_days"]:
            items.append((c0 + (d - 1) * 24.0, np.inf, f"C{c}D{d}", True, False))
    if washout_after is not None:
        for h in protocol["washout_after_end_h"]:
            items.append((washout_after + h, h, f"washout+{h:g}h", True, False))

    draws: dict[float, dict[str, Any]] = {}
    for nom, off, label, pk, cyto in items:
        key = round(nom, 6)
        d = draws.setdefault(key, {"offset": off, "labels": [], "pk": False, "cyto": False})
        d["offset"] = min(d["offset"], off)
        if label not in d["labels"]:
            d["labels"].append(label)
        d["pk"] |= pk
        d["cyto"] |= cyto

    noms = np.array(sorted(draws))
    changes = np.asarray(sorted(set(change_times)), dtype=float)
    lo, hi = protocol["before_change_h"]
    times = np.empty_like(noms)
    for i, nom in enumerate(noms):
        w = min(protocol["jitter_h"], protocol["jitter_fraction"] * draws[nom]["offset"])
        u_jitter, u_before = rng.random(2)  # always two draws: streams stay aligned
        near = changes[np.abs(changes - nom) <= max(w, 1e-9)]
        if nom == 0.0:
            times[i] = 0.0
        elif near.size:
            times[i] = near.min() - (lo + (hi - lo) * u_before)
        else:
            times[i] = nom + w * (2.0 * u_jitter - 1.0)
    times = np.maximum(np.round(times, protocol["time_decimals"]), 0.0)
    starts = np.asarray(cycle_starts, dtype=float)
    cycle = np.searchsorted(starts, noms + 1e-9, side="right")
    out = pd.DataFrame({
        "NOMTIME": noms,
        "TIME": times,
        "CYCLE": np.maximum(cycle, 1),
        "SAMPLE": [";".join(draws[n]["labels"]) for n in noms],
        "BLIN": [draws[n]["pk"] for n in noms],
        "CYTO": [draws[n]["cyto"] for n in noms],
    })
    return out.sort_values(["TIME", "NOMTIME"], kind="stable").reset_index(drop=True)
