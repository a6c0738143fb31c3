"""Independent reference: integrate the compartment ODEs numerically (scipy).

Used only by the pk tests.  The regimen is integrated piecewise between all
event times (dose starts, infusion ends, boluses, observations) so the
integrator never steps over a discontinuity of the input.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

RTOL = 1e-10
ATOL = 1e-14  # ug: far below any concentration the tests compare


def ode_conc(times, doses, cl, v, q=0.0, v2=1.0):
    """Central concentration (pg/mL) at ``times`` for ``doses``.

    ``doses`` is a list of ``(start, amt, duration)`` (duration 0 = bolus).
    A bolus at exactly an observation time is included in that observation.
    """
    times = np.asarray(times, dtype=float)
    k10, k12, k21 = cl / v, q / v, q / v2
    starts = [s for s, a, d in doses if d > 0]
    ends = [s + d for s, a, d in doses if d > 0]
    grid = np.unique(
        np.concatenate(
            [[0.0, min(0.0, times.min(initial=0.0))], starts, ends, [s for s, a, d in doses], times]
        )
    )

    def rate_on(t_left):
        return sum(a / d for s, a, d in doses if d > 0 and s <= t_left < s + d)

    def rhs(_, y, r):
        a1, a2 = y
        return [r - (k10 + k12) * a1 + k21 * a2, k12 * a1 - k21 * a2]

    jac = np.array([[-(k10 + k12), k21], [k12, -k21]])
    state = np.zeros(2)
    at = {}
    for i, t in enumerate(grid):
        state = state + np.array([sum(a for s, a, d in doses if d == 0 and s == t), 0.0])
        at[t] = 1000.0 * state[0] / v
        if i + 1 < len(grid) and grid[i + 1] - t < 1e-9:
            # LSODA cannot step over a sub-nanosecond piece; one Euler step is exact
            # to O(h^2) ~ 1e-18 here
            state = state + (grid[i + 1] - t) * np.asarray(rhs(t, state, rate_on(t)))
        elif i + 1 < len(grid):
            sol = solve_ivp(
                rhs,
                (t, grid[i + 1]),
                state,
                method="LSODA",
                rtol=RTOL,
                atol=ATOL,
                jac=lambda *_: jac,
                args=(rate_on(t),),
            )
            assert sol.success, sol.message
            state = sol.y[:, -1]
    return np.array([at[t] for t in times])
