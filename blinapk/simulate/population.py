"""Virtual patients with correlated covariates: AGE -> height/WT -> BSA, CRCL, SEX, BLAST.

Adults and children with relapsed/refractory B-ALL. The chain of draws is::

    AGE, SEX -> height (sex, age) -> WT (height, BMI) -> BSA (Mosteller)
    SCR (age, sex) -> CRCL (Cockcroft-Gault adults, bedside Schwartz children)
    BLAST independent

All numbers are simulation assumptions (documented in ``docs/simulate.md``),
not estimates from a trial; they live in :data:`POPULATION` so a trial's
``settings`` records them.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["POPULATION", "mosteller_bsa", "simulate_population"]

#: Generating assumptions (recorded in SimulatedTrial.settings["population"]).
POPULATION: Mapping[str, Any] = MappingProxyType({
    # adults: age 18 + 62 * Beta(1.3, 1.8) (mean ~44 y; R/R ALL trials enrol 18-80 y)
    "adult_age": {"low": 18.0, "span": 62.0, "beta_a": 1.3, "beta_b": 1.8},
    # children: age 1 + 17 * Beta(1.2, 1.5) (mean ~8.6 y, range 1-18 y)
    "child_age": {"low": 1.0, "span": 17.0, "beta_a": 1.2, "beta_b": 1.5},
    "p_male": {"adult": 0.6, "child": 0.55},
    # adult height (cm): normal by sex
    "adult_height": {"M": [176.0, 7.0], "F": [163.0, 6.5]},
    # adult BMI lognormal: median 25.5 kg/m2, log-SD 0.17 -> median BSA ~1.88 m2
    "adult_bmi": {"median": 25.5, "log_sd": 0.17},
    # children: approximate CDC 2000 50th percentiles (flag U, memory) by age, log-normal spread
    "child_growth_age": [1, 2, 4, 6, 8, 10, 12, 14, 16, 18],
    "child_height": {"M": [76, 87, 103, 116, 128, 138, 149, 164, 174, 176],
                     "F": [74, 86, 102, 115, 127, 138, 151, 160, 163, 163]},
    "child_weight": {"M": [10.3, 12.5, 16.5, 21.0, 25.5, 32.0, 40.0, 51.0, 61.0, 68.0],
                     "F": [9.5, 12.0, 16.0, 20.5, 25.0, 32.0, 41.5, 49.5, 54.0, 57.0]},
    "child_height_log_sd": 0.045,
    "child_weight_log_sd": 0.15,
    # serum creatinine (mg/dL), lognormal: adults by sex; children median 0.2 + 0.035 * age
    "adult_scr": {"M": 0.9, "F": 0.75, "log_sd": 0.25},
    "child_scr": {"intercept": 0.2, "slope": 0.035, "log_sd": 0.2},
    # CRCL cap (mL/min): CG over-predicts in large / young subjects; capped as usual
    "crcl_cap": 150.0,
    # baseline marrow blasts (%): 5 + 95 * Beta(2, 1) (R/R ALL needs > 5 % blasts)
    "blast": {"low": 5.0, "span": 95.0, "beta_a": 2.0, "beta_b": 1.0},
})


def mosteller_bsa(height_cm: Any, weight_kg: Any) -> np.ndarray:
    """Body-surface area by Mosteller: ``sqrt(height [cm] * weight [kg] / 3600)`` m2.

    Parameters
    ----------
    height_cm, weight_kg : array_like
        Height (cm) and weight (kg).

    Returns
    -------
    numpy.ndarray
        BSA in m2.

    Examples
    --------
    >>> float(mosteller_bsa(180.0, 80.0))
    2.0
    """
    return np.sqrt(np.asarray(height_cm, float) * np.asarray(weight_kg, float) / 3600.0)


def _beta_range(rng: np.random.Generator, spec: Mapping[str, float], n: int) -> np.ndarray:
    return spec["low"] + spec["span"] * rng.beta(spec["beta_a"], spec["beta_b"], n)


def simulate_population(
    n: int,
    rng: np.random.Generator,
    *,
    paediatric_fraction: float = 0.2,
    params: Mapping[str, Any] = POPULATION,
) -> pd.DataFrame:
    """Draw ``n`` subjects (children first is *not* implied: groups are interleaved at random).

    Parameters
    ----------
    n : int
        Number of subjects (>= 1).
    rng : numpy.random.Generator
        Random source.
    paediatric_fraction : float, default 0.2
        Expected fraction of children (< 18 y); each subject is a child with
        this probability.
    params : Mapping
        Generating assumptions, defaults :data:`POPULATION`.

    Returns
    -------
    pandas.DataFrame
        ``ID`` (1..n), ``GROUP`` (``adult``/``child``), ``AGE`` (whole years),
        ``SEX`` (``M``/``F``), ``HEIGHT`` (cm), ``WT`` (kg, 0.1), ``BSA`` (m2,
        0.01, Mosteller), ``SCR`` (mg/dL), ``CRCL`` (mL/min, capped), ``BLAST`` (%).
    """
    return pd.DataFrame(draw_covariates(n, rng, paediatric_fraction=paediatric_fraction,
                                        params=params))


def draw_covariates(n: int, rng: np.random.Generator, *, paediatric_fraction: float = 0.2,
                    params: Mapping[str, Any] = POPULATION) -> dict[str, np.ndarray]:
    """Draw the columns of :func:`simulate_population` as numpy arrays (same draws).

    ``GROUP`` and ``SEX`` are numpy string arrays; building a DataFrame is left
    to the caller (large simulations keep them as categoricals).
    """
    if not 0.0 <= paediatric_fraction <= 1.0:
        raise ValueError(f"paediatric_fraction must be in [0, 1], got {paediatric_fraction}")
    child = rng.random(n) < paediatric_fraction
    male = rng.random(n) < np.where(child, params["p_male"]["child"], params["p_male"]["adult"])
    sex = np.where(male, "M", "F")
    age = np.where(child, _beta_range(rng, params["child_age"], n),
                   _beta_range(rng, params["adult_age"], n))

    # adults: height by sex, weight from a lognormal BMI
    ah = params["adult_height"]
    height = np.where(male, rng.normal(*ah["M"], n), rng.normal(*ah["F"], n))
    bmi = params["adult_bmi"]["median"] * np.exp(rng.normal(0, params["adult_bmi"]["log_sd"], n))
    weight = bmi * (height / 100.0) ** 2
    # children: growth-chart medians by age and sex; weight follows height squared
    grid = np.asarray(params["child_growth_age"], float)
    h_med = np.where(male, np.interp(age, grid, params["child_height"]["M"]),
                     np.interp(age, grid, params["child_height"]["F"]))
    w_med = np.where(male, np.interp(age, grid, params["child_weight"]["M"]),
                     np.interp(age, grid, params["child_weight"]["F"]))
    c_height = h_med * np.exp(rng.normal(0, params["child_height_log_sd"], n))
    c_weight = w_med * (c_height / h_med) ** 2 * np.exp(
        rng.normal(0, params["child_weight_log_sd"], n))
    height = np.round(np.where(child, c_height, height), 1)
    weight = np.round(np.where(child, c_weight, weight), 1)
    bsa = np.round(mosteller_bsa(height, weight), 2)

    # renal function: Cockcroft-Gault (adults), bedside Schwartz x BSA/1.73 (children)
    a_scr = np.where(male, params["adult_scr"]["M"], params["adult_scr"]["F"])
    c_scr = params["child_scr"]["intercept"] + params["child_scr"]["slope"] * age
    log_sd = np.where(child, params["child_scr"]["log_sd"], params["adult_scr"]["log_sd"])
    scr = np.round(np.where(child, c_scr, a_scr) * np.exp(rng.normal(0, 1, n) * log_sd), 2)
    scr = np.maximum(scr, 0.1)
    age_years = np.floor(age)
    cg = (140.0 - age_years) * weight / (72.0 * scr) * np.where(male, 1.0, 0.85)
    schwartz = 0.413 * height / scr * bsa / 1.73
    crcl = np.round(np.minimum(np.where(child, schwartz, cg), params["crcl_cap"]), 1)
    blast = np.round(_beta_range(rng, params["blast"], n), 1)

    return {
        "ID": np.arange(1, n + 1),
        "GROUP": np.where(child, "child", "adult"),
        "AGE": age_years,
        "SEX": sex,
        "HEIGHT": height,
        "WT": weight,
        "BSA": bsa,
        "SCR": scr,
        "CRCL": crcl,
        "BLAST": blast,
    }
