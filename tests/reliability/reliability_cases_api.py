"""Catalogue cases for model specs, priors, dosing and NCA (see reliability_cases.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from reliability_cases import Case, base_frame

from blinapk.dosing import Step, dose_records, get_preset, rate_at, rate_table
from blinapk.errors import DataValidationError, DataWarning, ModelSpecError, UnitError
from blinapk.nca.general import compute_nca
from blinapk.nca.intervals import Interval
from blinapk.nca.steady_state import compute_css
from blinapk.poppk.priors import PriorConfig, resolve_priors
from blinapk.poppk.spec import PopPKSpec


def _spec(name, what, raw, key):
    return Case(name, "spec", what, lambda tmp: PopPKSpec.from_dict(raw), ModelSpecError,
                key=tuple(key))


SPEC_CASES: tuple[Case, ...] = (
    _spec("spec_unknown_key", "spec key typo 'stucture'", {"stucture": "1cmt"},
          ("stucture", "unknown spec key")),
    _spec("spec_unknown_structure", "structure 'three-cmt'", {"structure": "three-cmt"},
          ("structure", "three-cmt")),
    _spec("spec_bsv_not_a_parameter", "BSV on Q in a 1-cmt model", {"bsv": ["CL", "Q"]},
          ("bsv", "'Q'")),
    _spec("spec_bad_covariate_string", "covariate 'CL-BSA' (no ~)", {"covariates": ["CL-BSA"]},
          ("covariates", "CL-BSA")),
    _spec("spec_power_reference_zero", "power covariate with reference 0",
          {"covariates": ["CL~BSA:power@0"]}, ("covariates[CL~BSA].reference", "> 0")),
    _spec("spec_unknown_residual", "residual model 'exponential'", {"residual": "exponential"},
          ("residual", "exponential")),
    _spec("spec_correlation_one_eta", "correlated BSV with one random effect",
          {"bsv": ["CL"], "correlation": True}, ("correlation",)),
)


def _prior(name, what, priors, key):
    return Case(name, "prior", what, lambda tmp: resolve_priors(PopPKSpec(), priors),
                ModelSpecError, key=tuple(key))


PRIOR_CASES: tuple[Case, ...] = (
    _prior("prior_negative_scale", "HalfNormal(sigma=-1) on omega_CL",
           {"omega_CL": {"dist": "HalfNormal", "sigma": -1.0}}, ("omega_CL.sigma", "> 0")),
    _prior("prior_zero_scale", "Normal(mu, sigma=0) on log_CL",
           {"log_CL": {"dist": "Normal", "mu": 0.7, "sigma": 0.0}}, ("log_CL.sigma", "> 0")),
    _prior("prior_real_on_scale", "Normal prior on a standard deviation (omega_V)",
           {"omega_V": {"dist": "Normal", "mu": 0.0, "sigma": 1.0}},
           ("omega_V", "positive-support")),
    _prior("prior_infinite_location", "log_CL ~ Normal(inf, 1)",
           {"log_CL": {"dist": "Normal", "mu": math.inf, "sigma": 1.0}},
           ("log_CL.mu", "finite")),
    _prior("prior_unknown_family", "'Uniform' is not a supported family",
           {"log_V": {"dist": "Uniform", "lower": 0, "upper": 1}}, ("log_V", "Uniform")),
    _prior("prior_missing_parameter", "Normal without sigma", {"log_V": {"dist": "Normal",
                                                                        "mu": 1.0}},
           ("log_V.sigma", "missing")),
    _prior("prior_unused_key", "prior on 'log_Cl' (typo; would be silently ignored)",
           {"log_Cl": {"dist": "Normal", "mu": 0.7, "sigma": 1.0}}, ("log_Cl", "not used")),
    _prior("prior_text_value", "sigma = 'wide'",
           {"sigma_prop": {"dist": "HalfNormal", "sigma": "wide"}},
           ("sigma_prop.sigma", "expected a number")),
    Case("prior_lkj_eta_zero", "prior", "LKJ(eta=0)",
         lambda tmp: PriorConfig({"lkj_eta": {"dist": "LKJ", "eta": 0.0}}), ModelSpecError,
         key=("lkj_eta.eta", "> 0")),
)


_PAED = get_preset("paediatric_rr", n_cycles=1)
_DOSES = pd.DataFrame({"ID": [1, 1], "TIME": [0.0, 24.0], "AMT": [24.0, 24.0],
                       "RATE": [1.0, 1.0]})

DOSING_CASES: tuple[Case, ...] = (
    Case("dosing_bsa_missing", "dosing", "per-m2 regimen, subjects without a BSA column",
         lambda tmp: dose_records(_PAED, pd.DataFrame({"ID": [1, 2]})), DataValidationError,
         "missing_column", "BSA", (1, 2)),
    Case("dosing_bsa_negative", "dosing", "per-m2 regimen, BSA -0.8 for the 2nd subject",
         lambda tmp: dose_records(_PAED, pd.DataFrame({"ID": [1, 2], "BSA": [0.8, -0.8]})),
         DataValidationError, "missing_bsa", "BSA", (2,)),
    Case("dosing_bsa_nan", "dosing", "per-m2 regimen, BSA NaN for the 3rd subject",
         lambda tmp: dose_records(_PAED, pd.DataFrame({"ID": [1, 2, 3],
                                                       "BSA": [0.8, 1.0, np.nan]})),
         DataValidationError, "missing_bsa", "BSA", (3,)),
    Case("dosing_duplicate_subject", "dosing", "the same subject ID twice",
         lambda tmp: dose_records(get_preset("adult_rr"), [7, 7]), DataValidationError,
         "duplicate_id", "ID", (1, 2)),
    Case("dosing_weight_missing", "dosing", "weight-based regimen without WT",
         lambda tmp: dose_records(get_preset("weight_based_rr"),
                                  pd.DataFrame({"ID": [1], "BSA": [1.0]})),
         DataValidationError, "missing_column", "WT", (1,)),
    Case("dosing_negative_step", "dosing", "a step dose of -5 ug/day",
         lambda tmp: Step(1, -5), ModelSpecError, key=("Step.dose", "> 0")),
    Case("dosing_step_unit", "dosing", "a step dose in mg/day", lambda tmp: Step(1, 5, "mg/day"),
         UnitError, key=("Step.unit", "mg/day")),
    Case("dosing_unknown_preset", "dosing", "preset 'adult_rrr'",
         lambda tmp: get_preset("adult_rrr"), ModelSpecError, key=("adult_rrr", "adult_rr")),
    Case("dosing_too_many_cycles", "dosing", "adult_rr with 12 cycles (label: 9)",
         lambda tmp: get_preset("adult_rr", n_cycles=12), ModelSpecError, key=("n_cycles=12",)),
    Case("dosing_bag_negative", "dosing", "bag length -24 h",
         lambda tmp: dose_records(get_preset("adult_rr"), [1], bag_hours=-24),
         ModelSpecError, key=("bag_hours",)),
    Case("rate_table_nan_time", "dosing", "dose record with TIME NaN",
         lambda tmp: rate_table(_DOSES.assign(TIME=[0.0, np.nan])), DataValidationError,
         "not_finite", "TIME", (2,)),
    Case("rate_table_negative_rate", "dosing", "dose record with RATE -1",
         lambda tmp: rate_table(_DOSES.assign(RATE=[-1.0, 1.0])), DataValidationError,
         "rate_range", "RATE", (1,)),
    Case("rate_table_bolus", "dosing", "a bolus (RATE 0) given to rate_table",
         lambda tmp: rate_table(_DOSES.assign(RATE=[0.0, 1.0])), DataWarning,
         key=("bolus", "bolus_table")),
)

#: Formerly known gaps in blinapk.dosing (bare ValueErrors), now typed errors.
DOSING_GAPS: tuple[Case, ...] = (
    Case("dosing_n_cycles_text", "dosing", "get_preset(n_cycles='two')",
         lambda tmp: get_preset("adult_rr", n_cycles="two"), ModelSpecError,
         key=("n_cycles",)),
    Case("rate_at_length_mismatch", "dosing", "rate_at with 2 IDs and 1 time",
         lambda tmp: rate_at(rate_table(_DOSES), [1, 1], [1.0]), DataValidationError,
         "length_mismatch", None),
)


_CONC = pd.DataFrame({"ID": [1] * 5 + [2] * 5, "TIME": [0.0, 1, 2, 4, 8] * 2,
                      "CONC": [0.0, 8, 6, 3, 0.75, 0, 4, 3, 1.5, 0.375]})
_IV = Interval(0, math.inf, ("cmax", "auclast", "half_life", "cl_obs"))


def _nca(mutate, **kwargs):
    return lambda tmp: compute_nca(mutate(_CONC.copy()), _IV, **kwargs)


def _cell(col, row, value):
    def mutate(d):
        d[col] = d[col].astype(object)
        d.loc[row - 1, col] = value
        return d

    return mutate


NCA_CASES: tuple[Case, ...] = (
    Case("nca_negative_conc", "nca", "a concentration of -6", _nca(_cell("CONC", 3, -6.0)),
         DataValidationError, "conc_negative", "CONC", (3,)),
    Case("nca_infinite_conc", "nca", "a concentration of inf", _nca(_cell("CONC", 8, math.inf)),
         DataValidationError, "not_finite", "CONC", (8,)),
    Case("nca_infinite_time", "nca", "a sample time of inf", _nca(_cell("TIME", 5, math.inf)),
         DataValidationError, "not_finite", "TIME", (5,)),
    Case("nca_text_conc", "nca", "a concentration 'BLQ' (text)", _nca(_cell("CONC", 4, "BLQ")),
         DataValidationError, "not_numeric", "CONC", (4,)),
    Case("nca_duplicate_time", "nca", "two samples at 1 h for subject 2",
         _nca(_cell("TIME", 8, 1.0)), DataValidationError, "time_duplicated", "TIME",
         (7, 8)),
    Case("nca_missing_group", "nca", "ID missing on a sample", _nca(_cell("ID", 2, np.nan)),
         DataValidationError, "group_missing", "ID", (2,)),
    Case("nca_text_evid", "nca", "EVID 'obs' (text) on a sample",
         _nca(lambda d: _cell("EVID", 2, "obs")(d.assign(EVID=0))), DataValidationError,
         "not_numeric", "EVID", (2,)),
    Case("nca_negative_dose", "nca", "dose = -100", _nca(lambda d: d, dose=-100.0),
         ModelSpecError, key=("dose", "-100")),
    Case("nca_text_dose_column", "nca", "dose column holding text",
         _nca(lambda d: d.assign(DOSE=["100"] * 9 + ["a lot"]), dose="DOSE"),
         DataValidationError, "not_numeric", "DOSE", (10,)),
    Case("nca_unknown_parameter", "nca", "parameter 'cmaxx'",
         lambda tmp: compute_nca(_CONC, Interval(0, 24, ("cmaxx",))), ModelSpecError,
         key=("cmaxx",)),
    Case("nca_reversed_interval", "nca", "interval [24, 0]",
         lambda tmp: Interval(24, 0, ("cmax",)), ModelSpecError, key=("interval end",)),
    Case("nca_blq_without_lloq", "nca", "a BLQ rule on data without LLOQ",
         _nca(lambda d: d, blq="seed"), ModelSpecError, key=("LLOQ",)),
    Case("css_unsorted_dataset", "nca", "compute_css on a frame whose TIME goes back",
         lambda tmp: compute_css(pd.concat([base_frame(), base_frame().iloc[[1]].assign(TIME=1.0)],
                                           ignore_index=True)),
         DataValidationError, "time_decreasing", "TIME", (7,)),
)
