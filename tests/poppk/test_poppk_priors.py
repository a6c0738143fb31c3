import math

import pytest

from blinapk.cards import load_card
from blinapk.errors import ModelSpecError
from blinapk.poppk.priors import (
    Prior,
    PriorConfig,
    card_priors,
    default_priors,
    resolve_priors,
)
from blinapk.poppk.spec import PopPKSpec


def test_default_keys_and_values():
    spec = PopPKSpec(covariates=("CL~BSA:power@1.88", "V~AGE:exponential@40"),
                     residual="combined", correlation=True)
    cfg = default_priors(spec, {"V_AGE": 30.0})
    assert set(cfg.keys()) == {"log_CL", "log_V", "omega_CL", "omega_V", "beta_CL_BSA",
                               "beta_V_AGE", "sigma_prop", "sigma_add", "lkj_eta"}
    assert cfg["log_CL"].kwargs == {"mu": round(math.log(2.0), 6), "sigma": 1.0}
    assert cfg["log_V"].kwargs == {"mu": round(math.log(5.0), 6), "sigma": 1.0}
    assert cfg["omega_CL"] == Prior("HalfNormal", (("sigma", 1.0),))
    assert cfg["beta_CL_BSA"].kwargs == {"mu": 0.0, "sigma": 1.0}
    # exponential effect scaled to the covariate spread: 1/30 per year
    assert cfg["beta_V_AGE"].kwargs["sigma"] == pytest.approx(1 / 30, rel=1e-5)
    assert cfg["sigma_prop"].kwargs == {"sigma": 0.5}
    assert cfg["sigma_add"].kwargs == {"sigma": 100.0}
    assert cfg["lkj_eta"].kwargs == {"eta": 2.0}


def test_json_round_trip():
    cfg = default_priors(PopPKSpec(structure="2cmt", residual="additive"))
    assert PriorConfig.from_json(cfg.to_json()) == cfg
    assert "log_Q" in cfg and "sigma_prop" not in cfg


@pytest.mark.parametrize("key, prior, match", [
    ("omega_CL", {"dist": "HalfNormal", "sigma": -1.0}, "omega_CL.sigma: must be > 0"),
    ("omega_CL", {"dist": "HalfNormal", "sigma": 0.0}, "omega_CL.sigma"),
    ("omega_CL", {"dist": "Normal", "mu": 0.0, "sigma": 1.0}, "omega_CL: Normal has real"),
    ("log_CL", {"dist": "HalfNormal", "sigma": 1.0}, "log_CL: HalfNormal has positive"),
    ("log_CL", {"dist": "Normal", "mu": float("nan"), "sigma": 1.0}, "log_CL.mu: must be finite"),
    ("log_CL", {"dist": "Normal", "mu": 0.0}, "log_CL.sigma: missing"),
    ("log_CL", {"dist": "Normal", "mu": 0.0, "sigma": 1.0, "nu": 3}, "log_CL.nu"),
    ("log_CL", {"dist": "Cauchy", "alpha": 0.0}, "log_CL: unknown distribution"),
    ("sigma_prop", {"dist": "Exponential", "lam": -2}, "sigma_prop.lam"),
    ("lkj_eta", {"dist": "LKJ", "eta": 0}, "lkj_eta.eta"),
    ("kappa_CL", {"dist": "Normal", "mu": 0, "sigma": 1}, "kappa_CL: unknown prior key"),
    ("log_CL", {"dist": "Normal", "mu": "two", "sigma": 1}, "log_CL.mu: expected a number"),
])
def test_impossible_priors_rejected(key, prior, match):
    with pytest.raises(ModelSpecError, match=match):
        PriorConfig.from_dict({key: prior})


def test_resolve_overrides_and_rejects_unused():
    spec = PopPKSpec()
    cfg = resolve_priors(spec, {"log_CL": {"dist": "Normal", "mu": 1.0, "sigma": 0.2}})
    assert cfg["log_CL"].kwargs == {"mu": 1.0, "sigma": 0.2}
    assert cfg["log_V"] == default_priors(spec)["log_V"]
    assert cfg.source == "default+user"
    with pytest.raises(ModelSpecError, match="^sigma_add: prior key not used"):
        resolve_priors(spec, {"sigma_add": {"dist": "HalfNormal", "sigma": 5}})


def test_card_priors_centred_on_card():
    card = load_card("blinatumomab_zhu2020")
    spec = PopPKSpec.from_card(card, residual="combined")
    cfg = card_priors(card, spec)
    assert cfg.source == "card:blinatumomab_zhu2020"
    assert cfg["log_CL"].kwargs == {"mu": round(math.log(2.22), 6), "sigma": 0.3}
    assert cfg["log_V"].kwargs["mu"] == round(math.log(5.98), 6)
    assert cfg["omega_CL"].dist == "LogNormal"
    assert math.exp(cfg["omega_CL"].kwargs["mu"]) == pytest.approx(0.7, rel=1e-5)
    assert cfg["beta_CL_BSA"].kwargs == {"mu": 0.61, "sigma": 0.25}
    assert math.exp(cfg["sigma_add"].kwargs["mu"]) == pytest.approx(10.0, rel=1e-5)
    # a different reference means a different effect: default prior kept
    other = spec.with_references({("CL", "BSA"): 1.73})
    assert card_priors(card, other)["beta_CL_BSA"].kwargs == {"mu": 0.0, "sigma": 1.0}


def test_prior_centres():
    assert Prior("HalfNormal", (("sigma", 1.0),)).centre() == pytest.approx(0.67449, rel=1e-4)
    assert Prior("LogNormal", (("mu", math.log(0.7)), ("sigma", 0.5))).centre() == (
        pytest.approx(0.7))
    assert Prior("Exponential", (("lam", 2.0),)).centre() == pytest.approx(math.log(2) / 2)
