"""Split time-to-event input into (endpoint, group) samples for KM and log-rank."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from blinapk.endpoints._frames import as_list, require_columns
from blinapk.errors import DataValidationError, Violation

__all__ = ["Samples", "prepare"]


class Samples:
    """Usable rows (``ENDPOINT, GROUP, TIME, EVENT``), excluded rows and the time unit."""

    def __init__(self, data: pd.DataFrame, excluded: pd.DataFrame, unit: str, by: list[str]):
        self.data, self.excluded, self.unit, self.by = data, excluded, unit, by

    def endpoints(self) -> Iterator[tuple[str, pd.DataFrame]]:
        """Yield ``(endpoint, rows)`` in order of appearance."""
        yield from self.data.groupby("ENDPOINT", sort=False)


def _label(frame: pd.DataFrame, by: list[str]) -> pd.Series:
    if not by:
        return pd.Series("all", index=frame.index)
    parts = [frame[c].astype(str) for c in by]
    out = parts[0]
    for p in parts[1:]:
        out = out + ", " + p
    return out


def prepare(tte, *, by=None, time: str = "TIME", event: str = "EVENT") -> Samples:
    """Return the rows usable for survival estimation, and those left out.

    Parameters
    ----------
    tte : TimeToEvent or DataFrame
        Needs ``time`` and ``event`` columns; ``ENDPOINT`` optional (absent:
        ``"ALL"``). Rows with NaN time are left out with their ``REASON``.
    by : str or list of str, optional
        Group columns; ``GROUP`` joins their values (``"all"`` without).
    time, event : str
        Column names.

    Raises
    ------
    DataValidationError
        On negative times or events other than 0/1 among usable rows.
    """
    if isinstance(tte, pd.DataFrame):
        frame, units = tte, tte.attrs.get("units", {})
    else:
        frame, units = tte.to_frame(), tte.units
    by = as_list(by)
    require_columns(frame, [time, event, *by], "time-to-event")
    endpoint = frame["ENDPOINT"] if "ENDPOINT" in frame.columns else pd.Series("ALL", frame.index)
    t = pd.to_numeric(frame[time], errors="coerce")
    e = pd.to_numeric(frame[event], errors="coerce")
    data = pd.DataFrame({"ENDPOINT": endpoint.astype(str), "GROUP": _label(frame, by),
                         "TIME": t.astype(float), "EVENT": e.astype(float)})
    if "ID" in frame.columns:
        data.insert(0, "ID", frame["ID"].to_numpy())
    usable = t.notna()
    reason = frame["REASON"] if "REASON" in frame.columns else pd.Series("", frame.index)
    excluded = data.loc[~usable].assign(REASON=reason[~usable].where(
        reason[~usable].astype(str) != "", f"{time} missing"))
    data = data.loc[usable].reset_index(drop=True)
    problems = []
    if (data["TIME"] < 0).any() or not np.isfinite(data["TIME"]).all():
        problems.append(Violation("time_invalid", time, (), "times must be finite and >= 0"))
    if not data["EVENT"].isin((0.0, 1.0)).all():
        problems.append(Violation("event_invalid", event, (), "EVENT must be 0 or 1"))
    if problems:
        raise DataValidationError(problems)
    return Samples(data, excluded.reset_index(drop=True), units.get(time, ""), by)
