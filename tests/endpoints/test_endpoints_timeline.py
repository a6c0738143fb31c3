"""dosing_episodes: starts, step-ups and restarts read off dose records (hand-built timelines)."""

from __future__ import annotations

import pandas as pd

from blinapk.endpoints import dosing_episodes


def _doses(rows, cycle=True):
    frame = pd.DataFrame(rows, columns=["ID", "TIME", "AMT", "RATE", "CYCLE"]).assign(EVID=1)
    return frame if cycle else frame.drop(columns="CYCLE")


def test_start_step_restart_and_next_cycle():
    d = _doses([(1, 0.0, 63.0, 0.375, 1),        # day 1-7 at 9 ug/day
                (1, 168.0, 14.0, 1.1667, 1),     # step on day 8, interrupted after 12 h
                (1, 228.0, 518.0, 1.1667, 1),    # restart at h 228 = day 10
                (1, 1008.0, 784.0, 1.1667, 2)])  # cycle 2 on day 43
    ep = dosing_episodes(d)
    assert ep[["DAY", "EPISODE", "CYCLE"]].values.tolist() == [
        [1, "start", 1], [8, "step", 1], [10, "restart", 1], [43, "start", 2]]


def test_bag_change_and_dose_decrease_are_not_episodes():
    d = _doses([(1, 0.0, 28.0, 28 / 24, 1), (1, 24.0, 28.0, 28 / 24, 1),  # bag change
                (1, 48.0, 9.0, 0.375, 1)])                                # decrease
    assert dosing_episodes(d)["EPISODE"].tolist() == ["start"]


def test_day_boundaries():
    # h 23.9 is still day 1, h 24 is day 2
    d = _doses([(1, 0.0, 0.375 * 23.9, 0.375, 1), (1, 23.9, 10.0, 1.0, 1),
                (2, 0.0, 9.0, 0.375, 1), (2, 24.0, 10.0, 1.0, 1)])
    ep = dosing_episodes(d)
    assert ep.groupby("ID")["DAY"].apply(list).to_dict() == {1: [1], 2: [1, 2]}
    # two episodes of subject 1 on day 1: the later (the step) is kept
    assert ep.loc[ep["ID"] == 1, "EPISODE"].tolist() == ["step"]


def test_without_cycle_the_first_infusion_is_the_only_start():
    d = _doses([(1, 0.0, 24.0, 1.0, 1), (1, 48.0, 24.0, 1.0, 1)], cycle=False)
    ep = dosing_episodes(d)
    assert ep["EPISODE"].tolist() == ["start", "restart"]
    assert ep["CYCLE"].isna().all()


def test_example_dataset_timeline():
    import blinapk

    ep = dosing_episodes(blinapk.load_example())
    starts = ep[ep["EPISODE"] == "start"]
    assert set(starts["DAY"]) == {1, 43} and len(starts) == 2 * 100
    assert (ep.groupby(["ID", "DAY"]).size() == 1).all()
