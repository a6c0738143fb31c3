"""Schema validation of model cards: every broken rule raises ModelSpecError naming the key."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from blinapk.cards import (
    CovariateEffect,
    ModelCard,
    card_dirs,
    card_from_dict,
    list_cards,
    load_card,
)
from blinapk.errors import DataValidationError, ModelSpecError
from blinapk.pk import covariates as forms
from blinapk.pk.covariates import LINEAR_FLOOR

REPO_MODELS = Path(__file__).resolve().parents[2] / "models"


def raw_card(name: str = "blinatumomab_zhu2020") -> dict:
    with (REPO_MODELS / f"{name}.toml").open("rb") as fh:
        return tomllib.load(fh)


def test_list_cards_finds_the_shipped_cards():
    names = list_cards()
    assert "blinatumomab_zhu2020" in names
    assert "blinatumomab_klinger2012" in names
    assert [d.name for d in card_dirs()] == ["_models"]


@pytest.mark.parametrize("name", ["blinatumomab_zhu2020", "blinatumomab_klinger2012"])
def test_every_shipped_card_validates_and_documents_every_number(name):
    card = load_card(name)
    assert card.name == name
    assert card.structure == "1cmt"
    # every number carries a known source, a bool published flag and an evidence flag
    for key, num in card.numbers.items():
        assert num.source in card.sources, key
        assert isinstance(num.published, bool), key
        assert num.flag in ("V", "D", "U", "assumed"), key
        if not num.published:
            assert num.note, f"{key}: an unpublished number needs a note saying why"
    expected = {f"typical.{p}" for p in card.typical} | {f"omega.{p}" for p in card.omega}
    expected |= {"residual.prop", "residual.add"}
    assert expected <= set(card.numbers)


def test_zhu_card_values_match_reference_values():
    # Zhu et al., Clin Pharmacokinet 2020, doi:10.1007/s40262-019-00823-8 (abstract):
    # CL 2.22 L/h, V 5.98 L, BSA on CL, median BSA 1.88 m2; all flagged V and published.
    card = load_card("blinatumomab_zhu2020")
    assert card.typical == {"CL": 2.22, "V": 5.98}
    assert card.published["typical.CL"] and card.flags["typical.CL"] == "V"
    (effect,) = card.covariates
    assert (effect.param, effect.covariate, effect.form, effect.reference) == (
        "CL", "BSA", "power", 1.88)
    assert card.sources["zhu2020"].doi == "10.1007/s40262-019-00823-8"
    # exponent derived (D, unpublished) from "63 % lower at 0.37 m2"
    assert effect.value == pytest.approx(np.log(0.37) / np.log(0.37 / 1.88), abs=0.005)
    assert not card.published["covariates.CL.BSA.value"]
    assert card.flags["covariates.CL.BSA.value"] == "D"
    # BSV and residual error are documented assumptions, never marked published
    for key in ("omega.CL", "omega.V", "residual.prop", "residual.add"):
        assert not card.published[key]


def test_zhu_card_reproduces_the_63_percent_statement():
    card = load_card("blinatumomab_zhu2020")
    cl_small = card.typical_parameters({"BSA": 0.37})["CL"]
    assert cl_small / 2.22 == pytest.approx(1 - 0.63, abs=0.005)
    # "<= 25 % change across adult BSA" (Zhu 2020): 1.4 to 2.6 m2 stays within 25 %
    for bsa in (1.4, 2.6):
        assert abs(card.typical_parameters({"BSA": bsa})["CL"] / 2.22 - 1) <= 0.25


def test_klinger_per_m2_parameters_scale_linearly_with_bsa():
    # Klinger 2012 (via Hosseini 2020 supplement): CL 0.93 L/h/m2, V 1.61 L/m2, t1/2 ~1.2 h
    card = load_card("blinatumomab_klinger2012")
    for bsa in (0.5, 1.0, 1.88):
        tp = card.typical_parameters({"BSA": bsa})
        assert tp["CL"] == pytest.approx(0.93 * bsa)
        assert tp["V"] == pytest.approx(1.61 * bsa)
        assert np.log(2) * tp["V"] / tp["CL"] == pytest.approx(1.2, abs=0.01)


def test_card_is_frozen():
    card = load_card("blinatumomab_zhu2020")
    with pytest.raises(AttributeError):
        card.name = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        card.typical["CL"] = 3.0  # type: ignore[index]


def test_load_by_path_and_passthrough(tmp_path):
    path = REPO_MODELS / "blinatumomab_zhu2020.toml"
    card = load_card(path)
    assert card == load_card("blinatumomab_zhu2020")
    assert load_card(card) is card
    assert card.path.endswith("blinatumomab_zhu2020.toml")


def test_unknown_card_lists_available():
    with pytest.raises(ModelSpecError, match="available: .*blinatumomab_zhu2020"):
        load_card("no_such_card")


def test_invalid_toml(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [unclosed\n")
    with pytest.raises(ModelSpecError, match="invalid TOML"):
        load_card(bad)


def _set(d: dict, path: tuple, value):
    for k in path[:-1]:
        d = d[k]
    if value is _DELETE:
        del d[path[-1]]
    else:
        d[path[-1]] = value


_DELETE = object()

# (mutation path, new value, key the error must name, message fragment)
BROKEN = [
    (("name",), _DELETE, "name", "missing required key"),
    (("structure",), _DELETE, "structure", "missing required key"),
    (("typical", "V"), _DELETE, "typical.V", "missing required key"),
    (("typical", "CL", "source"), _DELETE, "typical.CL.source", "missing required key"),
    (("typical", "CL", "published"), _DELETE, "typical.CL.published", "missing"),
    (("omega", "CL", "flag"), _DELETE, "omega.CL.flag", "missing"),
    (("residual", "add"), _DELETE, "residual.add", "missing"),
    (("typical", "CL", "value"), -2.22, "typical.CL.value", "must be > 0"),
    (("typical", "V", "value"), 0.0, "typical.V.value", "must be > 0"),
    (("typical", "CL", "value"), "2.22", "typical.CL.value", "expected a number"),
    (("typical", "CL", "value"), True, "typical.CL.value", "expected a number"),
    (("typical", "CL", "value"), float("nan"), "typical.CL.value", "finite"),
    (("typical", "CL", "published"), "yes", "typical.CL.published", "true/false"),
    (("typical", "CL", "flag"), "X", "typical.CL.flag", "unknown flag"),
    (("typical", "CL", "source"), "nobody2000", "typical.CL.source", "unknown source"),
    (("typical", "KA"), {"value": 1.0, "source": "zhu2020", "published": True, "flag": "V"},
     "typical.KA", "unknown key"),
    (("structure",), "3cmt", "structure", "unknown structure"),
    (("structure",), 1, "structure", "expected a string"),
    (("elimination",), "michaelis-menten", "elimination", "linear"),
    (("omega", "CL", "value"), 0.0, "omega.CL.value", "must be > 0"),
    (("omega", "V", "value"), -0.3, "omega.V.value", "must be > 0"),
    (("omega", "Q"), {"value": 0.3, "source": "assumption", "published": False,
                      "flag": "assumed"}, "omega.Q", "unknown parameter"),
    (("residual", "prop", "value"), -0.1, "residual.prop.value", ">= 0"),
    (("residual", "exp"), {"value": 0.1, "source": "assumption", "published": False,
                           "flag": "assumed"}, "residual.exp", "unknown key"),
    (("covariates", 0, "form"), "sigmoid", "covariates[0].form", "unknown covariate form"),
    (("covariates", 0, "param"), "KA", "covariates[0].param", "unknown parameter"),
    (("covariates", 0, "reference", "value"), 0.0, "covariates[0].reference.value", "> 0"),
    (("covariates", 0, "value"), 0.61, "covariates[0].value", "expected a table"),
    (("covariates",), {"param": "CL"}, "covariates", "array of tables"),
    (("units", "CL"), 5, "units.CL", "expected a string"),
    (("units", "V"), _DELETE, "units.V", "missing unit"),
    (("schema_version",), 2, "schema_version", "must be 1"),
    (("sources", "zhu2020", "citation"), _DELETE, "sources.zhu2020.citation", "missing"),
    (("typo_key",), "x", "typo_key", "unknown key"),
]


def _case_id(case) -> str:
    """A stable test id (xdist workers must agree: no object addresses)."""
    path, value = case[0], case[1]
    shown = "<deleted>" if value is _DELETE else repr(value)
    return f"{'.'.join(map(str, path))}={shown}"[:60]


@pytest.mark.parametrize(("path", "value", "key", "fragment"), BROKEN,
                         ids=[_case_id(b) for b in BROKEN])
def test_schema_violation_names_the_key(path, value, key, fragment):
    raw = copy.deepcopy(raw_card())
    _set(raw, path, value)
    with pytest.raises(ModelSpecError) as info:
        card_from_dict(raw)
    msg = str(info.value)
    assert f"key '{key}'" in msg
    assert fragment in msg


def test_validation_does_not_mutate_input():
    raw = raw_card()
    before = copy.deepcopy(raw)
    card_from_dict(raw)
    assert raw == before


def test_duplicate_covariate_effect_rejected():
    raw = copy.deepcopy(raw_card())
    raw["covariates"].append(copy.deepcopy(raw["covariates"][0]))
    with pytest.raises(ModelSpecError, match=r"key 'covariates\[1\]'.*duplicate"):
        card_from_dict(raw)


def _num(value, **kw):
    return {"value": value, "source": "assumption", "published": False, "flag": "assumed"} | kw


def test_two_compartment_card_requires_q_and_v2():
    raw = copy.deepcopy(raw_card())
    raw["structure"] = "2cmt"
    with pytest.raises(ModelSpecError, match="key 'typical.Q'"):
        card_from_dict(raw)
    raw["typical"]["Q"] = _num(0.5)
    raw["typical"]["V2"] = _num(3.0)
    raw["units"] |= {"Q": "L/h", "V2": "L"}
    card = card_from_dict(raw)
    assert card.params == ("CL", "V", "Q", "V2")
    ind = card.individual_parameters(n=4, rng=np.random.default_rng(0))
    assert list(ind.columns) == ["TV_CL", "ETA_CL", "CL", "TV_V", "ETA_V", "V",
                                 "TV_Q", "ETA_Q", "Q", "TV_V2", "ETA_V2", "V2"]
    assert (ind["ETA_Q"] == 0).all()  # no omega for Q -> no variability


def test_all_covariate_forms_hand_calculated():
    raw = copy.deepcopy(raw_card())
    raw["covariates"] = [
        {"param": "CL", "covariate": "WT", "form": "power", "reference": _num(70.0),
         "value": _num(0.75)},
        {"param": "CL", "covariate": "AGE", "form": "exponential", "reference": _num(40.0),
         "value": _num(-0.01)},
        {"param": "V", "covariate": "CRCL", "form": "linear", "reference": _num(100.0),
         "value": _num(0.002)},
        {"param": "V", "covariate": "sex", "form": "categorical", "reference": _num("M"),
         "value": {"F": _num(0.8)}},
    ]
    card = card_from_dict(raw)
    assert card.covariate_names == ("WT", "AGE", "CRCL", "SEX")
    cov = pd.DataFrame({"ID": [1, 2], "wt": [35.0, 70.0], "AGE": [50.0, 40.0],
                        "CRCL": [50.0, 100.0], "SEX": ["F", "M"]})
    tp = card.typical_parameters(cov)
    assert tp["CL"].iloc[0] == pytest.approx(2.22 * 0.5**0.75 * np.exp(-0.1))
    assert tp["V"].iloc[0] == pytest.approx(5.98 * (1 - 0.1) * 0.8)
    assert tp["CL"].iloc[1] == pytest.approx(2.22)
    assert tp["V"].iloc[1] == pytest.approx(5.98)
    with pytest.raises(DataValidationError, match="covariate_level_unknown"):
        card.typical_parameters(cov.assign(SEX=["F", "X"]))


def test_reference_covariates_give_typical_values():
    card = load_card("blinatumomab_zhu2020")
    assert card.typical_parameters({"BSA": 1.88}) == pytest.approx({"CL": 2.22, "V": 5.98})
    assert card.typical_parameters() == {"CL": 2.22, "V": 5.98}
    ind = card.individual_parameters(n=3)
    assert (ind["CL"] == 2.22).all() and (ind["ETA_CL"] == 0).all()


def test_individual_parameters_lognormal_bsv_and_no_mutation():
    card = load_card("blinatumomab_zhu2020")
    cov = pd.DataFrame({"ID": np.arange(20000), "BSA": np.full(20000, 1.88)})
    before = cov.copy()
    ind = card.individual_parameters(cov, rng=np.random.default_rng(11))
    pd.testing.assert_frame_equal(cov, before)
    assert (ind["ID"].to_numpy() == cov["ID"].to_numpy()).all()
    np.testing.assert_allclose(ind["CL"], ind["TV_CL"] * np.exp(ind["ETA_CL"]))
    # sample log-SD of 20000 normal draws: SE ~ omega/sqrt(2n) = 0.0035
    assert np.std(ind["ETA_CL"]) == pytest.approx(0.7, abs=0.015)
    assert np.std(ind["ETA_V"]) == pytest.approx(0.4, abs=0.01)
    again = card.individual_parameters(cov, rng=np.random.default_rng(11))
    pd.testing.assert_frame_equal(ind, again)


@pytest.mark.parametrize(
    ("frame", "rule"),
    [
        (pd.DataFrame({"WT": [70.0]}), "covariate_missing"),
        (pd.DataFrame({"BSA": [1.8, np.nan]}), "covariate_nan"),
        (pd.DataFrame({"BSA": [1.8, 0.0]}), "covariate_not_positive"),
        (pd.DataFrame({"BSA": ["1.8", "big"]}), "covariate_not_numeric"),
    ],
)
def test_bad_covariates_raise_data_validation_error(frame, rule):
    card = load_card("blinatumomab_zhu2020")
    with pytest.raises(DataValidationError) as info:
        card.individual_parameters(frame)
    (violation,) = info.value.violations
    assert violation.rule == rule and violation.column == "BSA"
    if rule != "covariate_missing":
        assert violation.rows == (2,)


def test_individual_parameters_needs_exactly_one_of_covariates_or_n():
    card = load_card("blinatumomab_zhu2020")
    with pytest.raises(ModelSpecError):
        card.individual_parameters()
    with pytest.raises(ModelSpecError):
        card.individual_parameters(pd.DataFrame({"BSA": [1.0]}), n=1)


def test_linear_effect_is_floored_like_the_pk_vocabulary():
    # 1 + 0.01 * (x - 100) <= 0 below CRCL 0: floored at LINEAR_FLOOR, not negative
    e = CovariateEffect("CL", "CRCL", "linear", 100.0, 0.01)
    np.testing.assert_array_equal(e.factor([-50.0, 0.0, 50.0]), [LINEAR_FLOOR, LINEAR_FLOOR, 0.5])


def test_card_factors_are_the_shared_covariate_forms():
    x = np.array([0.37, 1.0, 1.88, 2.5])
    for form, ref, value in [("power", 1.88, 0.61), ("exponential", 1.88, -0.4),
                             ("linear", 1.88, 0.5)]:
        e = CovariateEffect("CL", "BSA", form, ref, value)
        np.testing.assert_array_equal(e.factor(x), forms.factor(form, value, x, ref))
    sex = CovariateEffect("V", "SEX", "categorical", "M", {"F": 0.8, "U": 1.3})
    np.testing.assert_allclose(sex.factor(["F", "M", "U"]), [0.8, 1.0, 1.3], rtol=1e-15)


def test_covariate_effect_is_a_plain_frozen_value():
    e = CovariateEffect("CL", "BSA", "power", 1.88, 0.61)
    np.testing.assert_allclose(e.factor([1.88, 0.94]), [1.0, 0.5**0.61])
    assert isinstance(load_card("blinatumomab_zhu2020"), ModelCard)
