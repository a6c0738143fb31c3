"""Exact operating characteristics of the 3+3 design from binomial probabilities.

The 3+3 design's path depends only on the number of DLTs in each cohort of
three, ``Binomial(3, p)`` at the cohort's level, not on when they happen.
Its selection probabilities, expected patients and DLTs per level are
therefore sums over the tree of cohort outcomes; :func:`three_plus_three_exact`
computes them by recursion over the states of that tree (memoised), written
from the textbook rules and independent of the decision-table engine, which
makes it the check of the simulation (Lin and Shih, Biostatistics
2001;2:203-215, give the same quantities in closed form).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from math import comb

import numpy as np

__all__ = ["ExactOC", "three_plus_three_exact"]


@dataclass(frozen=True, eq=False)
class ExactOC:
    """Exact operating characteristics of a 3+3 design.

    Attributes
    ----------
    p_select : numpy.ndarray
        Probability of selecting each level, then (last entry) of no dose.
    mean_patients : numpy.ndarray
        Expected patients treated per level.
    mean_dlts : numpy.ndarray
        Expected patients with DLT per level.
    """

    p_select: np.ndarray
    mean_patients: np.ndarray
    mean_dlts: np.ndarray


def three_plus_three_exact(p_dlt: Sequence[float], *, confirm: bool = True) -> ExactOC:
    """Exact selection probabilities and expected counts of the 3+3 design.

    Parameters
    ----------
    p_dlt : sequence of float
        True DLT probability per level, lowest first.
    confirm : bool, default True
        The MTD needs six patients (as in
        :func:`~blinapk.simulate.dose_designs.three_plus_three`).

    Returns
    -------
    ExactOC

    Examples
    --------
    One level: selected unless the first cohort has >= 2 DLT or the six have >= 2.

    >>> q = 0.8  # P(no DLT) with p = 0.2
    >>> by_hand = q**3 * (q**3 + 3 * 0.2 * q**2) + 3 * 0.2 * q**2 * q**3
    >>> round(float(three_plus_three_exact([0.2]).p_select[0]), 12) == round(by_hand, 12)
    True
    """
    p = [float(x) for x in p_dlt]
    n_levels = len(p)
    cohort = [[comb(3, x) * q**x * (1 - q) ** (3 - x) for x in range(4)] for q in p]

    def terminal(selected: int, n: tuple, d: tuple) -> tuple:
        onehot = np.zeros(n_levels + 1)
        onehot[selected] = 1.0
        return onehot, np.array(n, dtype=float), np.array(d, dtype=float)

    def treat(c: int, ceiling: int, n: tuple, d: tuple) -> tuple:
        """Average over the DLTs of one more cohort of three at level c."""
        out = [np.zeros(n_levels + 1), np.zeros(n_levels), np.zeros(n_levels)]
        for x, prob in enumerate(cohort[c]):
            if prob == 0.0:
                continue
            n2 = n[:c] + (n[c] + 3,) + n[c + 1:]
            d2 = d[:c] + (d[c] + x,) + d[c + 1:]
            for acc, part in zip(out, state(c, ceiling, n2, d2), strict=True):
                acc += prob * part
        return tuple(out)

    @cache
    def state(c: int, ceiling: int, n: tuple, d: tuple) -> tuple:
        if n[c] == 0 or (n[c] == 3 and d[c] == 1):
            return treat(c, ceiling, n, d)  # first cohort, or 1/3 -> three more
        if d[c] >= 2:  # too toxic: this level and all above are closed
            return terminal(n_levels, n, d) if c == 0 else state(c - 1, c, n, d)
        if c + 1 < ceiling:  # 0/3 or <= 1/6
            return state(c + 1, ceiling, n, d)
        if confirm and n[c] == 3:
            return treat(c, ceiling, n, d)
        return terminal(c, n, d)

    zeros = (0,) * n_levels
    p_select, mean_n, mean_d = state(0, n_levels, zeros, zeros)
    return ExactOC(p_select=p_select, mean_patients=mean_n, mean_dlts=mean_d)
