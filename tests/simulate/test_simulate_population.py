"""Virtual population: hand-calculable BSA, realistic and correlated covariates."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blinapk.simulate.population import POPULATION, mosteller_bsa, simulate_population


def test_mosteller_hand_calculated():
    # sqrt(180 * 80 / 3600) = sqrt(4) = 2; sqrt(100 * 16 / 3600) = 2/3
    np.testing.assert_allclose(mosteller_bsa([180.0, 100.0], [80.0, 16.0]), [2.0, 2.0 / 3.0])


@pytest.fixture(scope="module")
def pop():
    return simulate_population(20000, np.random.default_rng(5), paediatric_fraction=0.2)


def test_adult_bsa_centred_on_zhu_median(pop):
    adults = pop[pop["GROUP"] == "adult"]
    # Zhu 2020: median BSA of the (mostly adult) analysis population 1.88 m2
    assert adults["BSA"].median() == pytest.approx(1.88, abs=0.03)
    assert 0.15 < adults["BSA"].std() < 0.3
    assert (adults["AGE"] >= 18).all() and (adults["AGE"] <= 80).all()


def test_children_fraction_and_ranges(pop):
    children = pop[pop["GROUP"] == "child"]
    # binomial SE of the fraction: sqrt(0.16 / 20000) = 0.003
    assert len(children) / len(pop) == pytest.approx(0.2, abs=0.012)
    assert children["AGE"].between(1, 17).all()
    # smallest BSA in Zhu 2020's children was 0.37 m2: the simulation covers that range
    assert children["BSA"].min() < 0.5 and children["BSA"].max() < 2.6
    # most children (but not all) weigh < 45 kg, so both label arms occur
    assert 0.6 < (children["WT"] < 45).mean() < 0.95


def test_covariates_are_correlated_as_designed(pop):
    children = pop[pop["GROUP"] == "child"]
    assert np.corrcoef(children["AGE"], children["WT"])[0, 1] > 0.8
    np.testing.assert_allclose(pop["BSA"], mosteller_bsa(pop["HEIGHT"], pop["WT"]), atol=0.005)
    adults = pop[pop["GROUP"] == "adult"]
    below_cap = adults["CRCL"] < POPULATION["crcl_cap"]
    # Cockcroft-Gault: CRCL falls with age at fixed weight
    assert np.corrcoef(adults.loc[below_cap, "AGE"], adults.loc[below_cap, "CRCL"])[0, 1] < -0.3
    assert pop["CRCL"].max() <= POPULATION["crcl_cap"]
    assert pop["BLAST"].between(5, 100).all()
    assert set(pop["SEX"]) == {"M", "F"}


def test_cockcroft_gault_hand_calculated(pop):
    a = pop[(pop["GROUP"] == "adult") & (pop["CRCL"] < POPULATION["crcl_cap"])].iloc[0]
    cg = (140 - a["AGE"]) * a["WT"] / (72 * a["SCR"]) * (0.85 if a["SEX"] == "F" else 1.0)
    assert a["CRCL"] == pytest.approx(cg, abs=0.05)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40),
       frac=st.floats(0.0, 1.0))
def test_population_properties(seed, n, frac):
    pop = simulate_population(n, np.random.default_rng(seed), paediatric_fraction=frac)
    assert len(pop) == n and list(pop["ID"]) == list(range(1, n + 1))
    assert (pop[["HEIGHT", "WT", "BSA", "SCR", "CRCL"]] > 0).all().all()
    assert not pop.isna().any().any()
    if frac == 0.0:
        assert (pop["GROUP"] == "adult").all()
    if frac == 1.0:
        assert (pop["GROUP"] == "child").all()


def test_bad_fraction():
    with pytest.raises(ValueError, match="paediatric_fraction"):
        simulate_population(3, np.random.default_rng(0), paediatric_fraction=1.5)
