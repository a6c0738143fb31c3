"""The prediction-corrected VPC: bins, bands, the BLQ fraction, strata and treatment gaps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from blinapk.diagnostics import compute_vpc
from blinapk.diagnostics.vpc import _percentiles
from blinapk.errors import ModelSpecError


def test_bins_table_columns_and_counts(example_diagnostics):
    vpc = example_diagnostics.vpc
    bins = vpc.bins
    for col in ("STRATUM", "BIN", "X_LOW", "X_HIGH", "X_MID", "N", "N_BLQ", "LLOQ", "OBS_P05",
                "SIM_P50_LOWER", "SIM_P50_MEDIAN", "SIM_P95_UPPER", "BLQ_OBS", "BLQ_SIM_LOWER",
                "BLQ_SIM_UPPER", "GAP_BEFORE"):
        assert col in bins.columns, col
    table = example_diagnostics.predictions.table
    assert bins["N"].sum() == len(table)
    assert bins["N_BLQ"].sum() == table["CENS"].sum()
    assert (np.diff(bins["X_MID"]) > 0).all()
    ok = bins["SIM_P50_LOWER"].notna()
    assert (bins.loc[ok, "SIM_P50_LOWER"] <= bins.loc[ok, "SIM_P50_UPPER"]).all()
    assert bins["BLQ_OBS"].between(0, 1).all()
    # the example's nominal days 28 (end of cycle 1) and 44 (cycle 2) are a treatment gap apart
    assert bins["GAP_BEFORE"].sum() == 1
    assert vpc.observations["DV"].notna().all()
    assert 0.7 <= vpc.coverage() <= 1.0


def test_percentiles_inside_the_blq_part_are_not_estimable():
    values = np.array([[10.0, 20.0, 30.0, 40.0, 50.0]])
    blq = np.array([[True, True, False, False, False]])
    p = _percentiles(values, blq, (0.05, 0.5, 0.95))[0]
    assert np.isnan(p[0]) and p[1] == 30.0 and p[2] == pytest.approx(48.0)


def test_stratified_by_column_rate_and_mapping(example_diagnostics):
    pred = example_diagnostics.predictions
    by_sex = compute_vpc(pred, stratify="SEX", bins="quantile", n_bins=5)
    assert set(by_sex.strata) == {"F", "M"} and by_sex.stratify == "SEX"
    by_age = compute_vpc(pred, stratify="age")  # case-insensitive; numeric: split at median
    assert len(by_age.strata) == 2 and all("AGE" in s for s in by_age.strata)
    by_rate = compute_vpc(pred, stratify="RATE", x="since_change")
    assert "no infusion" in by_rate.strata and by_rate.x_label.endswith("(h)")
    ids = pd.unique(pred.table["ID"])
    groups = {i: ("first" if k < len(ids) // 2 else "second") for k, i in enumerate(ids)}
    by_group = compute_vpc(pred, stratify=groups)
    assert by_group.strata == ["first", "second"]
    for vpc in (by_sex, by_age, by_rate, by_group):
        assert vpc.bins["N"].sum() == len(pred.table)


def test_bad_requests_name_the_problem(example_diagnostics):
    pred = example_diagnostics.predictions
    with pytest.raises(ModelSpecError, match="stratify"):
        compute_vpc(pred, stratify="NOPE")
    with pytest.raises(ModelSpecError, match="stratify"):
        compute_vpc(pred, stratify={1: "a"})
    with pytest.raises(ModelSpecError, match="x"):
        compute_vpc(pred, x="dose")
    with pytest.raises(ModelSpecError, match="bins"):
        compute_vpc(pred, bins=[3.0, 1.0])
    edges = compute_vpc(pred, bins=[0, 10, 30, 80], prediction_corrected=False)
    assert edges.bins["BIN"].tolist() == [0, 1, 2] and not edges.prediction_corrected
