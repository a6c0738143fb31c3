"""Treatment-emergent window, incidence with exact CIs, HSCT outcomes, episodes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from endpoint_tables import subjects
from scipy import stats

from blinapk.endpoints import (
    compute_ae_incidence,
    compute_hsct_outcomes,
    derive_ae_episodes,
    derive_treatment_emergent,
    summarize_ae_episodes,
)
from blinapk.endpoints.rates import proportion
from blinapk.errors import DataValidationError


def events(*rows) -> pd.DataFrame:
    cols = ["ID", "TERM", "CATEGORY", "GRADE", "START_DAY", "RELATED", "SERIOUS"]
    return pd.DataFrame([dict(zip(cols, r, strict=True)) for r in rows])


SUBJ = subjects({"ID": 1, "ARM": "A", "LAST_DOSE_DAY": 28}, {"ID": 2, "ARM": "A",
                "LAST_DOSE_DAY": 28}, {"ID": 3, "ARM": "B", "LAST_DOSE_DAY": 70},
                {"ID": 4, "ARM": "B"})


@pytest.mark.parametrize(
    ("start", "status", "reason"),
    [
        (1, "used", ""),                       # the first infusion day
        (0, "excluded", "onset before day 1 (before the first infusion)"),
        (58, "used", ""),                      # LAST_DOSE_DAY 28 + 30
        (59, "excluded", "onset after LAST_DOSE_DAY + 30"),
        (np.nan, "modified", "START_DAY missing: counted as treatment-emergent"),
    ],
)
def test_treatment_emergent_window(start, status, reason):
    te = derive_treatment_emergent(events((1, "Pyrexia", "INFECTION", 1, start, 0, 0)), SUBJ)
    row = te.ledger.to_frame().iloc[0]
    assert (row["STATUS"], row["REASON"]) == (status, reason)
    assert te.to_frame()["TE"].iloc[0] == (status != "excluded")


def test_window_length_and_open_window():
    ev = events((1, "x", "CRS", 1, 60, 0, 0), (4, "x", "CRS", 1, 900, 0, 0))
    te = derive_treatment_emergent(ev, SUBJ, window_days=32)
    led = te.ledger.to_frame()
    assert led["STATUS"].tolist() == ["used", "modified"]
    assert led.loc[1, "REASON"] == "LAST_DOSE_DAY missing: window left open"
    assert te.to_frame()["WINDOW_END"].iloc[0] == 60


def test_unknown_subject_and_missing_relatedness():
    ev = events((9, "x", "CRS", 1, 3, 0, 0), (1, "x", "CRS", 2, 3, np.nan, np.nan))
    te = derive_treatment_emergent(ev, SUBJ)
    led = te.ledger.to_frame()
    assert led.loc[0, ["STATUS", "REASON"]].tolist() == ["excluded", "ID not in the subjects table"]
    assert led.loc[1, ["STATUS", "REASON"]].tolist() == [
        "modified", "RELATED missing: counted as related; SERIOUS missing: counted as serious"]
    te.ledger.check(expected={"adverse_events": ev.assign(ROW=[1, 2])})


def test_clopper_pearson_hand_checked():
    # Clopper & Pearson (1934): 3/10 -> 0.0667 to 0.6525; 0/10 -> 0 to 0.3085 (upper = 1 -
    # 0.025^(1/10)); 10/10 -> 0.6915 to 1.
    r = proportion(3, 10)
    assert (round(r["LOWER"], 2), round(r["UPPER"], 2)) == (6.67, 65.25)
    r = proportion(0, 10)
    assert r["LOWER"] == 0 and r["UPPER"] == pytest.approx(100 * (1 - 0.025 ** 0.1))
    r = proportion(10, 10)
    assert r["LOWER"] == pytest.approx(100 * 0.025 ** 0.1) and r["UPPER"] == 100
    # the beta-quantile form of the same interval
    r = proportion(7, 23)
    assert r["LOWER"] == pytest.approx(100 * stats.beta.ppf(0.025, 7, 17))
    assert r["UPPER"] == pytest.approx(100 * stats.beta.ppf(0.975, 8, 16))
    assert np.isnan(proportion(0, 0)["PCT"]) and proportion(0, 0)["REASON"]


def test_incidence_by_arm_category_and_grade():
    ev = events(
        (1, "Cytokine release syndrome", "CRS", 1, 2, 1, 0),
        (1, "Cytokine release syndrome", "CRS", 3, 9, 1, 1),
        (1, "Tremor", "NEUROLOGIC", 2, 10, 0, 0),
        (2, "Encephalopathy", "NEUROLOGIC", 4, 59, 1, 1),        # outside the window
        (3, "Cytokine release syndrome", "CRS", 2, 3, 1, 0),
        (3, "Sepsis", None, 5, 20, 0, 1),
    )
    inc = compute_ae_incidence(ev, SUBJ, by="ARM")
    t = inc.to_frame().set_index(["ARM", "CATEGORY", "MEASURE"])
    assert t.loc[("A", "CRS", "any grade"), ["N_SUBJECTS", "N_AT_RISK"]].tolist() == [1, 2]
    assert t.loc[("A", "CRS", "worst grade 3"), "N_SUBJECTS"] == 1
    assert t.loc[("A", "CRS", "worst grade 1"), "N_SUBJECTS"] == 0    # worst, not any
    assert t.loc[("A", "NEUROLOGIC", "any grade"), "N_SUBJECTS"] == 1  # grade 4 was not TE
    assert t.loc[("A", "NEUROLOGIC", "grade >= 3"), "N_SUBJECTS"] == 0
    assert t.loc[("A", "ANY", "serious"), "N_SUBJECTS"] == 1
    assert t.loc[("B", "ANY", "any grade"), ["N_SUBJECTS", "N_AT_RISK", "PCT"]].tolist() == [
        1, 2, 50.0]
    assert t.loc[("B", "UNCATEGORIZED", "worst grade 5"), "N_SUBJECTS"] == 1
    assert t.loc[("B", "NEUROLOGIC", "any grade"), "N_SUBJECTS"] == 0  # every category per arm
    worst = [t.loc[("A", "ANY", f"worst grade {g}"), "N_SUBJECTS"] for g in range(1, 6)]
    assert sum(worst) == t.loc[("A", "ANY", "any grade"), "N_SUBJECTS"]
    r = t.loc[("A", "CRS", "any grade")]
    assert (r["PCT"], round(r["LOWER"], 2), round(r["UPPER"], 2)) == (50.0, 1.26, 98.74)
    assert inc.ledger.counts(by="status")["N"].tolist() == [5, 0, 1]


def test_incidence_without_groups_or_categories():
    ev = events((1, "x", "CRS", 1, 2, 1, 0))
    t = compute_ae_incidence(ev.drop(columns=["RELATED", "SERIOUS"]), SUBJ,
                             category=None).to_frame()
    assert t["CATEGORY"].unique().tolist() == ["ANY"]
    assert t["MEASURE"].tolist() == ["any grade", "grade >= 3"] + [
        f"worst grade {g}" for g in range(1, 6)]
    assert t.loc[0, ["N_SUBJECTS", "N_AT_RISK"]].tolist() == [1, 4]


@pytest.mark.parametrize(
    ("death", "contact", "died", "evaluable", "reason"),
    [
        (200, 200, 1, 1, ""),                 # exactly 100 days after HSCT on day 100
        (201, 201, 0, 1, ""),                 # 101 days: a 100-day survivor
        (np.nan, 199, 0, 0, "alive with < 100 days of follow-up after alloHSCT"),
        (np.nan, 200, 0, 1, ""),              # followed exactly 100 days
    ],
)
def test_hsct_100_day_mortality_boundary(death, contact, died, evaluable, reason):
    s = subjects({"ID": 1, "HSCT_DAY": 100, "DEATH_DAY": death, "LAST_CONTACT_DAY": contact},
                 {"ID": 2, "LAST_CONTACT_DAY": 300})
    res = compute_hsct_outcomes(s)
    t = res.to_frame().set_index("MEASURE")
    assert t.loc["alloHSCT", ["N_SUBJECTS", "N_AT_RISK"]].tolist() == [1, 2]
    m = t.loc["death within 100 days of alloHSCT"]
    assert (m["N_SUBJECTS"], m["N_AT_RISK"]) == (died, evaluable)
    assert res.ledger.to_frame()["REASON"].tolist() == [reason]


def test_hsct_by_arm_with_ci_and_prior_transplant():
    s = subjects(*({"ID": i, "ARM": "A", "HSCT_DAY": 50, "DEATH_DAY": 60 if i < 3 else np.nan,
                    "LAST_CONTACT_DAY": 400} for i in range(10)),
                 {"ID": 10, "ARM": "B", "HSCT_DAY": -20, "LAST_CONTACT_DAY": 400})
    s.loc[s["ID"] < 3, "LAST_CONTACT_DAY"] = 60
    res = compute_hsct_outcomes(s, by="ARM")
    t = res.to_frame().set_index(["ARM", "MEASURE"])
    m = t.loc[("A", "death within 100 days of alloHSCT")]
    assert (m["N_SUBJECTS"], m["N_AT_RISK"]) == (3, 10)
    assert (round(m["LOWER"], 2), round(m["UPPER"], 2)) == (6.67, 65.25)
    assert t.loc[("B", "alloHSCT"), "N_SUBJECTS"] == 0
    assert "alloHSCT before day 1" in res.ledger.to_frame()["REASON"].tolist()


EPISODES = pd.DataFrame({"ID": [1, 1, 1, 2, 2], "DAY": [1, 8, 43, 1, 8],
                         "EPISODE": ["start", "step", "start", "start", "step"],
                         "CYCLE": [1, 1, 2, 1, 1]})


def test_events_go_to_the_latest_episode_started_on_or_before_onset():
    ev = events((1, "CRS", "CRS", 1, 1, 1, 0), (1, "CRS", "CRS", 2, 7, 1, 0),
                (1, "CRS", "CRS", 2, 8, 1, 0), (1, "Tremor", "NEUROLOGIC", 3, 44, 1, 0),
                (2, "CRS", "CRS", 1, 0, 1, 0), (3, "CRS", "CRS", 1, 3, 1, 0),
                (2, "CRS", "CRS", 1, np.nan, 1, 0))
    res = derive_ae_episodes(ev, EPISODES)
    t = res.to_frame()
    assert t["ROW"].tolist() == [1, 2, 3, 4]
    assert t["EPISODE"].tolist() == ["start", "start", "step", "start"]
    assert t["EPISODE_DAY"].tolist() == [1, 1, 8, 43]
    assert t["DAY_IN_EPISODE"].tolist() == [1, 7, 1, 2]      # step-up day is day 1 of the step
    assert t["CYCLE"].tolist() == [1, 1, 1, 2]
    assert t["EPISODE_NUMBER"].tolist() == [1, 1, 2, 3]
    led = res.ledger.to_frame()
    assert led["REASON"].tolist()[4:] == ["onset before the first episode",
                                          "no episode for this subject", "START_DAY missing"]
    res.ledger.check(expected=7)


def test_episode_window_and_summary():
    ev = events((1, "CRS", "CRS", 1, 3, 1, 0), (1, "CRS", "CRS", 3, 20, 1, 0),
                (2, "CRS", "CRS", 3, 9, 1, 0))
    res = derive_ae_episodes(ev, EPISODES, max_days=7)
    assert res.ledger.to_frame()["REASON"].tolist() == [
        "", "more than 7 days after the episode start", ""]
    t = summarize_ae_episodes(res, by=["CYCLE", "EPISODE"]).to_frame()
    t = t.set_index(["CYCLE", "EPISODE", "CATEGORY"])
    assert t.loc[(1, "start", "CRS"), ["N_SUBJECTS", "N_AT_RISK"]].tolist() == [1, 2]
    assert t.loc[(1, "step", "CRS"), ["N_SUBJECTS", "N_AT_RISK"]].tolist() == [1, 2]
    assert t.loc[(2, "start", "CRS"), ["N_SUBJECTS", "N_AT_RISK"]].tolist() == [0, 1]
    g3 = summarize_ae_episodes(res, min_grade=3).to_frame().set_index(["EPISODE", "CATEGORY"])
    assert g3.loc[("start", "ANY"), ["N_SUBJECTS", "N_AT_RISK"]].tolist() == [0, 2]
    assert g3.loc[("step", "ANY"), "N_SUBJECTS"] == 1


def test_bad_episode_table():
    bad = pd.DataFrame({"ID": [1, 1, 2], "DAY": [1, 1, np.nan],
                        "EPISODE": ["start", "step", "pause"]})
    with pytest.raises(DataValidationError) as err:
        derive_ae_episodes(events((1, "x", "CRS", 1, 2, 0, 0)), bad)
    found = {(v.rule, v.column, v.rows) for v in err.value.violations}
    assert ("episode_kind", "EPISODE", (3,)) in found
    assert ("episode_day", "DAY", (3,)) in found
    assert ("episode_day", "DAY", (1, 2)) in found
