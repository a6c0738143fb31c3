"""Noncompartmental analysis for blinatumomab.

Steady state (the blinatumomab workhorse)
    :func:`compute_css` -> :class:`CssResult`: Css per subject x cycle x
    constant-rate segment and CL = 1000 R0 / Css, with a row ledger.
BLQ rules
    :mod:`blinapk.nca.blq`: ``"seed"`` (default), ``"exclude"``, ``"lloq/2"``,
    ``"lod/2"``, ``"lloq"``, ``"pknca"``; :func:`get_blq_policy`.
Cytokines
    :func:`compute_cytokine_peaks` -> :class:`CytokinePeaks`: baseline, peak,
    time of peak, fold change and 0-48 h AUC after each start / step-up.
General NCA
    :func:`compute_nca` with the parameter :class:`Registry` (Cmax, AUC,
    lambda_z, half-life ...), after PKNCA.
Summaries and export
    :func:`summarize` (n, mean, SD, CV %, geometric mean and CV %, median,
    range) and :func:`to_pp` (CDISC PP-like table).

See docs/nca.md.
"""

from blinapk.nca.blq import BLQ_POLICIES, BLQPolicy, get_blq_policy
from blinapk.nca.cytokines import CYTOKINES, CytokinePeaks, compute_cytokine_peaks
from blinapk.nca.export import to_pp
from blinapk.nca.general import DEFAULT_REGISTRY, NCAResult, compute_nca
from blinapk.nca.intervals import Interval
from blinapk.nca.lambda_z import LambdaZOptions
from blinapk.nca.registry import NotEstimable, ParameterSpec, Registry, nca_parameter, not_estimable
from blinapk.nca.steady_state import CssResult, clearance_from_css, compute_css
from blinapk.nca.summary import Summary, summarize

__all__ = [
    "BLQ_POLICIES",
    "BLQPolicy",
    "CYTOKINES",
    "CssResult",
    "CytokinePeaks",
    "DEFAULT_REGISTRY",
    "Interval",
    "LambdaZOptions",
    "NCAResult",
    "NotEstimable",
    "ParameterSpec",
    "Registry",
    "Summary",
    "clearance_from_css",
    "compute_css",
    "compute_cytokine_peaks",
    "compute_nca",
    "get_blq_policy",
    "nca_parameter",
    "not_estimable",
    "summarize",
    "to_pp",
]
