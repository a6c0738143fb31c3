"""Test-session settings shared by every test module.

Hypothesis profiles
-------------------
``ci`` (the default) derandomizes: every run of the suite, on any machine,
draws the same examples, so a CI failure is reproducible and a green run
stays green. ``explore`` draws fresh random examples each run, for hunting
new counter-examples before a release::

    HYPOTHESIS_PROFILE=explore pytest -n 2 -k "properties or fuzz"

Neither profile has a deadline or the ``too_slow`` health check: they are
timed assertions, and these machines are shared and noisy.

A counter-example found while exploring becomes an explicit test (see
``tests/simulate/test_simulate_sampling.py``) before its fix lands.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_UNTIMED = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("ci", derandomize=True, print_blob=True, **_UNTIMED)
settings.register_profile("explore", derandomize=False, print_blob=True, **_UNTIMED)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
