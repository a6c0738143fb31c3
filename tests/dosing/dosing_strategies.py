"""Hypothesis strategies shared by the dosing tests (not a test module)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from blinapk.dosing import LABEL_BAG_HOURS, CycleSpec, Interruption, Regimen, Step

doses = st.floats(0.5, 100.0, allow_nan=False)
caps = st.none() | st.floats(1.0, 50.0, allow_nan=False)
units = st.sampled_from(["ug/day", "ug/m2/day"])


@st.composite
def cycle_blocks(draw, first: int, open_ended: bool) -> CycleSpec:
    on_days = draw(st.integers(2, 30))
    off_days = draw(st.sampled_from([0, 7, 14, 56]) | st.floats(0.0, 30.0))
    n_steps = draw(st.integers(1, min(3, on_days)))
    later = draw(
        st.lists(st.integers(2, on_days), min_size=n_steps - 1, max_size=n_steps - 1, unique=True)
    )
    days = [1, *sorted(later)]
    steps = tuple(Step(d, draw(doses), draw(units), draw(caps)) for d in days)
    last = None if open_ended else first + draw(st.integers(0, 2))
    return CycleSpec(first, last, steps, on_days, off_days)


@st.composite
def interruptions(draw, max_n: int = 2) -> tuple[Interruption, ...]:
    out = []
    for _ in range(draw(st.integers(0, max_n))):
        restart = draw(st.none() | doses)
        out.append(
            Interruption(
                draw(st.floats(0.0, 1500.0)),
                draw(st.floats(0.5, 300.0)),
                restart_dose=restart,
                restart_unit=draw(units),
                restart_cap=draw(caps),
                restart_days=draw(st.floats(0.5, 10.0)),
                reason=draw(st.sampled_from(["", "CRS grade 3"])),
            )
        )
    return tuple(out)


@st.composite
def regimens(draw, with_interruptions: bool = True) -> Regimen:
    n_blocks = draw(st.integers(1, 3))
    open_ended = draw(st.booleans())
    blocks, first = [], 1
    for b in range(n_blocks):
        block = draw(cycle_blocks(first, open_ended and b == n_blocks - 1))
        blocks.append(block)
        first = (block.last or block.first) + 1
    max_cycles = first - 1 if not open_ended else first + 1
    n_cycles = draw(st.integers(1, min(max_cycles, 4)))
    bag = draw(st.none() | st.sampled_from(LABEL_BAG_HOURS))
    ints = draw(interruptions()) if with_interruptions else ()
    return Regimen(draw(st.text(max_size=8)), tuple(blocks), n_cycles, ints, bag, "test")


def subjects_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"ID": np.arange(1, n + 1), "BSA": rng.uniform(0.3, 2.6, n), "WT": rng.uniform(8, 120, n)}
    )


@st.composite
def dose_frames(draw, sort: bool | None = None) -> pd.DataFrame:
    """Arbitrary contract infusion records: overlaps, touching records, gaps, any order."""
    rows = []
    for sid in draw(
        st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=3, unique=True)
    ):
        for _ in range(draw(st.integers(1, 6))):
            start = draw(st.integers(0, 200)) / 2
            dur = draw(st.integers(1, 96)) / 2
            rate = draw(st.sampled_from([0.375, 1.0, 28 / 24]) | st.floats(0.05, 5.0))
            rows.append((sid, start, rate * dur, rate))
    frame = pd.DataFrame(rows, columns=["ID", "TIME", "AMT", "RATE"])
    if sort is None:
        sort = draw(st.booleans())
    if sort:
        frame = frame.sort_values(["ID", "TIME"], kind="stable")
    else:
        perm = draw(st.permutations(range(len(frame))))
        frame = frame.iloc[list(perm)]
    return frame.reset_index(drop=True)
