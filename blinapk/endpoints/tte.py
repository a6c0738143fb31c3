"""Time-to-event endpoints from the subjects table and the best response.

Times are durations in days counting both the start and the end day
(CDISC ADaM ADTTE: ``AVAL = ADT - STARTDT + 1``), so a death on study day 30
gives OS = 30 days; ``TIME_MONTHS = TIME / 30.4375`` (365.25 / 12 days).
``EVENT`` is 1 for an event and 0 for censoring; a subject an endpoint does
not apply to (e.g. a non-responder for RFS) or whose end day is unknown has
NaN ``TIME``/``EVENT`` and a ``REASON``. Each row says why it is an event or
why and where it is censored.

Endpoints
---------
``OS``
    Overall survival (MT103-211, Topp et al., Lancet Oncol 2015; TOWER,
    Kantarjian et al., NEJM 2017): day 1 (first infusion, or randomisation
    when that is the study's day 1) to death from any cause; alive:
    censored at ``LAST_CONTACT_DAY``.
``RFS``
    Relapse-free survival (MT103-211), responders only (CR/CRh* within the
    best-response window): from the first CR/CRh* to relapse or death from
    any cause. No event: censored at the last assessment confirming
    remission (the last CR/CRh* assessment, any cycle; ``rfs_censoring=
    "assessment"``, default) or at ``LAST_CONTACT_DAY`` (``"contact"``).
``TTR``
    Time to haematological relapse (MT103-211), responders only: from the
    first CR/CRh* to relapse or death due to progression (a death without
    ``DEATH_CAUSE`` counts as progression, the conservative reading); death
    from other causes is censored on its day; otherwise censored as RFS.
``DFS``
    Disease-free survival (AALL1331, Brown et al., JAMA 2021): day 1
    (randomisation) to relapse or death in remission (any death before a
    relapse); alive without relapse: censored at ``LAST_CONTACT_DAY``.
    Second malignancies are not in the subjects table and are not events.

alloHSCT: by default follow-up continues through a transplant (the trials'
primary analyses); ``censor_at_hsct=True`` (or a list of endpoints) censors
at ``HSCT_DAY`` when the transplant falls after the start and before the end
day of the endpoint (an event on the transplant day still counts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from blinapk.endpoints._frames import DAYS_PER_MONTH, as_list, subject_index
from blinapk.endpoints.best import BestResponse, validate_relapse
from blinapk.errors import BlinapkError, DataValidationError, Violation

__all__ = ["ENDPOINTS", "TimeToEvent", "derive_tte"]

#: Endpoints :func:`derive_tte` derives, in output order.
ENDPOINTS: tuple[str, ...] = ("OS", "RFS", "TTR", "DFS")
_NEEDS_RESPONSE = ("RFS", "TTR")
_RESPONDER = "not a responder (no CR/CRh* in the best-response window)"


@dataclass(frozen=True)
class _Outcome:
    start: float  # study day follow-up starts
    end: float  # study day of the event or censoring (NaN: not estimable)
    event: float  # 1, 0 or NaN
    reason: str
    end_column: str = ""  # subjects column the end day came from


def _num(s: pd.Series, col: str) -> float:
    v = s.get(col, np.nan)
    return float(v) if pd.notna(v) else np.nan


def _death_reason(s: pd.Series) -> str:
    cause = s.get("DEATH_CAUSE", np.nan)
    return f"death ({cause})" if pd.notna(cause) else "death (cause unknown)"


def _os(s: pd.Series, remission: dict) -> _Outcome:
    death, contact = _num(s, "DEATH_DAY"), _num(s, "LAST_CONTACT_DAY")
    if not np.isnan(death):
        return _Outcome(1, death, 1, _death_reason(s), "DEATH_DAY")
    if not np.isnan(contact):
        return _Outcome(1, contact, 0, "alive at last contact", "LAST_CONTACT_DAY")
    return _Outcome(1, np.nan, np.nan, "no DEATH_DAY or LAST_CONTACT_DAY")


def _dfs(s: pd.Series, remission: dict) -> _Outcome:
    relapse, death = _num(s, "RELAPSE_DAY"), _num(s, "DEATH_DAY")
    if not np.isnan(relapse) and not relapse > death:
        return _Outcome(1, relapse, 1, "relapse", "RELAPSE_DAY")
    if not np.isnan(death):
        return _Outcome(1, death, 1, f"{_death_reason(s)} in remission", "DEATH_DAY")
    contact = _num(s, "LAST_CONTACT_DAY")
    if not np.isnan(contact):
        return _Outcome(1, contact, 0, "alive without relapse at last contact",
                        "LAST_CONTACT_DAY")
    return _Outcome(1, np.nan, np.nan, "no RELAPSE_DAY, DEATH_DAY or LAST_CONTACT_DAY")


def _responder_censor(s: pd.Series, remission: dict, start: float, how: str) -> _Outcome:
    if how == "contact":
        contact = _num(s, "LAST_CONTACT_DAY")
        if np.isnan(contact):
            return _Outcome(start, np.nan, np.nan, "no LAST_CONTACT_DAY")
        return _Outcome(start, contact, 0, "relapse-free at last contact", "LAST_CONTACT_DAY")
    last = remission["last"].get(s["ID"], start)
    return _Outcome(start, last, 0, f"relapse-free at the last CR/CRh* assessment (day {last:g})",
                    "DAY")


def _rfs(s: pd.Series, remission: dict, how: str = "assessment") -> _Outcome:
    start = remission["first"].get(s["ID"], np.nan)
    if np.isnan(start):
        return _Outcome(np.nan, np.nan, np.nan, _RESPONDER)
    relapse, death = _num(s, "RELAPSE_DAY"), _num(s, "DEATH_DAY")
    if not np.isnan(relapse) and not relapse > death:
        return _Outcome(start, relapse, 1, "relapse", "RELAPSE_DAY")
    if not np.isnan(death):
        return _Outcome(start, death, 1, f"{_death_reason(s)} without relapse", "DEATH_DAY")
    return _responder_censor(s, remission, start, how)


def _ttr(s: pd.Series, remission: dict, how: str = "assessment") -> _Outcome:
    start = remission["first"].get(s["ID"], np.nan)
    if np.isnan(start):
        return _Outcome(np.nan, np.nan, np.nan, _RESPONDER)
    relapse, death = _num(s, "RELAPSE_DAY"), _num(s, "DEATH_DAY")
    if not np.isnan(relapse) and not relapse > death:
        return _Outcome(start, relapse, 1, "relapse", "RELAPSE_DAY")
    if not np.isnan(death):
        cause = s.get("DEATH_CAUSE", np.nan)
        if cause == "other":
            return _Outcome(start, death, 0, "death from other causes (censored)", "DEATH_DAY")
        return _Outcome(start, death, 1, _death_reason(s) + (
            "" if cause == "progression" else ", counted as progression"), "DEATH_DAY")
    return _responder_censor(s, remission, start, how)


def _hsct(outcome: _Outcome, hsct: float) -> _Outcome:
    if np.isnan(outcome.end) or np.isnan(hsct) or not outcome.start <= hsct < outcome.end:
        return outcome
    return _Outcome(outcome.start, hsct, 0, "censored at alloHSCT", "HSCT_DAY")


def _day_violations(subj: pd.DataFrame) -> list[Violation]:
    out = []
    pairs = [("LAST_CONTACT_DAY", "contact_after_death", "last contact after death"),
             ("RELAPSE_DAY", "relapse_after_death", "relapse after death"),
             ("HSCT_DAY", "hsct_after_death", "alloHSCT after death")]
    if "DEATH_DAY" in subj.columns:
        for col, rule, text in pairs:
            if col in subj.columns:
                bad = subj.loc[subj[col] > subj["DEATH_DAY"], "ROW"]
                if len(bad):
                    out.append(Violation(rule, col, tuple(int(r) for r in bad), text))
    return out


@dataclass(frozen=True)
class TimeToEvent:
    """Time-to-event data, one row per subject x endpoint (frozen).

    Attributes
    ----------
    table : pandas.DataFrame
        ``ID`` (+ kept subject columns), ``ENDPOINT, TIME`` (day),
        ``TIME_MONTHS`` (month = 30.4375 d), ``EVENT`` (1/0/NaN), ``REASON``,
        ``START_DAY, END_DAY`` (study days).
    settings : dict
        Arguments of :func:`derive_tte`.
    units : dict
        Unit of each time column.
    """

    table: pd.DataFrame = field(repr=False)
    settings: dict = field(default_factory=dict)
    units: dict = field(default_factory=lambda: {"TIME": "day", "TIME_MONTHS": "month"})

    def to_frame(self, endpoint: str | None = None) -> pd.DataFrame:
        """Return a copy of the table, optionally of one endpoint only."""
        t = self.table if endpoint is None else self.table.loc[self.table["ENDPOINT"] == endpoint]
        out = t.reset_index(drop=True).copy()
        out.attrs["units"] = dict(self.units)
        return out

    def __len__(self) -> int:
        return len(self.table)


def derive_tte(
    subjects: pd.DataFrame,
    best: BestResponse | None = None,
    *,
    endpoints: Iterable[str] | None = None,
    censor_at_hsct: bool | Iterable[str] = False,
    rfs_censoring: str = "assessment",
    keep: str | list[str] | None = ("ARM", "STUDY"),
) -> TimeToEvent:
    """Derive OS, RFS, time to relapse and DFS for every subject.

    Parameters
    ----------
    subjects : DataFrame
        The subjects table (``ID, LAST_CONTACT_DAY, DEATH_DAY, DEATH_CAUSE,
        RELAPSE_DAY, HSCT_DAY``; absent optional columns count as empty).
    best : BestResponse, optional
        From :func:`~blinapk.endpoints.derive_best_response`; needed for RFS
        and TTR (responders and their first remission day).
    endpoints : iterable of str, optional
        Subset of :data:`ENDPOINTS`; default all (OS and DFS only without
        ``best``).
    censor_at_hsct : bool or iterable of str
        Censor at alloHSCT: False (default), True (every endpoint) or the
        endpoints to censor.
    rfs_censoring : {"assessment", "contact"}
        Where RFS/TTR without an event is censored: last CR/CRh* assessment
        (default) or last contact.
    keep : str or list of str, optional
        Subject columns copied into the result when present (e.g. ``ARM``).

    Returns
    -------
    TimeToEvent

    Raises
    ------
    DataValidationError
        If a day contradicts another (contact, relapse or alloHSCT after
        death; an end day before the start) -- every violation at once; or
        a relapse without an earlier CR/CRh* (with ``best``).
    BlinapkError
        On an unknown endpoint or option, or RFS/TTR requested without ``best``.
    """
    subj = subject_index(subjects)
    wanted = list(endpoints) if endpoints is not None else [
        e for e in ENDPOINTS if best is not None or e not in _NEEDS_RESPONSE]
    unknown = [e for e in wanted if e not in ENDPOINTS]
    if unknown:
        raise BlinapkError(f"unknown endpoint(s) {unknown}; choose from {ENDPOINTS}")
    if best is None and any(e in _NEEDS_RESPONSE for e in wanted):
        raise BlinapkError("RFS and TTR need the best response (best=derive_best_response(...))")
    if rfs_censoring not in ("assessment", "contact"):
        raise BlinapkError(
            f"rfs_censoring must be 'assessment' or 'contact', not {rfs_censoring!r}")
    hsct_for = set(ENDPOINTS if censor_at_hsct is True else () if censor_at_hsct is False
                   else censor_at_hsct)
    if best is not None:
        validate_relapse(subjects, best.assessments)
    violations = _day_violations(subj)
    remission = _remission_days(best)
    rules: dict[str, Callable] = {
        "OS": _os, "DFS": _dfs,
        "RFS": lambda s, r: _rfs(s, r, rfs_censoring),
        "TTR": lambda s, r: _ttr(s, r, rfs_censoring),
    }
    rows, early = [], {}
    for endpoint in [e for e in ENDPOINTS if e in wanted]:
        for _, s in subj.iterrows():
            o = rules[endpoint](s, remission)
            if endpoint in hsct_for:
                o = _hsct(o, _num(s, "HSCT_DAY"))
            if o.end < o.start:
                early.setdefault(o.end_column, set()).add(int(s["ROW"]))
            rows.append({"ID": s["ID"], "ENDPOINT": endpoint, "TIME": o.end - o.start + 1,
                         "EVENT": o.event, "REASON": o.reason, "START_DAY": o.start,
                         "END_DAY": o.end})
    violations += [Violation("end_before_start", col, tuple(sorted(r)),
                             "an endpoint would end before it starts") for col, r in early.items()]
    if violations:
        raise DataValidationError(violations)
    table = pd.DataFrame(rows, columns=["ID", "ENDPOINT", "TIME", "EVENT", "REASON",
                                        "START_DAY", "END_DAY"])
    table.insert(3, "TIME_MONTHS", table["TIME"] / DAYS_PER_MONTH)
    for col in reversed([c for c in as_list(keep) if c in subj.columns]):
        table.insert(1, col, subj.loc[table["ID"], col].to_numpy())
    settings = {"endpoints": [e for e in ENDPOINTS if e in wanted],
                "censor_at_hsct": sorted(hsct_for), "rfs_censoring": rfs_censoring}
    return TimeToEvent(table=table, settings=settings)


def _remission_days(best: BestResponse | None) -> dict:
    """First remission day (window) and last CR/CRh* day (any cycle) per responder."""
    if best is None:
        return {"first": {}, "last": {}}
    t = best.table
    first = t.loc[t["CRCRH"] == 1].set_index("ID")["FIRST_REMISSION_DAY"]
    resp = best.assessments.table
    cr = resp.loc[resp["RESPONSE"].isin(("CR", "CRh*")) & resp["ID"].isin(first.index)]
    last = cr.groupby("ID")["DAY"].max()
    return {"first": first.astype(float).to_dict(), "last": last.astype(float).to_dict()}
