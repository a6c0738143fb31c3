"""The parameter registry: immutability, dependency resolution, errors."""

import math

import pandas as pd
import pytest

from blinapk.errors import ModelSpecError
from blinapk.nca.general import DEFAULT_REGISTRY, compute_nca
from blinapk.nca.intervals import Interval
from blinapk.nca.registry import (
    ParameterSpec,
    Registry,
    nca_parameter,
    not_estimable,
    spec_of,
)


def test_dependencies_come_from_argument_names():
    spec = DEFAULT_REGISTRY["aucinf_obs"]
    assert spec.depends == ("auclast", "clast", "lambda_z")
    assert spec.unit_kind == "conc*time"
    assert spec.cdisc_code() == "AUCIFO"


def test_plan_computes_only_what_is_needed():
    assert DEFAULT_REGISTRY.plan(["cmax"]) == ("cmax",)
    plan = DEFAULT_REGISTRY.plan(["aucinf_obs"])
    assert plan.index("auclast") < plan.index("aucinf_obs")
    assert plan.index("lambda_z") < plan.index("aucinf_obs")
    assert "cl_obs" not in plan and "aumclast" not in plan


def test_evaluate_calls_only_planned_functions():
    calls = []

    @nca_parameter(unit_kind="conc", label="spy")
    def spy(cmax):
        calls.append("spy")
        return cmax

    @nca_parameter(unit_kind="conc", label="unused")
    def unused(cmax):
        calls.append("unused")
        return cmax

    reg = DEFAULT_REGISTRY.with_parameter(spy).with_parameter(unused)
    out = reg.evaluate(["spy"], {"conc": [1.0, 3.0, 2.0]})
    assert out["spy"] == (3.0, "") and calls == ["spy"]


def test_with_parameter_is_immutable_and_checks_names():
    def cmax_over_clast(cmax, clast):
        return cmax / clast

    reg = DEFAULT_REGISTRY.with_parameter(cmax_over_clast, unit_kind="unitless",
                                          label="Cmax/Clast")
    assert "cmax_over_clast" in reg and "cmax_over_clast" not in DEFAULT_REGISTRY
    with pytest.raises(ModelSpecError, match="already registered"):
        reg.with_parameter(cmax_over_clast, unit_kind="unitless", label="again")
    again = reg.with_parameter(cmax_over_clast, unit_kind="unitless", label="v2",
                               replace_existing=True)
    assert again["cmax_over_clast"].label == "v2"
    assert reg["cmax_over_clast"].label == "Cmax/Clast"


def test_user_parameter_in_the_driver():
    @nca_parameter(unit_kind="conc", label="Dose-normalised Cmax", pptestcd="CMAXD")
    def cmax_dn(cmax, dose):
        if not dose > 0:
            return not_estimable("dose must be > 0")
        return cmax / dose

    reg = DEFAULT_REGISTRY.with_parameter(cmax_dn)
    frame = pd.DataFrame({"ID": [1, 1, 1], "TIME": [0.0, 1.0, 2.0], "CONC": [0.0, 8.0, 4.0]})
    tab = compute_nca(frame, Interval(0, math.inf, ("cmax_dn",)), dose=4.0,
                      registry=reg).to_frame()
    assert tab["value"].tolist() == [2.0]
    assert tab["PPTESTCD"].tolist() == ["CMAXD"]
    tab = compute_nca(frame, Interval(0, math.inf, ("cmax_dn",)), dose=0.0,
                      registry=reg).to_frame()
    assert tab["reason"].tolist() == ["dose must be > 0"]


def test_cycles_and_unknown_dependencies_are_spec_errors():
    def a(b):
        return b

    def b(a):
        return a

    specs = [ParameterSpec("a", a, "conc", "A"), ParameterSpec("b", b, "conc", "B")]
    with pytest.raises(ModelSpecError, match="cycle"):
        Registry(tuple(specs))

    def c(nonexistent):
        return nonexistent

    with pytest.raises(ModelSpecError, match="unknown name"):
        DEFAULT_REGISTRY.with_parameter(c, unit_kind="conc", label="C")
    with pytest.raises(ModelSpecError, match="unknown NCA parameter"):
        DEFAULT_REGISTRY.plan(["no_such_parameter"])


def test_bad_specs_are_rejected():
    with pytest.raises(ModelSpecError, match="unit kind"):
        ParameterSpec("x", lambda cmax: cmax, "furlongs", "X")
    with pytest.raises(ModelSpecError, match="clash"):
        DEFAULT_REGISTRY.with_parameter(lambda conc: 1.0, name="time", unit_kind="time",
                                        label="t")
    with pytest.raises(ModelSpecError, match="not an NCA parameter"):
        spec_of(len)
    with pytest.raises(ModelSpecError, match=r"\*args"):
        ParameterSpec("v", lambda *cmax: 1.0, "conc", "V")


def test_driver_rejects_unknown_and_internal_parameters():
    frame = pd.DataFrame({"ID": [1, 1], "TIME": [0.0, 1.0], "CONC": [1.0, 2.0]})
    with pytest.raises(ModelSpecError, match="unknown NCA parameter 'auc'"):
        compute_nca(frame, Interval(0, 1, ("auc",)))
    with pytest.raises(ModelSpecError, match="lambda_z_fit"):
        compute_nca(frame, Interval(0, 1, ("lambda_z_fit",)))


def test_registry_table_lists_codes_and_dependencies():
    tab = DEFAULT_REGISTRY.to_frame()
    assert {"parameter", "unit_kind", "label", "PPTESTCD", "depends"} <= set(tab.columns)
    row = tab.set_index("parameter").loc["cl_obs"]
    assert "extravascular: CLFO" in row["PPTESTCD"] and "iv_bolus: CLO" in row["PPTESTCD"]
    assert row["depends"] == "dose, aucinf_obs, volume_factor"
    assert tab["label"].str.len().gt(0).all()
