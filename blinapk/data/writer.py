"""Write a :class:`~blinapk.data.Dataset` back to CSV (lossless round trip)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from blinapk.data.csv_text import frame_to_csv
from blinapk.data.dataset import Dataset
from blinapk.data.reader import UNIT_COLUMNS
from blinapk.units import INTERNAL_UNITS, Units

__all__ = ["write_dataset"]


def _toml(units: Units) -> str:
    lines = ["# units of the columns of the CSV file next to this one (blinapk)"]
    lines += [f'{k} = "{v}"' for k, v in units.to_dict().items()]
    return "\n".join(lines) + "\n"


def write_dataset(
    dataset: Dataset, path: str | Path, *, units: Mapping[str, str] | Units | None = None
) -> Path:
    """Write ``dataset`` as CSV plus a units sidecar, so that reading it back is lossless.

    Choices (documented in docs/data.md):

    * rows are written in source order (``ROW`` order) whenever that order keeps
      TIME non-decreasing within each subject (always true for a dataset read
      from a file); otherwise in dataset order;
    * the ``ROW`` column is omitted when it equals ``1..n`` in the written order
      (the reader renumbers identically) and written otherwise (the reader
      honours an input ``ROW`` column);
    * derived columns (``DVID``, ``LLOQ``, ``LOD``, ``CENS``) are written, so the
      file no longer depends on seed defaults; an all-missing ``LOD`` column
      (an analyte registered without LOD) is omitted;
    * floats are written with the shortest repr that parses back to the same
      double, so ``read_dataset(write_dataset(ds, p)).hash == ds.hash``;
    * a sidecar ``<stem>.units.toml`` states the units written (overwriting a
      sidecar of the same name).

    Parameters
    ----------
    dataset : Dataset
        Dataset to write.
    path : str or Path
        Output CSV file.
    units : mapping or Units, optional
        Units to write in (keys ``amt``, ``rate``, ``dv``, ``time``); default
        internal units. With other units the values are divided by the
        conversion factor, so a round trip is exact only to floating rounding.

    Returns
    -------
    Path
        The CSV path written.
    """
    path = Path(path)
    out_units = INTERNAL_UNITS if units is None else Units.from_mapping(units)
    frame = dataset.frame
    by_row = frame.sort_values("ROW", kind="stable").reset_index(drop=True)
    prev = by_row.groupby("ID", sort=False)["TIME"].shift()
    if not (by_row["TIME"] < prev).any():
        frame = by_row
    n = len(frame)
    if np.array_equal(frame["ROW"].to_numpy(), np.arange(1, n + 1)):
        frame = frame.drop(columns="ROW")
    if "LOD" in frame.columns and frame["LOD"].isna().all():
        frame = frame.drop(columns="LOD")
    for kind, cols in UNIT_COLUMNS.items():
        num, den = out_units.factor(kind)
        if (num, den) == (1, 1):
            continue
        for col in cols:
            if col in frame.columns:
                frame[col] = frame[col] * den / num
    frame = pd.DataFrame(frame)
    with path.open("w", encoding="utf-8", newline="") as fh:
        frame_to_csv(frame, fh)
    side = path.with_name(path.name + ".units.toml")
    if not side.is_file():
        side = path.with_suffix(".units.toml")
    side.write_text(_toml(out_units), encoding="utf-8")
    return path
