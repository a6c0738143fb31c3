"""Assign adverse events to dosing episodes (first start, step-up, restart).

Cytokine release syndrome and neurologic events cluster after the start of
an infusion and after each dose step (Topp et al., Lancet Oncol 2015; the
blinatumomab label's step dosing), so their incidence is read per episode.
The dosing timeline is the caller's: a table with one row per subject and
episode start, ``ID, DAY, EPISODE`` (``start``, ``step`` or ``restart``),
plus any columns to carry (e.g. ``CYCLE``, ``DOSE``).

Window: an event belongs to the latest episode that started on or before its
onset day (an event on the day a step-up starts belongs to the step-up),
until the next episode starts; ``max_days`` optionally ends the window that
many days after the episode start (``DAY_IN_EPISODE = START_DAY - DAY + 1``).
Events before the subject's first episode, without onset, of subjects
without episodes, or past ``max_days`` are listed in the ledger as excluded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from blinapk.data import ClinicalLedger
from blinapk.endpoints._frames import as_list, require_columns, table_ledger, with_row
from blinapk.endpoints.rates import RATE_COLUMNS, RateTable, proportion
from blinapk.errors import DataValidationError, Violation

__all__ = ["EPISODES", "AEEpisodes", "derive_ae_episodes", "summarize_ae_episodes"]

#: Episode kinds of the dosing timeline.
EPISODES: tuple[str, ...] = ("start", "step", "restart")


@dataclass(frozen=True)
class AEEpisodes:
    """Adverse events with the dosing episode each belongs to (frozen).

    Attributes
    ----------
    table : pandas.DataFrame
        Assigned events: the event columns, ``EPISODE``, ``EPISODE_DAY``
        (its start day), ``EPISODE_NUMBER`` (1, 2, ... per subject),
        ``DAY_IN_EPISODE`` and the extra episode columns.
    episodes : pandas.DataFrame
        The episode table (the denominators of :func:`summarize_ae_episodes`).
    ledger : ClinicalLedger
        Fate of every event row.
    max_days : float or None
        Window length after an episode start (None: until the next episode).
    """

    table: pd.DataFrame = field(repr=False)
    episodes: pd.DataFrame = field(repr=False)
    ledger: ClinicalLedger = field(repr=False)
    max_days: float | None = None

    def to_frame(self) -> pd.DataFrame:
        """Return a copy of the assigned events."""
        return self.table.copy()


def _check_episodes(ep: pd.DataFrame) -> None:
    checks = [
        (~ep["EPISODE"].isin(EPISODES), "episode_kind", "EPISODE",
         f"EPISODE must be one of {EPISODES}"),
        (ep["DAY"].isna(), "episode_day", "DAY", "every episode needs its start DAY"),
        (ep.duplicated(["ID", "DAY"], keep=False) & ep["DAY"].notna(), "episode_day", "DAY",
         "two episodes of one subject start on the same day"),
    ]
    problems = [Violation(rule, col, tuple(int(r) for r in ep.loc[mask, "ROW"]), text)
                for mask, rule, col, text in checks if mask.any()]
    if problems:
        raise DataValidationError(problems)


def derive_ae_episodes(
    adverse_events: pd.DataFrame, episodes: pd.DataFrame, *, max_days: float | None = None
) -> AEEpisodes:
    """Assign each adverse event to the latest episode started on or before its onset.

    Parameters
    ----------
    adverse_events : DataFrame
        Events with ``ID, START_DAY`` (e.g. the treatment-emergent ones).
    episodes : DataFrame
        ``ID, DAY, EPISODE`` (+ columns to carry, e.g. ``CYCLE``).
    max_days : float, optional
        Last day of an episode's window counted from its start (day 1 = the
        start day); None: until the next episode.

    Returns
    -------
    AEEpisodes

    Raises
    ------
    DataValidationError
        On an unknown ``EPISODE``, a missing ``DAY`` or two episodes of a
        subject on one day (rows: the episode table's ``ROW``, else 1-based
        positions).
    """
    ae = with_row(adverse_events)
    require_columns(ae, ["ID", "START_DAY"], "adverse_events")
    ep = with_row(episodes)
    require_columns(ep, ["ID", "DAY", "EPISODE"], "episodes")
    _check_episodes(ep)
    ep = ep.drop(columns="ROW").assign(DAY=ep["DAY"].astype(float))
    ep = ep.sort_values(["ID", "DAY"], kind="stable")
    ep["EPISODE_NUMBER"] = ep.groupby("ID").cumcount() + 1
    extra = [c for c in ep.columns if c not in ("ID", "DAY", "EPISODE", "EPISODE_NUMBER")]
    right = ep.rename(columns={"DAY": "EPISODE_DAY"})
    right = right[["ID", "EPISODE_DAY", "EPISODE", "EPISODE_NUMBER", *extra]]
    onset = pd.to_numeric(ae["START_DAY"], errors="coerce").astype(float)
    clash = [c for c in ("EPISODE", "EPISODE_DAY", "EPISODE_NUMBER", *extra) if c in ae.columns]
    left = ae.drop(columns=clash).assign(_ONSET=onset)
    has = left["_ONSET"].notna()
    merged = pd.merge_asof(
        left.loc[has, ["ROW", "ID", "_ONSET"]].sort_values("_ONSET", kind="stable"),
        right.sort_values("EPISODE_DAY", kind="stable"),
        left_on="_ONSET", right_on="EPISODE_DAY", by="ID", direction="backward",
    ).set_index("ROW").reindex(ae["ROW"])
    merged["DAY_IN_EPISODE"] = merged["_ONSET"] - merged["EPISODE_DAY"] + 1
    reason = pd.Series("", index=ae["ROW"], dtype=object)
    reason[merged["EPISODE"].isna().to_numpy()] = "onset before the first episode"
    reason[~ae["ID"].isin(ep["ID"]).to_numpy()] = "no episode for this subject"
    if max_days is not None:
        reason[(merged["DAY_IN_EPISODE"] > max_days).to_numpy()] = (
            f"more than {max_days:g} days after the episode start")
    reason[(~has).to_numpy()] = "START_DAY missing"
    status = np.where(reason.to_numpy() == "", "used", "excluded")
    ledger = table_ledger(ae, "adverse_events", status, reason.to_numpy())
    used = status == "used"
    info = merged.loc[used, ["EPISODE", "EPISODE_DAY", "EPISODE_NUMBER", "DAY_IN_EPISODE",
                             *extra]].reset_index(drop=True)
    info["EPISODE_NUMBER"] = info["EPISODE_NUMBER"].astype(np.int64)
    for col in extra:
        info[col] = info[col].astype(ep[col].dtype)
    table = pd.concat([left.loc[used].drop(columns="_ONSET").reset_index(drop=True), info],
                      axis=1)
    return AEEpisodes(table=table, episodes=ep.reset_index(drop=True), ledger=ledger,
                      max_days=max_days)


def summarize_ae_episodes(
    assigned: AEEpisodes,
    *,
    by: str | Sequence[str] = "EPISODE",
    category: str | None = "CATEGORY",
    min_grade: int = 1,
    conf_level: float = 0.95,
) -> RateTable:
    """Incidence per kind of episode: subjects with an event / subjects with the episode.

    Parameters
    ----------
    assigned : AEEpisodes
        From :func:`derive_ae_episodes`.
    by : str or list of str
        Episode columns to group by (``"EPISODE"``, or e.g.
        ``["CYCLE", "EPISODE"]``).
    category : str or None
        Event column to break down by (``ANY`` always included).
    min_grade : int
        Count events of at least this ``GRADE`` (1: all; 3: grade >= 3).
    conf_level : float
        Confidence level.

    Returns
    -------
    RateTable
        ``by..., CATEGORY, N_SUBJECTS, N_AT_RISK, PCT, LOWER, UPPER, REASON``.
    """
    by = as_list(by)
    ep, ev = assigned.episodes, assigned.table
    require_columns(ep, by, "episodes")
    if min_grade > 1:
        ev = ev.loc[ev["GRADE"] >= min_grade]
    cats = ["ANY"]
    if category is not None:
        require_columns(ev, [category], "adverse_events")
        cats += sorted(set(ev[category].dropna().astype(str)) - {"ANY"})
    rows = []
    for key, part in ep.groupby(by, sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        at_risk = part["ID"].nunique()
        mask = np.ones(len(ev), dtype=bool)
        for col, val in zip(by, key, strict=True):
            mask &= (ev[col] == val).to_numpy()
        for cat in cats:
            sub = ev.loc[mask] if cat == "ANY" else ev.loc[mask & (ev[category].astype(str)
                                                                  == cat).to_numpy()]
            rows.append({**dict(zip(by, key, strict=True)), "CATEGORY": cat,
                         **proportion(sub["ID"].nunique(), at_risk, conf_level)})
    table = pd.DataFrame(rows, columns=[*by, "CATEGORY", *RATE_COLUMNS])
    return RateTable(table=table, ledger=assigned.ledger,
                     settings={"by": by, "category": category, "min_grade": min_grade,
                               "max_days": assigned.max_days, "conf_level": conf_level})
