"""Rule-based dose-escalation designs as declarative decision tables: 3+3 and rolling six.

A design is a frozen :class:`EscalationDesign`: a table that maps the state of
the current dose level, ``(enrolled, with DLT, pending)``, to the decision for
the next patient (:data:`DECISIONS`), plus two settings (the most patients a
level takes, and whether the selected dose must have that many). The trial
engine (:mod:`~blinapk.simulate.dose_finding`) only looks decisions up; the
tables are printed, with their sources, in ``docs/dose_finding.md``.

Counts are per dose level: *enrolled* patients, those *with DLT* (observed
so far) and those *pending* (enrolled, no DLT yet, evaluation window not
over). ``enrolled - with DLT - pending`` completed the window without DLT.
Every patient is assumed evaluable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import pandas as pd

__all__ = ["DECISIONS", "ROLLING_SIX", "THREE_PLUS_THREE", "EscalationDesign", "rolling_six",
           "three_plus_three"]

#: Decisions for the next patient: enrol at the current level, move up, move
#: down (the level and all above it are too toxic), or enrol nobody until more
#: DLT data are in.
DECISIONS = ("stay", "escalate", "de-escalate", "suspend")

SKOLNIK_2008 = ("Skolnik JM, Barrett JS, Jayaraman B, Patel D, Adamson PC. Shortening the "
                "timeline of pediatric phase I trials: the rolling six design. J Clin Oncol "
                "2008;26:190-195 (Table 1), as tabulated by enrolled/evaluable/DLT counts in "
                "Frankel PH, et al. Model of a queuing approach for patient accrual in phase 1 "
                "oncology studies. JAMA Netw Open 2020;3:e204787 (Table 2, rolling 6 column)")
STORER_1989 = ("Storer BE. Design and analysis of phase I clinical trials. Biometrics "
               "1989;45:925-937; Le Tourneau C, Lee JJ, Siu LL. Dose escalation methods in "
               "phase I cancer clinical trials. J Natl Cancer Inst 2009;101:708-720")


@dataclass(frozen=True)
class EscalationDesign:
    """A rule-based escalation design: decision table and MTD rule.

    Parameters
    ----------
    name : str
        Label used in results and figures.
    rules : tuple of (int, int, int, str)
        ``(enrolled, with_dlt, pending, decision)`` for every state of a level
        with ``0 <= with_dlt + pending <= enrolled <= max_per_level``.
    max_per_level : int, default 6
        Most patients a dose level takes.
    confirm : bool, default True
        The selected dose (MTD) must have ``max_per_level`` patients: an
        ``escalate`` decision at the highest level, or under a level found too
        toxic, enrols more patients at the level until it has that many; with
        False such a decision selects the level at once.
    source : str
        Where the rules come from.

    Notes
    -----
    An ``escalate`` decision moves to the next level when it exists and has
    not been found too toxic; otherwise the current level is the MTD (with
    ``confirm``, once it has ``max_per_level`` patients). A ``de-escalate``
    decision closes the level and every level above it and moves one level
    down; below the lowest level no dose is selected.
    """

    name: str
    rules: tuple[tuple[int, int, int, str], ...]
    max_per_level: int = 6
    confirm: bool = True
    source: str = ""
    _lookup: Mapping[tuple[int, int, int], str] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        lookup = {(n, d, w): dec for n, d, w, dec in self.rules}
        expected = {(n, d, w) for n in range(self.max_per_level + 1) for d in range(n + 1)
                    for w in range(n - d + 1)}
        if set(lookup) != expected or len(lookup) != len(self.rules):
            missing = sorted(expected - set(lookup))[:3]
            raise ValueError(f"{self.name}: the rules must list each state once; missing e.g. "
                             f"{missing}")
        for (n, _, w), dec in lookup.items():
            if dec not in DECISIONS:
                raise ValueError(f"{self.name}: unknown decision {dec!r}")
            if dec == "stay" and n >= self.max_per_level:
                raise ValueError(f"{self.name}: 'stay' with {n} enrolled exceeds max_per_level")
            if dec == "suspend" and w == 0:  # nothing to wait for: the trial would stall
                raise ValueError(f"{self.name}: 'suspend' needs a pending patient")
        object.__setattr__(self, "_lookup", MappingProxyType(lookup))

    def decide(self, enrolled: int, with_dlt: int, pending: int) -> str:
        """Decision for the next patient given the current level's counts.

        Parameters
        ----------
        enrolled, with_dlt, pending : int
            Counts at the current dose level.

        Returns
        -------
        str
            One of :data:`DECISIONS`.

        Examples
        --------
        >>> ROLLING_SIX.decide(3, 1, 2), THREE_PLUS_THREE.decide(3, 1, 2)
        ('stay', 'suspend')
        """
        return self._lookup[(enrolled, with_dlt, pending)]

    def table(self) -> pd.DataFrame:
        """Return the decision table, one row per state.

        Returns
        -------
        pandas.DataFrame
            ``ENROLLED, DLT, NO_DLT, PENDING, DECISION``.
        """
        rows = [(n, d, n - d - w, w, dec) for n, d, w, dec in self.rules]
        return pd.DataFrame(rows, columns=["ENROLLED", "DLT", "NO_DLT", "PENDING", "DECISION"])


def _tabulate(rule: Callable[[int, int, int], str], max_per_level: int
              ) -> tuple[tuple[int, int, int, str], ...]:
    return tuple((n, d, w, rule(n, d, w)) for n in range(max_per_level + 1)
                 for d in range(n + 1) for w in range(n - d + 1))


def _rolling_six_rule(n: int, d: int, w: int) -> str:
    # Skolnik 2008 Table 1 in the enrolled/evaluable/DLT form of Frankel 2020 Table 2
    if d >= 2:
        return "de-escalate"
    if n < 6:
        # 0 DLT in >= 3 patients with nothing pending escalates; anything else fills the level
        return "escalate" if d == 0 and w == 0 and n >= 3 else "stay"
    # six enrolled: escalate once no pending outcome can make it 2/6, else wait
    if (d == 0 and w <= 1) or (d == 1 and w == 0):
        return "escalate"
    return "suspend"


def _three_plus_three_rule(n: int, d: int, w: int) -> str:
    if n % 3:  # a cohort of three is always completed
        return "stay"
    if n == 0:
        return "stay"
    if d >= 2:  # 2 DLT in a completed cohort's level: decided, pending patients cannot undo it
        return "de-escalate"
    if w:
        return "suspend"
    if n == 3 and d == 1:
        return "stay"  # 1/3: three more
    return "escalate"  # 0/3 or <= 1/6


def rolling_six(*, confirm: bool = True) -> EscalationDesign:
    """Build the rolling six design (Skolnik et al. 2008).

    Two to six patients are enrolled concurrently at a level; the decision
    for each new patient depends on the numbers enrolled, with DLT and
    pending at the current level. Accrual is suspended only when six are
    enrolled and pending outcomes could still change the decision.

    Parameters
    ----------
    confirm : bool, default True
        The MTD must have six patients (see :class:`EscalationDesign`).

    Returns
    -------
    EscalationDesign

    Examples
    --------
    >>> rs = rolling_six()
    >>> rs.decide(2, 0, 2), rs.decide(3, 0, 0), rs.decide(4, 0, 1), rs.decide(6, 0, 1)
    ('stay', 'escalate', 'stay', 'escalate')
    >>> rs.decide(6, 1, 1), rs.decide(6, 1, 0), rs.decide(3, 2, 1)
    ('suspend', 'escalate', 'de-escalate')
    """
    return EscalationDesign(name="rolling six", rules=_tabulate(_rolling_six_rule, 6),
                            max_per_level=6, confirm=confirm, source=SKOLNIK_2008)


def three_plus_three(*, confirm: bool = True) -> EscalationDesign:
    """Build the traditional 3+3 design (Storer 1989; Le Tourneau et al. 2009).

    Cohorts of three: 0/3 DLT escalates; 1/3 adds three patients at the same
    level, and <= 1/6 then escalates; >= 2 DLT (of 3 or 6) stops escalation
    and moves one level down. Each cohort is completed and accrual is
    suspended until all its patients are evaluated; a level with two DLTs is
    abandoned at once.

    Parameters
    ----------
    confirm : bool, default True
        True: the MTD is the highest level with <= 1 DLT in 6 patients
        (de-escalation to a level with 3 patients adds 3 more; the highest
        level is expanded to 6 too). False: the MTD is the level below the one
        where escalation stopped, with 3 or 6 patients (the variant "without
        de-escalation" of Lin and Shih, Biostatistics 2001;2:203-215).

    Returns
    -------
    EscalationDesign

    Examples
    --------
    >>> tpt = three_plus_three()
    >>> tpt.decide(3, 0, 0), tpt.decide(3, 1, 0), tpt.decide(6, 1, 0), tpt.decide(3, 0, 1)
    ('escalate', 'stay', 'escalate', 'suspend')
    """
    name = "3+3" if confirm else "3+3 (no de-escalation)"
    return EscalationDesign(name=name, rules=_tabulate(_three_plus_three_rule, 6),
                            max_per_level=6, confirm=confirm, source=STORER_1989)


#: The rolling six design with MTD confirmation on six patients.
ROLLING_SIX = rolling_six()
#: The 3+3 design with de-escalation (MTD = highest level with <= 1/6 DLT).
THREE_PLUS_THREE = three_plus_three()
