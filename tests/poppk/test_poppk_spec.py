import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blinapk.errors import ModelSpecError
from blinapk.poppk.spec import (
    CovariateSpec,
    PopPKSpec,
    parse_covariate,
    parse_structure,
    spec_from_cli,
)


def test_parse_covariate_forms_and_reference():
    assert parse_covariate("CL~BSA:power") == CovariateSpec("CL", "BSA", "power", None)
    assert parse_covariate("cl~bsa") == CovariateSpec("CL", "BSA", "power", None)
    c = parse_covariate("V~WT:exponential@70")
    assert (c.param, c.covariate, c.form, c.reference) == ("V", "WT", "exponential", 70.0)
    c = parse_covariate("CL~SEX:categorical@F")
    assert c.reference == "F" and c.form == "categorical"


@pytest.mark.parametrize("text", ["CLBSA", "CL~", "~BSA", "CL~BSA~WT", "CL~BSA:cubic",
                                  "CL~BSA:power@abc", "CL~BSA:power@-1"])
def test_parse_covariate_rejects_malformed(text):
    with pytest.raises(ModelSpecError):
        parse_covariate(text)


def test_structure_aliases():
    assert parse_structure("one-cmt") == "1cmt"
    assert parse_structure("TWO-CMT") == "2cmt"
    with pytest.raises(ModelSpecError, match="^structure"):
        parse_structure("3cmt")


def test_defaults_and_canonical_order():
    spec = PopPKSpec(bsv=("V", "CL"))
    assert spec.structure == "1cmt" and spec.bsv == ("CL", "V")
    assert spec.residual == "proportional" and spec.blq == "M3"
    assert spec.parameterisation_for("CL") == "auto"


@pytest.mark.parametrize("kwargs, key", [
    ({"structure": "4cmt"}, "structure"),
    ({"bsv": ("CL", "Q")}, "bsv"),
    ({"bsv": "CL"}, "bsv"),
    ({"residual": "lognormal"}, "residual"),
    ({"blq": "M4"}, "blq"),
    ({"correlation": "yes"}, "correlation"),
    ({"correlation": True, "bsv": ("CL",)}, "correlation"),
    ({"parameterisation": "sometimes"}, "parameterisation"),
    ({"parameterisation": {"Q": "centered"}}, "parameterisation.Q"),
    ({"parameterisation": {"V": "funky"}}, "parameterisation.V"),
    ({"covariates": ("Q~BSA",)}, "covariates"),
    ({"covariates": ("CL~BSA", "CL~BSA:exponential")}, "covariates"),
    ({"correlation": True, "parameterisation": {"CL": "centered", "V": "noncentered"}},
     "parameterisation"),
])
def test_bad_spec_names_the_key(kwargs, key):
    with pytest.raises(ModelSpecError) as err:
        PopPKSpec(**kwargs)
    assert str(err.value).startswith(key)


def test_from_dict_unknown_key_named():
    with pytest.raises(ModelSpecError, match="^residuals: unknown spec key"):
        PopPKSpec.from_dict({"residuals": "additive"})


def test_json_round_trip_and_plain_types():
    spec = PopPKSpec(structure="2cmt", covariates=("CL~BSA:power@1.88", "V~SEX:categorical"),
                     bsv=("CL", "V", "Q"), correlation=True, residual="combined", blq="M1",
                     parameterisation={"CL": "centered"})
    raw = json.loads(spec.to_json())
    assert raw["parameterisation"] == {"CL": "centered"}
    assert raw["covariates"][1] == {"param": "V", "covariate": "SEX", "form": "categorical",
                                    "reference": None}
    assert PopPKSpec.from_json(spec.to_json()) == spec
    assert hash(spec) == hash(PopPKSpec.from_dict(raw))


def test_with_references_and_cli():
    spec = spec_from_cli("one-cmt", ["CL~BSA:power"])
    filled = spec.with_references({("CL", "BSA"): 1.88})
    assert filled.covariates[0].reference == 1.88
    assert spec.covariates[0].reference is None  # original untouched


def test_spec_from_card():
    from blinapk.cards import load_card

    card = load_card("blinatumomab_zhu2020")
    spec = PopPKSpec.from_card(card, residual="combined")
    assert spec.structure == "1cmt" and spec.bsv == ("CL", "V")
    assert spec.covariates == (CovariateSpec("CL", "BSA", "power", 1.88),)
    assert spec.residual == "combined"


@settings(max_examples=100, deadline=None)
@given(structure=st.sampled_from(["1cmt", "2cmt"]),
       residual=st.sampled_from(["proportional", "additive", "combined"]),
       blq=st.sampled_from(["M3", "M1"]), corr=st.booleans(),
       par=st.sampled_from(["auto", "centered", "noncentered"]),
       ref=st.one_of(st.none(), st.floats(0.1, 100, allow_nan=False)))
def test_round_trip_property(structure, residual, blq, corr, par, ref):
    spec = PopPKSpec(structure=structure, residual=residual, blq=blq, correlation=corr,
                     parameterisation=par, covariates=(CovariateSpec("CL", "WT", "power", ref),))
    assert PopPKSpec.from_json(spec.to_json()) == spec
