"""Clinical endpoints: response, time-to-event, Kaplan-Meier, adverse events.

Input: the clinical tables (subjects, assessments, adverse events) as read
and validated by :mod:`blinapk.data`, or frames with the same upper-case
columns. Results are frozen objects with ``.to_frame()``; every row left out
is listed in a :class:`~blinapk.data.ClinicalLedger` or an ``excluded`` table.

Response (MT103-211 criteria)
    :func:`derive_response` (per assessment: CR, CRh*, PR, NR, NE),
    :func:`derive_best_response` (within cycles 1-2; CR/CRh*, MRD response),
    :func:`validate_relapse`, :func:`summarize_response` (rates with exact CIs).
Time to event
    :func:`derive_tte` (OS, RFS, TTR, DFS), :func:`compute_km` (Kaplan-Meier,
    medians, landmark rates, numbers at risk), :func:`compute_logrank`.
Safety
    :func:`derive_treatment_emergent`, :func:`compute_ae_incidence`,
    :func:`compute_hsct_outcomes`, :func:`derive_ae_episodes` and
    :func:`summarize_ae_episodes` (events per start / step-up / restart),
    :func:`dosing_episodes` (those episodes read off the event table).
All at once
    :func:`compute_endpoints` (every endpoint of a
    :class:`~blinapk.data.ClinicalData`, grouped by any subjects-table
    column) -> :class:`EndpointResults`.

See docs/endpoints.md.
"""

from blinapk.endpoints.ae import TreatmentEmergent, compute_ae_incidence, derive_treatment_emergent
from blinapk.endpoints.analysis import EndpointResults, compute_endpoints
from blinapk.endpoints.best import (
    BestResponse,
    derive_best_response,
    summarize_response,
    validate_relapse,
)
from blinapk.endpoints.episodes import AEEpisodes, derive_ae_episodes, summarize_ae_episodes
from blinapk.endpoints.hsct import compute_hsct_outcomes
from blinapk.endpoints.km import KMResult, compute_km
from blinapk.endpoints.logrank import LogRankResult, compute_logrank
from blinapk.endpoints.rates import RateTable
from blinapk.endpoints.response import (
    MT103_211,
    RESPONSES,
    ResponseAssessments,
    ResponseCriteria,
    derive_response,
)
from blinapk.endpoints.timeline import dosing_episodes
from blinapk.endpoints.tte import ENDPOINTS, TimeToEvent, derive_tte

__all__ = [
    "AEEpisodes",
    "BestResponse",
    "ENDPOINTS",
    "EndpointResults",
    "KMResult",
    "LogRankResult",
    "MT103_211",
    "RESPONSES",
    "RateTable",
    "ResponseAssessments",
    "ResponseCriteria",
    "TimeToEvent",
    "TreatmentEmergent",
    "compute_ae_incidence",
    "compute_endpoints",
    "compute_hsct_outcomes",
    "compute_km",
    "compute_logrank",
    "derive_ae_episodes",
    "dosing_episodes",
    "derive_best_response",
    "derive_response",
    "derive_treatment_emergent",
    "derive_tte",
    "summarize_ae_episodes",
    "summarize_response",
    "validate_relapse",
]
