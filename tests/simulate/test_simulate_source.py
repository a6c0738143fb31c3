"""The parameter-source seam: a model card is one, and a tiny custom source works the same way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from blinapk.cards import load_card
from blinapk.data import read_dataset
from blinapk.errors import ModelSpecError
from blinapk.simulate import ParameterSource, resolve_source, simulate_trial
from blinapk.simulate.source import draw_parameters, source_settings

N = 8


@dataclass(frozen=True)
class WeightSource:
    """CL proportional to body weight, fixed V, no randomness: truth is hand-calculable."""

    cl_per_kg: float = 0.03
    v: float = 5.0
    name: str = "weight-proportional"
    structure: str = "1cmt"
    params: tuple[str, ...] = ("CL", "V")
    covariate_names: tuple[str, ...] = ("WT",)
    residual: Mapping[str, float] = field(default_factory=lambda: {"prop": 0.0, "add": 0.0})
    seen: list = field(default_factory=list, compare=False)

    def individual_parameters(self, covariates_frame, rng):
        self.seen.append((list(covariates_frame.columns), type(rng)))
        wt = covariates_frame["WT"].to_numpy()
        return pd.DataFrame({"CL": self.cl_per_kg * wt, "V": np.full(len(wt), self.v),
                             "NOTE": "by weight"})

    def settings(self):
        return {"cl_per_kg": self.cl_per_kg, "v": self.v}


@dataclass(frozen=True)
class Broken:
    """A source whose output is replaced by ``out(frame)``."""

    out: object
    name: str = "broken"
    structure: str = "1cmt"
    params: tuple[str, ...] = ("CL", "V")
    covariate_names: tuple[str, ...] = ()
    residual: Mapping[str, float] = field(default_factory=lambda: {"prop": 0.1, "add": 1.0})

    def individual_parameters(self, covariates_frame, rng):
        return self.out(covariates_frame)


def test_a_model_card_is_a_parameter_source():
    card = load_card("blinatumomab_zhu2020")
    assert isinstance(card, ParameterSource)
    assert resolve_source("blinatumomab_zhu2020") == card
    assert resolve_source(card) is card
    record = source_settings(card)
    assert record["card"] == "blinatumomab_zhu2020"
    assert record["card_numbers"]["omega.CL"] == 0.7


def test_custom_source_drives_the_pk():
    source = WeightSource()
    assert isinstance(source, ParameterSource)
    t = simulate_trial(N, seed=3, card=source, cytokines=False)
    read_dataset(t.data)
    # the source saw ID and its covariates, and a numpy Generator (the pk_eta stream)
    assert source.seen == [(["ID", "WT"], np.random.Generator)]
    truth = t.truth
    np.testing.assert_allclose(truth["CL"], 0.03 * truth["WT"])
    assert (truth["V"] == 5.0).all() and (truth["NOTE"] == "by weight").all()
    np.testing.assert_allclose(truth["CSS_FIRST"], 1000 * truth["RATE_FIRST"] / truth["CL"])
    # the source's residual error (zero here) is used: measured = true concentration
    o = t.observations
    np.testing.assert_allclose(o["MEASURED"], o["IPRED"])
    s = t.settings
    assert s["card"] == "weight-proportional" and s["structure"] == "1cmt"
    assert s["parameter_source"] == {"cl_per_kg": 0.03, "v": 5.0}
    assert "card_numbers" not in s
    assert s["residual"] == {"prop": 0.0, "add": 0.0}


def test_only_the_pk_differs_from_a_card_trial():
    # population, design and sampling streams do not depend on the source
    card = simulate_trial(N, seed=3, cytokines=False)
    custom = simulate_trial(N, seed=3, card=WeightSource(), cytokines=False)
    for col in ("ID", "TIME", "EVID", "AMT", "RATE", "WT", "BSA"):
        pd.testing.assert_series_equal(card.data[col], custom.data[col])
    assert not np.allclose(card.truth["CL"], custom.truth["CL"])


def test_source_without_settings_is_recorded_by_type():
    source = Broken(lambda f: pd.DataFrame({"CL": np.full(len(f), 2.0), "V": 6.0}))
    record = source_settings(source)
    assert record == {"card": "broken", "parameter_source": {"type": "Broken"}}
    t = simulate_trial(3, seed=1, card=source, cytokines=False)
    assert t.settings["parameter_source"] == {"type": "Broken"}
    assert list(t.truth["ID"]) == [1, 2, 3]  # ID filled in from the population


@pytest.mark.parametrize(("out", "match"), [
    (lambda f: pd.DataFrame({"CL": [2.0], "V": [6.0]}), "expected 3 rows"),
    (lambda f: pd.DataFrame({"CL": np.full(len(f), 2.0)}), r"column\(s\) \['V'\]"),
    (lambda f: pd.DataFrame({"CL": [2.0, -1.0, 2.0], "V": 6.0}), "finite and > 0"),
    (lambda f: pd.DataFrame({"ID": f["ID"][::-1].to_numpy(), "CL": 2.0, "V": 6.0}), "order"),
])
def test_bad_source_output_is_rejected(out, match):
    frame = pd.DataFrame({"ID": [1, 2, 3]})
    with pytest.raises(ModelSpecError, match=match):
        draw_parameters(Broken(out), frame, np.random.default_rng(0))


def test_not_a_source():
    with pytest.raises(TypeError, match="ParameterSource"):
        resolve_source(42)
    with pytest.raises(ModelSpecError, match="residual"):
        simulate_trial(2, seed=1, card=WeightSource(residual={"prop": 0.1}), cytokines=False)
