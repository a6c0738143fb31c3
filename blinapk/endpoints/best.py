"""Best response within the first cycles, MRD response, and response rates.

Best response (MT103-211, Topp et al., Lancet Oncol 2015: "CR/CRh* within
the first two cycles") is the best category over a subject's assessments of
cycles 1..``max_cycle`` in the order CR > CRh* > PR > NR. Not-evaluable
assessments (``NE``) are skipped: a subject is ``NE`` only when no assessment
in the window is evaluable (or there is none); ``N_NE`` counts them and
``BEST_POSSIBLE`` says what the best response could have been had the
missing values been favourable (a sensitivity view).

``CRCRH`` is 1 for a best response of CR or CRh* (0 otherwise, NE
included: non-evaluable subjects stay in the all-treated denominator);
``FIRST_REMISSION_DAY`` is the day of the first CR/CRh* in the window.
``MRD_RESPONSE`` is 1 when MRD < 1e-4 at any assessment in the window, 0
when MRD was measured there but never below 1e-4, and NaN when it was not
measured (``MRD_REASON`` says so); in rates, not measured counts as no
response. Rates state their denominator: all treated (every subject of the
table) or the CR/CRh* responders.

A relapse (``RELAPSE_DAY``) is by definition a relapse *after* CR/CRh*;
:func:`validate_relapse` rejects a subject whose relapse has no earlier
CR/CRh* assessment (any cycle).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from blinapk.data import ClinicalLedger
from blinapk.endpoints._frames import as_list, subject_index, table_ledger
from blinapk.endpoints.rates import RATE_COLUMNS, RateTable, proportion
from blinapk.endpoints.response import (
    MT103_211,
    RESPONSES,
    ResponseAssessments,
    ResponseCriteria,
    derive_response,
)
from blinapk.errors import DataValidationError, Violation

__all__ = [
    "BestResponse",
    "derive_best_response",
    "summarize_response",
    "validate_relapse",
]

_RANK = {r: i for i, r in enumerate(RESPONSES)}
_REMISSION = ("CR", "CRh*")


@dataclass(frozen=True)
class BestResponse:
    """Best response per subject (frozen).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per subject: ``ID`` (+ kept subject columns, e.g. ``ARM``),
        ``BEST_RESPONSE, BEST_DAY, BEST_POSSIBLE, CRCRH, FIRST_REMISSION_DAY,
        MRD_RESPONSE, MRD_DAY, N_ASSESSMENTS, N_NE, REASON, MRD_REASON``.
    assessments : ResponseAssessments
        Every assessment's category (all cycles).
    ledger : ClinicalLedger
        Fate of every assessment row (excluded: outside the window, no
        CYCLE/DAY, unknown subject).
    max_cycle : int
        Last cycle of the window.
    """

    table: pd.DataFrame = field(repr=False)
    assessments: ResponseAssessments = field(repr=False)
    ledger: ClinicalLedger = field(repr=False)
    max_cycle: int = 2

    def to_frame(self) -> pd.DataFrame:
        """Return a copy of the per-subject table."""
        return self.table.copy()

    def __len__(self) -> int:
        return len(self.table)


def _window_status(resp: pd.DataFrame, max_cycle: int, known_ids) -> tuple[np.ndarray, np.ndarray]:
    n = len(resp)
    status, reason = np.full(n, "used", dtype=object), np.full(n, "", dtype=object)
    checks = [
        (resp["CYCLE"].isna().to_numpy(), "CYCLE missing"),
        (resp["DAY"].isna().to_numpy(), "DAY missing"),
        ((resp["CYCLE"] > max_cycle).to_numpy(),
         f"cycle > {max_cycle}: outside the best-response window"),
    ]
    if known_ids is not None:
        checks.append((~resp["ID"].isin(known_ids).to_numpy(), "ID not in the subjects table"))
    for mask, text in reversed(checks):  # the first applicable reason wins
        status[mask], reason[mask] = "excluded", text
    return status, reason


def _first(pos: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    """Index of the first row (in row order) with ``mask`` per subject position; -1 if none."""
    rows = np.flatnonzero(mask)
    first = np.full(n, -1)
    # reversed assignment: the earliest row of each subject is written last
    first[pos[rows][::-1]] = rows[::-1]
    return first


def _pick(values: np.ndarray, index: np.ndarray) -> list:
    """``values[index]`` per subject, NaN where ``index`` is -1 (numpy scalars, as ``.iloc``)."""
    return [values[i] if i >= 0 else np.nan for i in index]


def _best_rows(inside: pd.DataFrame, ids: list, max_cycle: int) -> list[dict]:
    """One dict per subject of ``ids`` from its assessments in the window.

    ``inside`` holds the window's assessments sorted by ``ID, DAY, ROW``;
    every ID in it is in ``ids``. All subjects at once: the first row of a
    subject with a property is found with one pass over the rows.
    """
    window = f"cycles 1-{max_cycle}"
    n = len(ids)
    pos = pd.Index(ids).get_indexer(inside["ID"])
    response = inside["RESPONSE"].to_numpy(dtype=object)
    day = inside["DAY"].to_numpy()
    n_rows = np.bincount(pos, minlength=n)
    ne = response == "NE"
    n_ne = np.bincount(pos, weights=ne, minlength=n).astype(int)
    rank = np.where(ne, len(RESPONSES), pd.Series(response).map(_RANK).to_numpy(dtype=float))
    # best: the first row of the lowest rank among evaluable rows
    best_rank = np.full(n, float(len(RESPONSES)))
    np.minimum.at(best_rank, pos, rank)
    best = _first(pos, ~ne & (rank == best_rank[pos]), n)
    # one token per row and category it could have; the index is the row's position
    tokens = pd.Series(inside["POSSIBLE"].to_numpy()).str.split("|").explode()
    possible = np.full(n, len(RESPONSES))
    np.minimum.at(possible, pos[tokens.index.to_numpy()], tokens.map(_RANK).to_numpy(dtype=int))
    remission = _first(pos, np.isin(response, _REMISSION), n)
    mrd = inside["MRD_RESPONSE"].to_numpy(dtype=float)
    measured = np.bincount(pos, weights=~np.isnan(mrd), minlength=n) > 0
    hit = _first(pos, mrd == 1, n)
    best_day, first_remission, mrd_day = _pick(day, best), _pick(day, remission), _pick(day, hit)
    rows = []
    for k, subject in enumerate(ids):
        if best[k] >= 0:
            category, reason = response[best[k]], ""
        else:
            category = "NE"
            reason = (f"no assessment in {window}" if n_rows[k] == 0
                      else f"no evaluable assessment in {window}")
        rows.append({
            "ID": subject, "N_ASSESSMENTS": int(n_rows[k]), "N_NE": int(n_ne[k]),
            "BEST_RESPONSE": category, "BEST_DAY": best_day[k], "REASON": reason,
            "BEST_POSSIBLE": RESPONSES[possible[k]] if n_rows[k] else "NE",
            "CRCRH": int(category in _REMISSION), "FIRST_REMISSION_DAY": first_remission[k],
            "MRD_RESPONSE": float(hit[k] >= 0) if measured[k] else np.nan,
            "MRD_DAY": mrd_day[k],
            "MRD_REASON": "" if measured[k] else f"MRD not done in {window}",
        })
    return rows


_BEST_COLUMNS = ("BEST_RESPONSE", "BEST_DAY", "BEST_POSSIBLE", "CRCRH", "FIRST_REMISSION_DAY",
                 "MRD_RESPONSE", "MRD_DAY", "N_ASSESSMENTS", "N_NE", "REASON", "MRD_REASON")


def derive_best_response(
    assessments: pd.DataFrame,
    subjects: pd.DataFrame | None = None,
    *,
    max_cycle: int = 2,
    keep: str | list[str] | None = ("ARM", "STUDY"),
    criteria: ResponseCriteria = MT103_211,
) -> BestResponse:
    """Derive each subject's best response, CR/CRh* flag and MRD response.

    Parameters
    ----------
    assessments : DataFrame
        The assessments table (see :func:`~blinapk.endpoints.derive_response`).
    subjects : DataFrame, optional
        The subjects table. When given, the result has one row per subject
        (those without assessments are ``NE``), assessments of unknown
        subjects are excluded, and :func:`validate_relapse` runs.
    max_cycle : int
        Last cycle of the best-response window (2: "within 2 cycles").
    keep : str or list of str, optional
        Subject columns copied into the result when present (for ``by=``).
    criteria : ResponseCriteria
        Thresholds; default MT103-211.

    Returns
    -------
    BestResponse

    Raises
    ------
    DataValidationError
        From :func:`validate_relapse`.
    """
    responses = derive_response(assessments, criteria=criteria)
    resp = responses.table
    subj = subject_index(subjects) if subjects is not None else None
    status, reason = _window_status(resp, max_cycle, None if subj is None else subj.index)
    ledger = table_ledger(resp, "assessments", status, reason)
    inside = resp.loc[status == "used"].sort_values(["ID", "DAY", "ROW"], kind="stable")
    ids = list(subj.index) if subj is not None else list(pd.unique(resp["ID"]))
    table = pd.DataFrame(_best_rows(inside, ids, max_cycle), columns=["ID", *_BEST_COLUMNS])
    if subj is not None:
        validate_relapse(subjects, responses)
        for col in reversed([c for c in as_list(keep) if c in subj.columns]):
            table.insert(1, col, subj.loc[ids, col].to_numpy())
    return BestResponse(table=table, assessments=responses, ledger=ledger, max_cycle=max_cycle)


def validate_relapse(subjects: pd.DataFrame, responses: ResponseAssessments) -> None:
    """Raise unless every recorded relapse follows a CR/CRh* assessment.

    Parameters
    ----------
    subjects : DataFrame
        The subjects table (``ID``, ``RELAPSE_DAY``; ``ROW`` for messages).
    responses : ResponseAssessments
        From :func:`~blinapk.endpoints.derive_response` (all cycles).

    Raises
    ------
    DataValidationError
        Rule ``relapse_without_remission`` on column ``RELAPSE_DAY`` with the
        subjects-table rows of subjects whose relapse day has no CR/CRh*
        assessment strictly before it.
    """
    subj = subject_index(subjects)
    if "RELAPSE_DAY" not in subj.columns:
        return
    relapsed = subj.loc[subj["RELAPSE_DAY"].notna()]
    resp = responses.table
    remission = resp.loc[resp["RESPONSE"].isin(_REMISSION)].groupby("ID")["DAY"].min()
    first = relapsed["ID"].map(remission)
    bad = relapsed.loc[~(first < relapsed["RELAPSE_DAY"])]
    if not bad.empty:
        ids = ", ".join(str(i) for i in bad["ID"].tolist()[:10])
        raise DataValidationError([Violation(
            "relapse_without_remission", "RELAPSE_DAY", tuple(int(r) for r in bad["ROW"]),
            f"relapse recorded without an earlier CR/CRh* assessment (ID {ids})",
        )])


def _rate_rows(table: pd.DataFrame, conf_level: float) -> list[dict]:
    n = len(table)
    responders = table["CRCRH"] == 1
    mrd = table["MRD_RESPONSE"] == 1  # NaN (not done) counts as no response
    rows = []
    for cat in RESPONSES:
        rows.append({"ENDPOINT": cat, "DENOMINATOR": "all treated",
                     **proportion((table["BEST_RESPONSE"] == cat).sum(), n, conf_level)})
    rows.append({"ENDPOINT": "CR/CRh*", "DENOMINATOR": "all treated",
                 **proportion(responders.sum(), n, conf_level)})
    rows.append({"ENDPOINT": "MRD response", "DENOMINATOR": "all treated",
                 **proportion(mrd.sum(), n, conf_level)})
    rows.append({"ENDPOINT": "MRD response", "DENOMINATOR": "CR/CRh*",
                 **proportion((mrd & responders).sum(), responders.sum(), conf_level)})
    return rows


def summarize_response(
    best: BestResponse, *, by: str | list[str] | None = None, conf_level: float = 0.95
) -> RateTable:
    """Response and MRD-response rates with exact (Clopper-Pearson) CIs.

    Parameters
    ----------
    best : BestResponse
        From :func:`derive_best_response`.
    by : str or list of str, optional
        Columns of ``best.table`` to group by (e.g. ``"ARM"``, kept from the
        subjects table).
    conf_level : float
        Confidence level.

    Returns
    -------
    RateTable
        Rows per group: each category of ``RESPONSES`` and ``CR/CRh*`` over
        all treated, ``MRD response`` over all treated and over CR/CRh*
        (``DENOMINATOR`` says which).
    """
    by = as_list(by)
    table = best.table
    parts = table.groupby(by, sort=True, dropna=False) if by else [((), table)]
    rows = []
    for key, part in parts:
        key = key if isinstance(key, tuple) else (key,)
        rows += [{**dict(zip(by, key, strict=True)), **r} for r in _rate_rows(part, conf_level)]
    out = pd.DataFrame(rows, columns=[*by, "ENDPOINT", "DENOMINATOR", *RATE_COLUMNS])
    return RateTable(table=out, settings={"by": by, "conf_level": conf_level,
                                          "max_cycle": best.max_cycle})
