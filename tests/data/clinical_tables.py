"""Small valid clinical tables shared by the test_clinical_* modules (not a test module).

Subjects (rows 1-3): 101 transplanted on day 120, alive; 102 relapsed on day
100 and died of progression on day 150; 103 died of other causes on day 40.
Assessments rows 1-2 subject 101, 3-4 subject 102, 5 subject 103. Adverse
events rows 1-2 subject 101, 3 subject 102, 4 subject 103 (fatal sepsis).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NA = np.nan


def subjects() -> pd.DataFrame:
    return pd.DataFrame({
        "ID": [101, 102, 103],
        "ARM": ["A", "A", "B"],
        "STUDY": ["S1", "S1", "S1"],
        "AGE": [45.0, 60, 30],
        "SEX": ["F", "M", "M"],
        "BSA": [1.8, 2.0, 1.7],
        "WT": [70.0, 85, 60],
        "BLAST": [80.0, 95, 50],
        "LAST_DOSE_DAY": [56.0, 28, 14],
        "LAST_CONTACT_DAY": [365.0, 150, 40],
        "DEATH_DAY": [NA, 150, 40],
        "DEATH_CAUSE": [None, "progression", "other"],
        "RELAPSE_DAY": [NA, 100, NA],
        "HSCT_DAY": [120.0, NA, NA],
    })  # fmt: skip


def assessments() -> pd.DataFrame:
    return pd.DataFrame({
        "ID": [101, 101, 102, 102, 103],
        "CYCLE": [1, 2, 1, 2, 1],
        "DAY": [29.0, 71, 29, 71, 29],
        "MARROW_BLAST": [2.0, 1, 3, 40, 60],
        "CIRC_BLAST": [0, 0, 0, 1, 1],
        "EXTRAMED": [0, 0, 0, 0, 1],
        "PLT": [150e3, 180e3, 60e3, 30e3, 20e3],
        "HGB": [11.0, 12, 9.5, 8, 7.5],
        "ANC": [2000.0, 2500, 800, 300, 200],
        "MRD": [5e-5, NA, 1e-3, NA, NA],
    })  # fmt: skip


def adverse_events() -> pd.DataFrame:
    return pd.DataFrame({
        "ID": [101, 101, 102, 103],
        "TERM": ["Cytokine release syndrome", "Encephalopathy", "Pyrexia", "Sepsis"],
        "CATEGORY": ["CRS", "NEUROLOGIC", None, "INFECTION"],
        "GRADE": [2, 3, 1, 5],
        "START_DAY": [2.0, 10, 1, 35],
        "END_DAY": [4.0, 15, 2, 40],
        "RELATED": [1, 1, 1, 0],
        "SERIOUS": [0, 1, 0, 1],
    })  # fmt: skip


def tables() -> dict[str, pd.DataFrame]:
    """All three tables, keyed by the keyword names of ``read_clinical``."""
    return {"subjects": subjects(), "assessments": assessments(),
            "adverse_events": adverse_events()}


def with_cell(df: pd.DataFrame, row: int, col: str, value) -> pd.DataFrame:
    """Copy of ``df`` with 1-based data row ``row`` of ``col`` set to ``value``."""
    df = df.copy()
    if col not in df.columns:
        df[col] = np.nan
    df[col] = df[col].astype(object)
    df.loc[row - 1, col] = value
    return df
