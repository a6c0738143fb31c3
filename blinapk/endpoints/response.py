"""Response category of each bone-marrow assessment (MT103-211 criteria).

Categories (Topp et al., Lancet Oncol 2015, MT103-211; the blinatumomab
label's definitions of CR and CRh*):

``CR``
    marrow blasts <= 5 %, no circulating blasts, no extramedullary disease,
    platelets > 100,000/uL, haemoglobin >= 11 g/dL, ANC > 1,500/uL.
``CRh*``
    marrow blasts <= 5 %, no circulating blasts, no extramedullary disease,
    platelets > 50,000/uL, haemoglobin >= 7 g/dL, ANC > 500/uL, and not CR.
``PR``
    marrow blasts <= 25 %, and neither CR nor CRh* (the 50 % reduction from
    baseline some protocols add is not required; a blast-free marrow without
    the counts of CRh* is PR here).
``NR``
    marrow blasts > 25 %.
``NE``
    not evaluable: a value the rule needs is missing *and it matters*.

The missing-value rule
----------------------
A missing (NaN) value is treated as unknown, never as normal. The category
is the one every possible value of the missing items would give; when the
possibilities disagree the assessment is ``NE`` and ``REASON`` names the
missing columns and the categories still possible. So blasts 30 % with the
platelets missing is ``NR`` (no count can make it a remission), and blasts
3 % with PLT 150,000, HGB 12 and ANC missing is ``NE`` ("could be CR, CRh*
or PR"), whereas the same with PLT 30,000 is ``PR`` (the platelets already
rule out CR and CRh*). A missing value can therefore never produce a CR.

MRD response at an assessment: MRD < 1e-4 (``MRD_RESPONSE`` 1), MRD >= 1e-4
(0), MRD not done (NaN).

Examples
--------
>>> import pandas as pd
>>> a = pd.DataFrame({"ID": [1, 2, 3], "CYCLE": [1, 1, 1], "DAY": [29, 29, 29],
...                   "MARROW_BLAST": [3.0, 3.0, 30.0], "CIRC_BLAST": [0, 0, 0],
...                   "EXTRAMED": [0, 0, 0], "PLT": [150e3, 150e3, None],
...                   "HGB": [12.0, 12.0, 9.0], "ANC": [2000.0, None, 800.0],
...                   "MRD": [5e-5, None, None]})
>>> r = derive_response(a).to_frame()
>>> r[["ID", "RESPONSE", "MRD_RESPONSE"]]
   ID RESPONSE  MRD_RESPONSE
0   1       CR           1.0
1   2       NE           NaN
2   3       NR           NaN
>>> r.loc[1, "REASON"]
'ANC missing; could be CR, CRh* or PR'
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from blinapk.endpoints._frames import require_columns, with_row
from blinapk.errors import BlinapkError

__all__ = [
    "ASSESSMENT_COLUMNS",
    "MT103_211",
    "RESPONSES",
    "ResponseAssessments",
    "ResponseCriteria",
    "derive_response",
]

#: Response categories, best first; ``NE`` ranks last.
RESPONSES: tuple[str, ...] = ("CR", "CRh*", "PR", "NR", "NE")
#: Assessment columns the response rule reads.
ASSESSMENT_COLUMNS: tuple[str, ...] = (
    "MARROW_BLAST", "CIRC_BLAST", "EXTRAMED", "PLT", "HGB", "ANC",
)  # fmt: skip


@dataclass(frozen=True)
class ResponseCriteria:
    """Thresholds of the response rule (defaults: MT103-211, Topp et al. 2015).

    Comparisons are fixed: blasts ``<=``, platelets and ANC ``>``,
    haemoglobin ``>=``, MRD ``<``.

    Parameters
    ----------
    cr_blast, pr_blast : float
        Marrow blasts (%) at or below which CR/CRh* (5) and PR (25) are possible.
    cr_plt, crh_plt : float
        Platelets (/uL) above which CR (100,000) and CRh* (50,000) are possible.
    cr_hgb, crh_hgb : float
        Haemoglobin (g/dL) at or above which CR (11) and CRh* (7) are possible.
    cr_anc, crh_anc : float
        ANC (/uL) above which CR (1,500) and CRh* (500) are possible.
    mrd : float
        MRD response: MRD (fraction of nucleated cells) below this (1e-4).
    """

    cr_blast: float = 5.0
    pr_blast: float = 25.0
    cr_plt: float = 100_000.0
    crh_plt: float = 50_000.0
    cr_hgb: float = 11.0
    crh_hgb: float = 7.0
    cr_anc: float = 1_500.0
    crh_anc: float = 500.0
    mrd: float = 1e-4

    def __post_init__(self) -> None:
        # The exactness of the missing-value rule needs CR to be the stricter level.
        ok = (self.cr_blast <= self.pr_blast and self.cr_plt >= self.crh_plt
              and self.cr_hgb >= self.crh_hgb and self.cr_anc >= self.crh_anc)
        if not ok:
            raise BlinapkError("ResponseCriteria: CR thresholds must be at least as strict "
                               "as CRh* (and cr_blast <= pr_blast)")

    def probe_values(self) -> dict[str, tuple[float, ...]]:
        """One value per band of each criterion, to enumerate what a missing value could be."""
        return {
            "MARROW_BLAST": (self.cr_blast, self.pr_blast, 2 * self.pr_blast + 1),
            "CIRC_BLAST": (0.0, 1.0),
            "EXTRAMED": (0.0, 1.0),
            "PLT": (self.crh_plt, self.cr_plt, 2 * self.cr_plt + 1),
            "HGB": (self.crh_hgb / 2, self.crh_hgb, self.cr_hgb),
            "ANC": (self.crh_anc, self.cr_anc, 2 * self.cr_anc + 1),
        }


#: The default criteria (MT103-211, Topp et al., Lancet Oncol 2015).
MT103_211 = ResponseCriteria()

# Three-valued truth: FALSE < UNKNOWN < TRUE, so AND is the minimum (Kleene).
_F, _U, _T = 0, 1, 2


def _truth(values: np.ndarray, passes: np.ndarray) -> np.ndarray:
    out = np.where(passes, _T, _F)
    return np.where(np.isnan(values), _U, out)


def _classify(v: dict[str, np.ndarray], c: ResponseCriteria) -> np.ndarray:
    """Category per row from float arrays (NaN = unknown); see the module docstring."""
    with np.errstate(invalid="ignore"):
        b5 = _truth(v["MARROW_BLAST"], v["MARROW_BLAST"] <= c.cr_blast)
        b25 = _truth(v["MARROW_BLAST"], v["MARROW_BLAST"] <= c.pr_blast)
        clear = np.minimum.reduce([b5, _truth(v["CIRC_BLAST"], v["CIRC_BLAST"] == 0),
                                   _truth(v["EXTRAMED"], v["EXTRAMED"] == 0)])
        cr = np.minimum.reduce([clear, _truth(v["PLT"], v["PLT"] > c.cr_plt),
                                _truth(v["HGB"], v["HGB"] >= c.cr_hgb),
                                _truth(v["ANC"], v["ANC"] > c.cr_anc)])
        crh = np.minimum.reduce([clear, _truth(v["PLT"], v["PLT"] > c.crh_plt),
                                 _truth(v["HGB"], v["HGB"] >= c.crh_hgb),
                                 _truth(v["ANC"], v["ANC"] > c.crh_anc)])
    # Each of cr, crh and b25 is a conjunction over distinct variables, for which
    # Kleene logic is exact: TRUE/FALSE iff every completion of the unknowns agrees.
    conditions = [cr == _T, (cr == _F) & (crh == _T),
                  (cr == _F) & (crh == _F) & (b25 == _T), b25 == _F]
    return np.select(conditions, ["CR", "CRh*", "PR", "NR"], default="NE").astype(object)


def _possible(row: dict[str, float], c: ResponseCriteria) -> list[str]:
    """Categories the unknown values of one row could still give, best first."""
    probes = c.probe_values()
    missing = [k for k in ASSESSMENT_COLUMNS if np.isnan(row[k])]
    grid = list(itertools.product(*(probes[k] for k in missing)))
    values = {k: np.full(len(grid), row[k]) for k in ASSESSMENT_COLUMNS}
    for j, k in enumerate(missing):
        values[k] = np.array([g[j] for g in grid])
    found = set(_classify(values, c))
    return [r for r in RESPONSES if r in found]


def _or_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


@dataclass(frozen=True)
class ResponseAssessments:
    """Response category of every assessment row (frozen).

    Attributes
    ----------
    table : pandas.DataFrame
        ``ROW, ID, CYCLE, DAY, RESPONSE, POSSIBLE, MRD_RESPONSE, REASON``;
        ``POSSIBLE`` lists the categories the row could have (``"|"``-joined;
        the category itself unless NE); ``REASON`` is empty unless NE.
    criteria : ResponseCriteria
        The thresholds used.
    """

    table: pd.DataFrame = field(repr=False)
    criteria: ResponseCriteria = MT103_211

    def to_frame(self) -> pd.DataFrame:
        """Return a copy of the per-assessment table."""
        return self.table.copy()

    def __len__(self) -> int:
        return len(self.table)


def derive_response(
    assessments: pd.DataFrame, *, criteria: ResponseCriteria = MT103_211
) -> ResponseAssessments:
    """Derive the response category and MRD response of every assessment.

    Parameters
    ----------
    assessments : DataFrame
        The assessments table: ``ID, CYCLE, DAY, MARROW_BLAST, CIRC_BLAST,
        EXTRAMED, PLT, HGB, ANC`` and optionally ``MRD`` and ``ROW`` (1-based;
        numbered in order when absent). Not modified.
    criteria : ResponseCriteria
        Thresholds; default MT103-211.

    Returns
    -------
    ResponseAssessments
        One row per input row, in input order.
    """
    frame = with_row(assessments)
    require_columns(frame, ["ID", "CYCLE", "DAY", *ASSESSMENT_COLUMNS], "assessments")
    values = {k: pd.to_numeric(frame[k], errors="coerce").to_numpy(dtype=float)
              for k in ASSESSMENT_COLUMNS}
    response = _classify(values, criteria)
    possible = response.copy()
    reason = np.full(len(frame), "", dtype=object)
    for i in np.flatnonzero(response == "NE"):
        row = {k: values[k][i] for k in ASSESSMENT_COLUMNS}
        could = _possible(row, criteria)
        missing = [k for k in ASSESSMENT_COLUMNS if np.isnan(row[k])]
        possible[i] = "|".join(could)
        reason[i] = f"{', '.join(missing)} missing; could be {_or_list(could)}"
    mrd = (pd.to_numeric(frame["MRD"], errors="coerce").to_numpy(dtype=float)
           if "MRD" in frame.columns else np.full(len(frame), np.nan))
    mrd_response = np.where(np.isnan(mrd), np.nan, (mrd < criteria.mrd).astype(float))
    table = pd.DataFrame({
        "ROW": frame["ROW"].to_numpy(), "ID": frame["ID"].to_numpy(),
        "CYCLE": frame["CYCLE"].to_numpy(), "DAY": frame["DAY"].to_numpy(),
        "RESPONSE": response, "POSSIBLE": possible, "MRD_RESPONSE": mrd_response,
        "REASON": reason,
    })
    return ResponseAssessments(table=table, criteria=criteria)
