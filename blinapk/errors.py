"""Error and warning classes users can catch and filter.

The hierarchy is deliberately small, so that one ``except`` clause per kind
of problem is enough::

    BlinapkError (Exception)
    ├── DataValidationError (also ValueError)  bad dataset rows/columns
    ├── ModelSpecError (also ValueError)       bad model card, prior or spec
    └── UnitError (also ValueError)            unknown or inconsistent units
    BlinapkWarning (UserWarning)
    ├── ConvergenceWarning                     sampler diagnostics failed
    ├── NCAWarning                             NCA value not estimable, etc.
    ├── DataWarning                            suspicious but valid data
    └── DiagnosticWarning                      a model-qualification check needs attention
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = [
    "BlinapkError",
    "BlinapkWarning",
    "ConvergenceWarning",
    "DataValidationError",
    "DataWarning",
    "DiagnosticWarning",
    "ModelSpecError",
    "NCAWarning",
    "UnitError",
    "Violation",
]


class BlinapkError(Exception):
    """Base class of every error blinapk raises on purpose."""


@dataclass(frozen=True)
class Violation:
    """One broken rule of the dataset contract.

    Parameters
    ----------
    rule : str
        Short machine-readable rule name, e.g. ``"time_decreasing"``.
    column : str or None
        Column the rule concerns (upper-case), or None for table-level rules.
    rows : tuple of int
        1-based data row numbers in the source (row 1 is the first line after
        the header), empty for table-level rules.
    message : str
        Human-readable explanation.
    """

    rule: str
    column: str | None
    rows: tuple[int, ...] = field(default_factory=tuple)
    message: str = ""

    def __str__(self) -> str:
        where = f"column {self.column}" if self.column else "table"
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:10])
            more = f" (+{len(self.rows) - 10} more)" if len(self.rows) > 10 else ""
            where += f", row(s) {shown}{more}"
        return f"[{self.rule}] {where}: {self.message}"


class DataValidationError(BlinapkError, ValueError):
    """The dataset breaks the contract; carries every violation at once.

    Parameters
    ----------
    violations : sequence of Violation
        All violations found (never only the first).
    """

    def __init__(self, violations: Sequence[Violation]):
        self.violations = tuple(violations)
        lines = "\n".join(f"  - {v}" for v in self.violations)
        super().__init__(f"{len(self.violations)} data validation error(s):\n{lines}")


class ModelSpecError(BlinapkError, ValueError):
    """A model card, model specification or prior is malformed."""


class UnitError(BlinapkError, ValueError):
    """A unit is unknown or cannot be converted."""


class BlinapkWarning(UserWarning):
    """Base class of every warning blinapk emits."""


class ConvergenceWarning(BlinapkWarning):
    """MCMC diagnostics (R-hat, ESS, divergences, BFMI) failed their gates."""


class NCAWarning(BlinapkWarning):
    """An NCA quantity could not be estimated as requested."""


class DataWarning(BlinapkWarning):
    """The data are valid but suspicious (e.g. a likely unit mistake)."""


class DiagnosticWarning(BlinapkWarning):
    """A model-qualification check needs attention (e.g. Pareto k > 0.7 in PSIS-LOO)."""
