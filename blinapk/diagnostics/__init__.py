"""Model diagnostics: MCMC convergence gates (:mod:`blinapk.diagnostics.convergence`)."""

from blinapk.diagnostics.convergence import (
    ConvergenceGates,
    ConvergenceReport,
    GateResult,
    check_convergence,
    warn_if_failed,
)

__all__ = [
    "ConvergenceGates",
    "ConvergenceReport",
    "GateResult",
    "check_convergence",
    "warn_if_failed",
]
