"""Shared fixtures for the blinapk.data tests."""

import pandas as pd
import pytest


def base_frame() -> pd.DataFrame:
    """A small valid dataset: 2 subjects, 28 ug/day as 24-h bags, BLIN + IL6 samples.

    Rows (1-based): 1-5 subject 1, 6-9 subject 2.
    """
    r = 28.0 / 24.0
    return pd.DataFrame(
        {
            "ID": [1, 1, 1, 1, 1, 2, 2, 2, 2],
            "TIME": [0.0, 2.0, 6.0, 24.0, 24.0, 0.0, 6.0, 24.0, 48.0],
            "EVID": [1, 0, 0, 1, 0, 1, 0, 0, 0],
            "AMT": [28.0, 0, 0, 28.0, 0, 28.0, 0, 0, 0],
            "RATE": [r, 0, 0, r, 0, r, 0, 0, 0],
            "DV": [0.0, 310.0, 150.0, 0.0, 520.0, 0.0, 400.0, 30.0, 600.0],
            "MDV": [1, 0, 0, 1, 0, 1, 0, 0, 0],
            "DVID": ["BLIN", "BLIN", "IL6", "BLIN", "BLIN", "BLIN", "BLIN", "BLIN", "BLIN"],
        }
    )


@pytest.fixture
def frame() -> pd.DataFrame:
    return base_frame()
