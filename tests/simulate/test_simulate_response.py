"""predict_response: E-R predicted rates of virtual trials (hand cases, known truth, refusals)."""

from __future__ import annotations

import functools
import warnings
from dataclasses import replace

import numpy as np
import pytest
from scipy.special import expit

from blinapk.er import CovariateTerm, given_er
from blinapk.errors import ModelSpecError
from blinapk.simulate import (
    THREE_PLUS_THREE,
    dlt_probabilities_from_er,
    operating_characteristics,
    predict_dose_levels,
    predict_response,
    simulate_exposure,
)


@pytest.fixture(scope="module")
def mixed():
    return simulate_exposure(400, seed=3, population="mixed", regimen="weight_based_rr")


def _target_css(ds):
    """Css at 28 ug/day for flat-dosed patients, 15 ug/m2/day for BSA-dosed ones."""
    css = ds["CSS"].isel(draw=0)
    adult = ds["REGIMEN"].values == "adult_rr"
    return np.where(adult, css.sel(dose_level="28 ug/day"), css.sel(dose_level="15 ug/m2/day"))


def test_hand_case_slope_one_gives_css_over_css_plus_ref(mixed):
    # logit p = log(Css / ref): p = Css / (Css + ref), each patient at their arm's target level
    fit = given_er("crcrh", intercept=0.0, slope=1.0, ref=500.0)
    t = predict_response(mixed, fit, by=("ARM",)).set_index("ARM")
    x = _target_css(mixed)
    arm = mixed["ARM"].values
    for a in ("adult", "paediatric"):
        expected = np.mean(x[arm == a] / (x[arm == a] + 500.0))
        assert t.loc[a, "MEDIAN"] == pytest.approx(expected, rel=1e-12)
        assert t.loc[a, "LOWER"] == t.loc[a, "UPPER"] == t.loc[a, "MEDIAN"]  # one draw
        assert t.loc[a, "N_SUBJECTS"] == (arm == a).sum() and t.loc[a, "N_MISSING"] == 0
    assert t.loc["adult", "EXPOSURE_GMEAN"] == pytest.approx(
        np.exp(np.log(x[arm == "adult"]).mean()))
    assert t["EXPOSURE"].iloc[0] == "CSS at 28 ug/day / 15 ug/m2/day"


def test_draws_give_the_interval_and_pair_with_pk_draws():
    # slope 0: the rate of draw k is expit(intercept_k) whatever the exposure
    fit = given_er("crs3", intercept=[-1.0, 0.0, 1.0], slope=0.0, ref=500.0)
    ds = simulate_exposure(50, seed=1, regimen="adult_rr")
    row = predict_response(ds, fit, ci=0.9).iloc[0]
    rates = expit(np.array([-1.0, 0.0, 1.0]))
    assert row["N_DRAWS"] == 3 and row["MEDIAN"] == pytest.approx(0.5)
    assert row["MEAN"] == pytest.approx(rates.mean())
    assert row["LOWER"] == pytest.approx(np.quantile(rates, 0.05))
    assert row["UPPER"] == pytest.approx(np.quantile(rates, 0.95))
    # 6 E-R draws x 3 PK draws (card: replicate random effects): pairs k -> PK draw [0,0,1,1,2,2]
    fit6 = given_er("crcrh", intercept=np.linspace(-0.5, 0.5, 6), slope=1.2, ref=400.0)
    ds3 = simulate_exposure(60, seed=2, regimen="adult_rr", n_draws=3)
    row = predict_response(ds3, fit6).iloc[0]
    css = ds3["CSS"].sel(dose_level="28 ug/day").values  # (draw, subject)
    per_pair = [expit(a + 1.2 * np.log(css[d] / 400.0)).mean()
                for a, d in zip(np.linspace(-0.5, 0.5, 6), [0, 0, 1, 1, 2, 2], strict=True)]
    assert row["N_DRAWS"] == 6
    assert row["MEAN"] == pytest.approx(np.mean(per_pair), rel=1e-12)
    assert row["MEDIAN"] == pytest.approx(np.median(per_pair), rel=1e-12)


def test_css_start_cavg_and_explicit_mapping():
    ds = simulate_exposure(80, seed=4, regimen="adult_rr", windows={"C1_ON": (0, 672)})
    base = dict(intercept=0.0, slope=1.0, ref=300.0)
    start = predict_response(ds, given_er("crs", metric="css_start", **base)).iloc[0]
    x = ds["CSS"].sel(dose_level="9 ug/day").values[0]
    assert start["MEDIAN"] == pytest.approx(np.mean(x / (x + 300.0)), rel=1e-12)
    cavg = predict_response(ds, given_er("crs", metric="cavg", **base)).iloc[0]
    x = ds["CAVG"].sel(window="C1_ON").values[0]
    assert cavg["EXPOSURE"] == "CAVG over C1_ON"
    assert cavg["MEDIAN"] == pytest.approx(np.mean(x / (x + 300.0)), rel=1e-12)
    forced = predict_response(ds, {"m": given_er("crs", **base)},
                              exposure={"m": ("CSS", "9 ug/day")}).iloc[0]
    assert forced["MEDIAN"] == pytest.approx(start["MEDIAN"], rel=1e-12)


def test_covariates_come_from_the_population(mixed):
    child = CovariateTerm("AGEGROUP[child]", "AGEGROUP", "level", level="child",
                          reference="adult")
    fit = given_er("crcrh", intercept=0.0, slope=0.0, ref=500.0, terms=(child,), gamma=[-1.0])
    t = predict_response(mixed, fit, by=("GROUP",)).set_index("GROUP")
    assert t.loc["adult", "MEDIAN"] == pytest.approx(0.5)
    assert t.loc["child", "MEDIAN"] == pytest.approx(expit(-1.0))
    blast = CovariateTerm("BLAST", "BLAST", "numeric", centre=50.0, scale=20.0)
    fit = given_er("crcrh", intercept=0.0, slope=0.0, ref=500.0, terms=(blast,), gamma=[0.5])
    row = predict_response(mixed, fit).iloc[0]
    b = mixed["BLAST"].values
    assert row["MEDIAN"] == pytest.approx(expit(0.5 * (b - 50.0) / 20.0).mean(), rel=1e-12)


def test_refusals(mixed):
    base = dict(intercept=0.0, slope=1.0, ref=500.0)
    with pytest.raises(ModelSpecError, match=r"no CAVG window .*windows=\{'C1_ON': \(0, 672\)\}"):
        predict_response(mixed, given_er("crs", metric="cavg", **base))
    with pytest.raises(ModelSpecError, match="does not compute; refit on css"):
        predict_response(mixed, replace(given_er("crs", **base), metric="cmax_start"))
    with pytest.raises(ModelSpecError, match="per-event"):
        predict_response(mixed, replace(given_er("crs", **base), kind="peak"))
    ecog = CovariateTerm("ECOG", "ECOG", "numeric", centre=1.0, scale=1.0)
    with pytest.raises(ModelSpecError, match="covariate 'ECOG'.*does not carry"):
        predict_response(mixed, given_er("crs", terms=(ecog,), gamma=[0.1], **base))
    arm = CovariateTerm("ARM[chemotherapy]", "ARM", "level", level="chemotherapy",
                        reference="blinatumomab")
    with pytest.raises(ModelSpecError, match=r"level\(s\) \['adult', 'paediatric'\]"):
        predict_response(mixed, given_er("crs", terms=(arm,), gamma=[0.1], **base))
    with pytest.raises(ModelSpecError, match="given_er takes binary"):
        given_er("os", **base)
    paused = simulate_exposure(20, seed=1, regimen="adult_rr", windows={"C1_ON": (0, 672)},
                               interruptions=_pause())
    with pytest.raises(ModelSpecError, match="varies between patients"):
        predict_response(paused, given_er("crs", metric="cavg", **base))


def _pause():
    from blinapk.dosing import Interruption

    return Interruption.from_days(10.0, 3.0, schedule="label", reason="test")


def test_dlt_probabilities_from_a_safety_er_model():
    fit = given_er("crs3", intercept=0.0, slope=2.5, ref=1200.0)
    doses = [5.0, 15.0, 30.0]
    table = predict_dose_levels(doses, fit, unit="ug/m2/day", population="paediatric", n=300,
                                seed=9)
    p = dlt_probabilities_from_er(doses, fit, unit="ug/m2/day", population="paediatric", n=300,
                                  seed=9)
    np.testing.assert_allclose(p, table["MEAN"])
    for dose, prob in zip(doses, p, strict=True):  # same patients at every dose
        ds = simulate_exposure(300, 9, population="paediatric", regimen=_flat(dose),
                               thresholds=())
        x = ds["CSS"].values[0, :, 0]
        assert prob == pytest.approx(np.mean(1.0 / (1.0 + (1200.0 / x) ** 2.5)), rel=1e-12)
    assert np.all(np.diff(p) > 0)
    oc = operating_characteristics(
        [THREE_PLUS_THREE], functools.partial(dlt_probabilities_from_er, er=fit,
                                              unit="ug/m2/day", population="paediatric",
                                              n=300, seed=9),
        n_trials=200, seed=1, doses=doses)
    np.testing.assert_allclose(oc.p_dlt, p)


def _flat(dose):
    from blinapk.dosing import CycleSpec, Regimen, Step

    return Regimen("flat", (CycleSpec(1, None, (Step(1, dose, "ug/m2/day"),)),))


@pytest.fixture(scope="module")
def known_truth():
    """A trial whose CR/CRh* follows logit p = a + b log(Css/500) (no other effect), its fit."""
    from blinapk.data import read_clinical, read_dataset
    from blinapk.er import exposure_from_params, fit_er
    from blinapk.simulate import load_clinical_model, simulate_trial

    model = load_clinical_model().with_values({"remission.slope_blast": 0.0,
                                               "remission.child_offset": 0.0,
                                               "remission.slope_log_css": 1.0})
    trial = simulate_trial(300, seed=5, paediatric_fraction=0.0, interruption_fraction=0.0,
                           cytokines=False, clinical_model=model)
    ds = read_dataset(trial.data)
    clinical = read_clinical(trial.subjects, trial.assessments, trial.adverse_events,
                             dataset=ds)
    truth = trial.truth
    expo = exposure_from_params(ds, {"CL": truth["CL"].to_numpy(), "V": truth["V"].to_numpy()},
                                "css", subjects=tuple(truth["ID"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_er(clinical, expo, endpoint="crcrh", uncertainty="plugin", dataset=ds,
                     draws=300, tune=300, chains=2, seed=1, regimens=False)
    return model, fit


@pytest.mark.slow
def test_known_truth_rate_at_the_label_regimen_is_in_the_interval(known_truth):
    model, fit = known_truth
    ds = simulate_exposure(5000, seed=11, population="adult", regimen="adult_rr")
    row = predict_response(ds, fit).iloc[0]
    x = ds["CSS"].sel(dose_level="28 ug/day").values[0]
    truth = expit(model["remission.intercept"] + 1.0 * np.log(x / model["remission.css_ref"]))
    assert row["LOWER"] <= truth.mean() <= row["UPPER"]
    assert row["N_DRAWS"] == 600 and row["UPPER"] - row["LOWER"] < 0.2


def test_lazy_dask_results_give_the_same_rates():
    pytest.importorskip("dask")
    fit = given_er("crcrh", intercept=[-0.3, 0.0, 0.3], slope=0.8, ref=500.0)
    eager = simulate_exposure(3000, seed=6, population="mixed", regimen="weight_based_rr",
                              chunk_size=1000)
    lazy = simulate_exposure(3000, seed=6, population="mixed", regimen="weight_based_rr",
                             chunk_size=1000, dask="synchronous")
    a = predict_response(eager, fit, by=("ARM",))
    b = predict_response(lazy, fit, by=("ARM",))
    cols = ["ARM", "N_SUBJECTS", "MEAN", "MEDIAN", "LOWER", "UPPER", "EXPOSURE_GMEAN"]
    np.testing.assert_allclose(a[cols[2:]].to_numpy(float), b[cols[2:]].to_numpy(float),
                               rtol=1e-12)
    assert a[cols[:2]].equals(b[cols[:2]])
