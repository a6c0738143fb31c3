"""Hypothesis strategies for valid clinical tables (not a test module).

A drawn study is consistent by construction: for each subject, last dose <=
last contact <= death (when dead), every assessment day and adverse-event day
within the follow-up, relapse and transplant not after death, a death cause
exactly when there is a death day. Rows of the assessment and adverse-event
tables are shuffled and column names randomly lower-cased.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st

_IDS = st.one_of(
    st.integers(1, 10**6),
    st.text("ABCXYZ0123456789-", min_size=1, max_size=6).filter(lambda s: not s.isdigit()),
    st.sampled_from(["Patiënt 7", "東京-3", "007"]),
)
_DAY = st.integers(1, 400)
_MAYBE = st.booleans()


@st.composite
def subject_rows(draw, sid):
    """One subject: its subjects row, assessment rows and adverse-event rows."""
    last_dose = draw(st.integers(1, 120))
    contact = last_dose + draw(st.integers(0, 300))
    dead = draw(_MAYBE)
    death = contact + draw(st.integers(0, 60)) if dead else np.nan
    limit = death if dead else contact  # every event within follow-up
    relapse = draw(st.integers(1, int(limit))) if draw(_MAYBE) else np.nan
    hsct = draw(st.integers(1, int(limit))) if draw(_MAYBE) else np.nan
    subject = {
        "ID": sid, "ARM": draw(st.sampled_from(["A", "B", "15 ug/m2"])),
        "AGE": float(draw(st.integers(1, 90))), "SEX": draw(st.sampled_from(["F", "M", None])),
        "BLAST": draw(st.floats(0, 100, allow_nan=False)), "LAST_DOSE_DAY": float(last_dose),
        "LAST_CONTACT_DAY": float(contact), "DEATH_DAY": death,
        "DEATH_CAUSE": draw(st.sampled_from(["progression", "other", "Other"])) if dead else None,
        "RELAPSE_DAY": float(relapse), "HSCT_DAY": float(hsct),
    }  # fmt: skip
    days = draw(st.lists(st.integers(-14, contact), min_size=1, max_size=4, unique=True))
    visits = [
        {
            "ID": sid, "CYCLE": float(draw(st.integers(1, 6))) if draw(_MAYBE) else np.nan,
            "DAY": float(d), "MARROW_BLAST": draw(st.floats(0, 100, allow_nan=False)),
            "CIRC_BLAST": float(draw(st.integers(0, 1))),
            "EXTRAMED": float(draw(st.integers(0, 1))),
            "PLT": draw(st.floats(0, 5e5, allow_nan=False)), "HGB": draw(st.floats(3, 18)),
            "ANC": float(draw(st.integers(0, 10_000))),
            "MRD": draw(st.floats(0, 1, allow_nan=False)) if draw(_MAYBE) else np.nan,
        }
        for d in days
    ]  # fmt: skip
    n_ae = draw(st.integers(0, 3))
    events = []
    for k in range(n_ae):
        start = draw(st.integers(1, int(limit)))
        end = draw(st.integers(start, int(limit))) if draw(_MAYBE) else np.nan
        events.append({
            "ID": sid, "TERM": f"Event {k}",
            "CATEGORY": draw(st.sampled_from(["CRS", "crs", None])),
            "GRADE": draw(st.integers(1, 5)), "START_DAY": float(start), "END_DAY": float(end),
            "RELATED": float(draw(st.integers(0, 1))), "SERIOUS": np.nan if draw(_MAYBE) else 1.0,
        })  # fmt: skip
    return subject, visits, events


def _case(draw, df: pd.DataFrame) -> pd.DataFrame:
    lower = draw(st.lists(st.booleans(), min_size=df.shape[1], max_size=df.shape[1]))
    return df.rename(columns=dict(zip(df.columns, [c.lower() if lo else c for c, lo in
                                                   zip(df.columns, lower, strict=True)],
                                      strict=True)))


@st.composite
def valid_studies(draw, max_subjects: int = 5):
    """A dict ``{"subjects": df, "assessments": df, "adverse_events": df}`` that is valid."""
    ids = draw(st.lists(_IDS, min_size=1, max_size=max_subjects, unique_by=str))
    subjects, visits, events = [], [], []
    for sid in ids:
        s, v, e = draw(subject_rows(sid))
        subjects.append(s)
        visits += v
        events += e
    ae_cols = ["ID", "TERM", "CATEGORY", "GRADE", "START_DAY", "END_DAY", "RELATED", "SERIOUS"]
    tables = {
        "subjects": pd.DataFrame(subjects),
        "assessments": pd.DataFrame(visits),
        "adverse_events": pd.DataFrame(events, columns=ae_cols),
    }
    for name in ("assessments", "adverse_events"):
        df = tables[name]
        order = draw(st.permutations(range(len(df))))
        df = df.iloc[list(order)].reset_index(drop=True)
        if draw(st.booleans()):
            df = df.assign(NOTE=[f"n{i}" if i % 2 else None for i in range(len(df))])
        tables[name] = df
    return {k: _case(draw, v) for k, v in tables.items()}
