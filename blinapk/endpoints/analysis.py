"""Every endpoint of a study in one call: :func:`compute_endpoints` on a ClinicalData.

The call chains the endpoint functions of this package with one set of
options: best response and response rates, OS/RFS/TTR/DFS with Kaplan-Meier
curves in months (landmark rates at ``landmarks_months``) and log-rank tests
between the groups of ``by``, adverse-event incidence and alloHSCT outcomes.
``by`` is any column of the subjects table: the arm, a dose level, or a
grouping the user added (an exposure group, say).

The combined :class:`~blinapk.data.ClinicalLedger` lists every row of every
table given, once:

* assessments: as :func:`~blinapk.endpoints.derive_best_response` used them
  (excluded: outside the best-response window, no CYCLE/DAY);
* adverse events: as :func:`~blinapk.endpoints.derive_treatment_emergent`
  flagged them (excluded: not treatment-emergent; modified: a missing value
  read conservatively);
* subjects: ``excluded`` when an analysis left the subject out, with the
  analysis named in ``REASON`` (``"OS: no DEATH_DAY or LAST_CONTACT_DAY"``,
  ``"alloHSCT outcomes: ..."``; the subject still counts in the others);
  ``modified`` when the subject had no evaluable response assessment and
  counts as a non-responder; ``used`` otherwise. Non-responders are not
  listed as left out of RFS and TTR: those endpoints do not apply to them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from blinapk._html import html_repr
from blinapk.data import ClinicalData, ClinicalLedger, Dataset
from blinapk.endpoints._frames import as_list, table_ledger
from blinapk.endpoints.ae import compute_ae_incidence, derive_treatment_emergent
from blinapk.endpoints.best import BestResponse, derive_best_response, summarize_response
from blinapk.endpoints.episodes import derive_ae_episodes, summarize_ae_episodes
from blinapk.endpoints.hsct import compute_hsct_outcomes
from blinapk.endpoints.km import KMResult, compute_km
from blinapk.endpoints.logrank import LogRankResult, compute_logrank
from blinapk.endpoints.rates import RateTable
from blinapk.endpoints.timeline import dosing_episodes
from blinapk.endpoints.tte import TimeToEvent, derive_tte
from blinapk.errors import BlinapkError, DataValidationError, Violation

__all__ = ["EndpointResults", "compute_endpoints", "landmark_label"]

_RESPONDER_ONLY = ("RFS", "TTR")


def landmark_label(months: float) -> str:
    """Label of a landmark in the KM summary columns (``SURV_<label>``).

    Examples
    --------
    >>> landmark_label(12), landmark_label(1.5)
    ('12_MONTHS', '1.5_MONTHS')
    """
    return f"{float(months):g}_MONTHS"


@dataclass(frozen=True, eq=False)
class EndpointResults:
    """All endpoint results of one study (frozen); made by :func:`compute_endpoints`.

    Attributes
    ----------
    best : BestResponse
        Best response per subject (:func:`~blinapk.endpoints.derive_best_response`).
    response_rates : RateTable
        Response and MRD-response rates per group
        (:func:`~blinapk.endpoints.summarize_response`).
    tte : TimeToEvent
        OS, RFS, TTR, DFS per subject (:func:`~blinapk.endpoints.derive_tte`).
    km : Mapping[str, KMResult]
        Kaplan-Meier result per endpoint, times in months, landmarks
        ``SURV_<n>_MONTHS``.
    logrank : LogRankResult or None
        Log-rank tests per endpoint between the groups; None without ``by``.
    ae_incidence : RateTable or None
        Adverse-event incidence (:func:`~blinapk.endpoints.compute_ae_incidence`);
        None when no adverse-event table was given.
    hsct : RateTable
        alloHSCT incidence and mortality after it
        (:func:`~blinapk.endpoints.compute_hsct_outcomes`).
    ledger : ClinicalLedger
        Fate of every row of every table given (see the module docstring).
    settings : Mapping
        The options of the call (``by``, ``landmarks_months``, ...).
    ae_episodes : DataFrame or None
        Treatment-emergent adverse events per dosing episode (first start,
        step-up, restart) and cycle, any grade and grade >= 3
        (:func:`~blinapk.endpoints.summarize_ae_episodes`): ``MIN_GRADE,
        CYCLE, EPISODE, CATEGORY, N_SUBJECTS, N_AT_RISK, PCT, LOWER, UPPER,
        REASON``; None without the event table (``dataset``) or adverse events.
    """

    best: BestResponse = field(repr=False)
    response_rates: RateTable = field(repr=False)
    tte: TimeToEvent = field(repr=False)
    km: Mapping[str, KMResult] = field(repr=False)
    logrank: LogRankResult | None = field(repr=False)
    ae_incidence: RateTable | None = field(repr=False)
    hsct: RateTable = field(repr=False)
    ledger: ClinicalLedger = field(repr=False)
    settings: Mapping = field(default_factory=dict)
    ae_episodes: pd.DataFrame | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "km", MappingProxyType(dict(self.km)))
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))

    @property
    def by(self) -> list[str]:
        """The grouping columns (empty: one group, ``all``)."""
        return list(self.settings["by"])

    @property
    def endpoints(self) -> tuple[str, ...]:
        """The time-to-event endpoints derived, in order."""
        return tuple(self.km)

    def km_summary(self) -> pd.DataFrame:
        """KM summaries of every endpoint in one table (times in months)."""
        return _stack([km.summary() for km in self.km.values()])

    def km_curves(self) -> pd.DataFrame:
        """KM curves of every endpoint in one table (times in months)."""
        return _stack([km.to_frame() for km in self.km.values()])

    def _repr_html_(self) -> str:
        return html_repr(repr(self), ("Response rates (%)", self.response_rates.to_frame()),
                         ("Kaplan-Meier (months)", self.km_summary()),
                         note="per subject: .best, .tte; adverse events: .ae_incidence")

    def __repr__(self) -> str:
        groups = ", ".join(self.by) or "none"
        return (f"EndpointResults({len(self.best)} subjects; by: {groups}; "
                f"endpoints: {', '.join(self.endpoints)}; "
                f"adverse events: {'yes' if self.ae_incidence is not None else 'no'})")


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True)
    out.attrs["units"] = dict(frames[0].attrs.get("units", {}))
    return out


def _resolve_by(subjects: pd.DataFrame, by) -> list[str]:
    """Subject columns named by ``by`` (case-insensitive); one error naming every unknown one."""
    columns = [c for c in subjects.columns if c != "ROW"]
    upper = {c.upper(): c for c in columns}
    out, unknown = [], []
    for name in as_list(by):
        col = name if name in columns else upper.get(str(name).upper())
        (out if col is not None else unknown).append(col if col is not None else name)
    if unknown:
        raise DataValidationError([Violation(
            "by_column", name, (),
            f"grouping column {name!r} is not in the subjects table; its columns: "
            f"{', '.join(columns)}") for name in unknown])
    return list(dict.fromkeys(out))


def _subject_reasons(subjects: pd.DataFrame, best: BestResponse, tte: TimeToEvent,
                     hsct: RateTable) -> ClinicalLedger:
    """Ledger of the subjects table: analyses that left a subject out or read it conservatively."""
    responders = set(best.table.loc[best.table["CRCRH"] == 1, "ID"])
    t = tte.table
    left_out = t["TIME"].isna() & ~(t["ENDPOINT"].isin(_RESPONDER_ONLY)
                                     & ~t["ID"].isin(responders))
    excluded: dict = {}
    for row in t.loc[left_out].itertuples(index=False):
        excluded.setdefault(row.ID, []).append(f"{row.ENDPOINT}: {row.REASON}")
    if hsct.ledger is not None:
        for row in hsct.ledger.excluded().itertuples(index=False):
            excluded.setdefault(row.ID, []).append(f"alloHSCT outcomes: {row.REASON}")
    ne = best.table.loc[best.table["BEST_RESPONSE"] == "NE"].set_index("ID")["REASON"]
    status, reason = [], []
    for sid in subjects["ID"]:
        notes = excluded.get(sid, [])
        if sid in ne.index:
            notes = [*notes, f"response: {ne[sid]}; counted as a non-responder"]
        status.append("excluded" if sid in excluded else "modified" if notes else "used")
        reason.append("; ".join(notes))
    return table_ledger(subjects, "subjects", np.array(status, dtype=object),
                        np.array(reason, dtype=object))


def compute_endpoints(
    clinical: ClinicalData,
    *,
    by: str | Sequence[str] | None = None,
    landmarks_months: Sequence[float] = (12, 24, 36),
    endpoints: Sequence[str] | None = None,
    censor_at_hsct: bool | Sequence[str] = False,
    rfs_censoring: str = "assessment",
    max_cycle: int = 2,
    window_days: int = 30,
    hsct_days: int = 100,
    conf_level: float = 0.95,
    conf_type: str = "log-log",
    dataset: Dataset | None = None,
    episode_days: float | None = None,
) -> EndpointResults:
    """Compute every endpoint of a study: response, time to event, safety.

    Parameters
    ----------
    clinical : ClinicalData
        From :func:`blinapk.data.read_clinical`; the subjects table is
        needed, the assessments table for response, RFS and TTR (without
        it every subject is not evaluable), the adverse-event table for the
        AE incidence (skipped without it).
    by : str or list of str, optional
        Subjects-table column(s) to group by: ``"ARM"``, a dose level, or any
        column you added (names are case-insensitive). None: one group.
    landmarks_months : sequence of float
        Times (months) of the landmark rates in the KM summaries
        (``SURV_12_MONTHS`` ...).
    endpoints : sequence of str, optional
        Time-to-event endpoints (default all of
        :data:`~blinapk.endpoints.ENDPOINTS`).
    censor_at_hsct : bool or sequence of str
        Censor at alloHSCT (every endpoint, or those named); see
        :func:`~blinapk.endpoints.derive_tte`.
    rfs_censoring : {"assessment", "contact"}
        Where RFS and TTR without an event are censored.
    max_cycle : int
        Last cycle of the best-response window.
    window_days : int
        Treatment-emergent window after the last dose.
    hsct_days : int
        Mortality window after alloHSCT.
    conf_level : float
        Confidence level of every interval.
    conf_type : {"log-log", "log", "linear"}
        Scale of the KM band.
    dataset : Dataset, optional
        The event table of the same study: its dose records give the dosing
        episodes (:func:`~blinapk.endpoints.dosing_episodes`) to which
        treatment-emergent adverse events are assigned (``ae_episodes``).
    episode_days : float, optional
        Window of an episode in days from its start (None: until the next
        episode); see :func:`~blinapk.endpoints.derive_ae_episodes`.

    Returns
    -------
    EndpointResults

    Raises
    ------
    DataValidationError
        Rule ``by_column`` naming a ``by`` column the subjects table lacks;
        or what the endpoint functions raise (e.g. a relapse without an
        earlier CR/CRh*, contradictory days).
    BlinapkError
        Without a subjects table, or on an invalid option.

    Examples
    --------
    >>> import pandas as pd
    >>> from blinapk.data import read_clinical
    >>> subjects = pd.DataFrame({"ID": [1, 2, 3, 4], "ARM": ["A", "A", "B", "B"],
    ...     "LAST_DOSE_DAY": [70, 28, 28, 28], "LAST_CONTACT_DAY": [400, 90, 120, 300],
    ...     "DEATH_DAY": [None, 90, 120, None],
    ...     "DEATH_CAUSE": [None, "progression", "progression", None],
    ...     "RELAPSE_DAY": None, "HSCT_DAY": None})
    >>> cr = {"CYCLE": 1, "DAY": 29, "MARROW_BLAST": 3.0, "CIRC_BLAST": 0, "EXTRAMED": 0,
    ...       "PLT": 150e3, "HGB": 12.0, "ANC": 2000.0, "MRD": 5e-5}
    >>> visits = pd.DataFrame([{**cr, "ID": i} for i in (1, 2, 3, 4)]).assign(
    ...     MARROW_BLAST=[3.0, 40, 60, 2])
    >>> res = compute_endpoints(read_clinical(subjects, visits), by="arm")
    >>> res
    EndpointResults(4 subjects; by: ARM; endpoints: OS, RFS, TTR, DFS; adverse events: no)
    >>> rates = res.response_rates.to_frame()
    >>> rates.loc[rates["ENDPOINT"] == "CR/CRh*", ["ARM", "N_SUBJECTS", "N_AT_RISK"]]
       ARM  N_SUBJECTS  N_AT_RISK
    5    A           1          2
    13   B           1          2
    >>> res.km["OS"].summary()[["GROUP", "N", "EVENTS"]]
      GROUP  N  EVENTS
    0     A  2       1
    1     B  2       1
    """
    if not isinstance(clinical, ClinicalData):
        raise BlinapkError("compute_endpoints takes the ClinicalData of read_clinical(...)")
    if "subjects" not in clinical.tables:
        raise BlinapkError("compute_endpoints needs the subjects table "
                           "(read_clinical(subjects=..., ...))")
    subjects = clinical.subjects
    by = _resolve_by(subjects, by)
    keep = list(dict.fromkeys([*by, "ARM", "STUDY"]))
    best = derive_best_response(clinical.assessments, subjects, max_cycle=max_cycle, keep=keep)
    rates = summarize_response(best, by=by, conf_level=conf_level)
    tte = derive_tte(subjects, best, endpoints=endpoints, censor_at_hsct=censor_at_hsct,
                     rfs_censoring=rfs_censoring, keep=keep)
    landmarks = {landmark_label(m): float(m) for m in landmarks_months}
    km = {e: compute_km(tte.to_frame(e), by=by or None, time="TIME_MONTHS",
                        conf_level=conf_level, conf_type=conf_type, landmarks=landmarks)
          for e in tte.settings["endpoints"]}
    logrank = compute_logrank(tte, by=by, time="TIME_MONTHS") if by else None
    ae = None
    ledgers = [best.ledger]
    if "adverse_events" in clinical.tables:
        events = clinical.adverse_events
        ae = compute_ae_incidence(events, subjects, by=by,
                                  category="CATEGORY" if "CATEGORY" in events.columns else None,
                                  window_days=window_days, conf_level=conf_level)
        ledgers.append(ae.ledger)
    ae_episodes = None
    if dataset is not None and ae is not None:
        ae_episodes = _episode_incidence(
            derive_treatment_emergent(events, subjects, window_days=window_days).events(), dataset,
                                         episode_days, conf_level)
    hsct = compute_hsct_outcomes(subjects, by=by, days=hsct_days, conf_level=conf_level)
    ledger = ClinicalLedger.concat([_subject_reasons(subjects, best, tte, hsct), *ledgers])
    settings = {"by": tuple(by), "landmarks_months": tuple(float(m) for m in landmarks_months),
                "endpoints": tuple(tte.settings["endpoints"]),
                "censor_at_hsct": tuple(tte.settings["censor_at_hsct"]),
                "rfs_censoring": rfs_censoring, "max_cycle": max_cycle,
                "window_days": window_days, "hsct_days": hsct_days,
                "conf_level": conf_level, "conf_type": conf_type,
                "time_unit": "month", "episode_days": episode_days}
    return EndpointResults(best=best, response_rates=rates, tte=tte, km=km, logrank=logrank,
                           ae_incidence=ae, hsct=hsct, ledger=ledger, settings=settings,
                           ae_episodes=ae_episodes)


def _episode_incidence(te_events: pd.DataFrame, dataset: Dataset, episode_days: float | None,
                       conf_level: float) -> pd.DataFrame:
    """Incidence per cycle and dosing episode, any grade and grade >= 3, in one table."""
    assigned = derive_ae_episodes(te_events, dosing_episodes(dataset), max_days=episode_days)
    category = "CATEGORY" if "CATEGORY" in te_events.columns else None
    parts = [summarize_ae_episodes(assigned, by=["CYCLE", "EPISODE"], category=category,
                                   min_grade=g, conf_level=conf_level).to_frame()
             .assign(MIN_GRADE=g) for g in (1, 3)]
    out = pd.concat(parts, ignore_index=True)
    return out[["MIN_GRADE", *[c for c in out.columns if c != "MIN_GRADE"]]]
