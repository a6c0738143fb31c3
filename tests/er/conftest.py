"""Shared fixtures of the exposure-response tests: small simulated studies and fits, made once.

The studies come from ``benchmarks/er_truth.py`` (a known exposure-response
truth); fits are small (2 chains x 300 + 300 draws) and session-scoped so
that the whole directory stays within a minute or two.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

#: Sampler settings of every test fit.
FAST = {"draws": 300, "tune": 300, "chains": 2, "seed": 11}


def truth_exposure(study, metric="css", level="subject"):
    from blinapk.er import exposure_from_params

    p = {"CL": study.params["CL"].to_numpy(), "V": study.params["V"].to_numpy()}
    return exposure_from_params(study.dataset, p, metric, level=level)


@pytest.fixture(scope="session")
def crcrh_study():
    from er_truth import er_study

    return er_study(150, 21, endpoint="crcrh", slope=1.5)


@pytest.fixture(scope="session")
def crcrh_fit(crcrh_study):
    from blinapk.er import fit_er

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_er(crcrh_study.clinical, truth_exposure(crcrh_study), endpoint="crcrh",
                      uncertainty="plugin", dataset=crcrh_study.dataset,
                      covariates=["AGEGROUP"], **FAST)


@pytest.fixture(scope="session")
def il6_study():
    from er_truth import er_study

    return er_study(80, 22, endpoint="il6")


@pytest.fixture(scope="session")
def il6_fit(il6_study):
    from blinapk.er import fit_er

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_er(None, truth_exposure(il6_study, "delta_css", "event"), endpoint="il6",
                      uncertainty="plugin", dataset=il6_study.dataset, **FAST)
