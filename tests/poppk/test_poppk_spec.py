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
    ({"dvid": ""}, "dvid"),
    ({"dvid": 3}, "dvid"),
    ({"residual": "proportional_log"}, "residual"),
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
    assert raw["dvid"] == "BLIN"
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


# --- fixed covariate effects -------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("CL~WT:power=1", CovariateSpec("CL", "WT", "power", None, fixed=1.0)),
    ("CL~WT:power@70=0.75", CovariateSpec("CL", "WT", "power", 70.0, fixed=0.75)),
    ("CL~WT@70=0.75", CovariateSpec("CL", "WT", "power", 70.0, fixed=0.75)),
    ("CL~WT=1", CovariateSpec("CL", "WT", "power", None, fixed=1.0)),
    (" v ~ crcl : exponential @ 80 = -0.01 ", CovariateSpec("V", "CRCL", "exponential", 80.0,
                                                            fixed=-0.01)),
    ("CL~AGE:linear@40=0", CovariateSpec("CL", "AGE", "linear", 40.0, fixed=0.0)),
])
def test_parse_fixed_covariate(text, expected):
    got = parse_covariate(text)
    assert got == expected and got.is_fixed
    assert not parse_covariate("CL~WT:power@70").is_fixed


@pytest.mark.parametrize("text, match", [
    ("CL~WT:power=", "nothing after '='"),
    ("CL~WT:power@70=", "nothing after '='"),
    ("CL~WT:power=abc", r"\.fixed: 'abc' is not a number"),
    ("CL~WT:power=inf", r"\.fixed: must be finite"),
    ("CL~WT:power=nan", r"\.fixed: must be finite"),
    ("CL~WT:power=1@70", r"\.fixed: '1@70' is not a number"),  # fixed value must come last
    ("CL~WT:power=1=2", "is not of the form"),
    ("CL~WT@=1", "is not of the form"),
    ("CL~WT@70:power=1", "is not of the form"),  # form must come before the reference
    ("CL~SEX:categorical@M=0.5", "categorical effect cannot be fixed"),
    ("=1", "is not of the form"),
])
def test_parse_fixed_covariate_errors(text, match):
    with pytest.raises(ModelSpecError, match=match):
        parse_covariate(text)


def test_fixed_covariate_round_trip_and_serialisation():
    fixed = CovariateSpec("CL", "WT", "power", 70, fixed=0.75)
    assert fixed.to_dict() == {"param": "CL", "covariate": "WT", "form": "power",
                               "reference": 70.0, "fixed": 0.75}
    # an estimated effect serialises as before (no "fixed" key): old stamps stay readable
    assert "fixed" not in CovariateSpec("CL", "WT").to_dict()
    assert CovariateSpec.from_dict(fixed.to_dict()) == fixed
    spec = PopPKSpec(covariates=(fixed, "V~WT:power@70=1"))
    again = PopPKSpec.from_json(spec.to_json())
    assert again == spec and again.covariates[1].fixed == 1.0
    with pytest.raises(ModelSpecError, match="fixed: expected a number"):
        CovariateSpec("CL", "WT", fixed=True)
    # fixing the value is part of the model's identity
    assert CovariateSpec("CL", "WT", fixed=1.0) != CovariateSpec("CL", "WT")


def test_dvid_normalised_and_serialised():
    spec = PopPKSpec(dvid=" il6 ")
    assert spec.dvid == "IL6"
    assert PopPKSpec.from_json(spec.to_json()) == spec
    assert PopPKSpec().dvid == "BLIN"
    # a stamp written before the field existed has no "dvid": it means BLIN
    raw = json.loads(PopPKSpec().to_json())
    del raw["dvid"]
    assert PopPKSpec.from_dict(raw) == PopPKSpec()


@settings(max_examples=100, deadline=None)
@given(param=st.sampled_from(["CL", "V"]), cov=st.sampled_from(["WT", "BSA", "AGE"]),
       form=st.sampled_from(["power", "exponential", "linear"]),
       ref=st.one_of(st.none(), st.floats(0.1, 100, allow_nan=False)),
       fixed=st.one_of(st.none(), st.floats(-3, 3, allow_nan=False)))
def test_cli_string_round_trip_property(param, cov, form, ref, fixed):
    """A spec written back to the CLI grammar parses to the same spec."""
    text = f"{param}~{cov}:{form}" + (f"@{ref!r}" if ref is not None else "") + (
        f"={fixed!r}" if fixed is not None else "")
    assert parse_covariate(text) == CovariateSpec(param, cov, form, ref, fixed)


def test_cli_arguments_build_the_spec():
    """``blinapk fit`` options: fixed covariate, linear-scale proportional error, analyte."""
    import argparse

    from blinapk.commands.fit import add_arguments, spec_from_args

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["data.csv", "--out", "o", "--covariate", "CL~WT:power@70=0.75",
                              "--covariate", "V~WT:power@70", "--residual",
                              "proportional_linear", "--dvid", "il6"])
    spec = spec_from_args(args)
    assert spec.covariates == (CovariateSpec("CL", "WT", "power", 70.0, fixed=0.75),
                               CovariateSpec("V", "WT", "power", 70.0))
    assert spec.residual == "proportional_linear" and spec.dvid == "IL6"
    default = spec_from_args(parser.parse_args(["data.csv", "--out", "o"]))
    assert default == PopPKSpec()  # the CLI defaults are the library defaults
    bad = parser.parse_args(["data.csv", "--out", "o", "--covariate", "CL~WT:power=x"])
    with pytest.raises(ModelSpecError, match="fixed"):
        spec_from_args(bad)
