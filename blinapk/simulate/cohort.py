"""Who is simulated: adult, paediatric or mixed virtual patients, or resampled data.

A :class:`Population` draws ``n`` virtual patients with a random generator.
The parametric populations use the covariate model of
:mod:`blinapk.simulate.population` (documented assumptions, see
docs/simulate.md); :meth:`Population.from_data` resamples whole subjects
(every baseline covariate together, so correlations are kept) from a
dataset, with replacement.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from blinapk.data import Dataset, read_dataset
from blinapk.errors import ModelSpecError
from blinapk.simulate.population import POPULATION, draw_covariates

__all__ = ["POPULATIONS", "Population", "resolve_population"]

#: Named parametric populations and their fraction of children.
POPULATIONS: Mapping[str, float] = {"adult": 0.0, "paediatric": 1.0, "mixed": 0.2}
#: Dataset columns never treated as covariates when resampling.
_NOT_COVARIATES = {"ROW", "ID", "TIME", "EVID", "AMT", "RATE", "DV", "DVID", "MDV", "LLOQ",
                   "LOD", "CENS", "CYCLE", "DOSE_LEVEL", "NOMTIME", "STUDY", "CMT", "SS",
                   "II", "ADDL"}


@dataclass(frozen=True, eq=False)
class Population:
    """A source of virtual patients.

    Attributes
    ----------
    name : str
        ``adult``, ``paediatric``, ``mixed`` or ``data:<label>``.
    paediatric_fraction : float or None
        Probability of a child (< 18 y) for parametric populations; None
        when resampling data.
    baseline : DataFrame or None
        One row per source subject (``SOURCE_ID`` and covariates) when resampling.
    params : Mapping
        Generating assumptions of the parametric covariate model.
    """

    name: str
    paediatric_fraction: float | None = None
    baseline: pd.DataFrame | None = field(default=None, repr=False)
    params: Mapping[str, Any] = field(default_factory=lambda: dict(POPULATION), repr=False)

    def __post_init__(self) -> None:
        # a plain copy: the read-only default cannot be pickled for process-based schedulers
        object.__setattr__(self, "params", json.loads(json.dumps(dict(self.params))))

    @classmethod
    def adult(cls) -> Population:
        """Adults (18-80 y) of the covariate model (median BSA 1.88 m2)."""
        return cls("adult", 0.0)

    @classmethod
    def paediatric(cls) -> Population:
        """Children (1-18 y) of the covariate model."""
        return cls("paediatric", 1.0)

    @classmethod
    def mixed(cls, paediatric_fraction: float = 0.2) -> Population:
        """Adults and children; each patient is a child with the given probability."""
        if not 0.0 <= paediatric_fraction <= 1.0:
            raise ModelSpecError(f"paediatric_fraction must be in [0, 1], got "
                                 f"{paediatric_fraction}")
        return cls("mixed", float(paediatric_fraction))

    @classmethod
    def from_data(cls, data: Dataset | pd.DataFrame | str | Path, label: str | None = None
                  ) -> Population:
        """Resample whole subjects' baseline covariates from a dataset.

        Parameters
        ----------
        data : Dataset, DataFrame, str or Path
            An event table (read by :func:`blinapk.data.read_dataset` unless a
            Dataset) or a plain table with one row per subject and an ``ID``
            column. Each subject's first non-missing value of every other
            column is its baseline.
        label : str, optional
            Name suffix (default: the file stem or ``"frame"``).

        Returns
        -------
        Population
        """
        if label is None:
            label = Path(data).stem if isinstance(data, str | Path) else "frame"
        frame = _subject_table(data)
        return cls(f"data:{label}", None, frame)

    def settings(self) -> dict[str, Any]:
        """JSON-safe description (recorded in a simulation's settings)."""
        if self.baseline is not None:
            return {"name": self.name, "n_source_subjects": len(self.baseline),
                    "columns": list(self.baseline.columns)}
        return {"name": self.name, "paediatric_fraction": self.paediatric_fraction,
                "assumptions": dict(self.params)}

    def draw(self, n: int, rng: np.random.Generator, *, first_id: int = 1) -> pd.DataFrame:
        """Draw ``n`` virtual patients.

        Parameters
        ----------
        n : int
            Number of patients (>= 1).
        rng : numpy.random.Generator
            Random source.
        first_id : int, default 1
            ``ID`` of the first patient (IDs are consecutive).

        Returns
        -------
        DataFrame
            ``ID`` then the covariates: for parametric populations the columns of
            :func:`~blinapk.simulate.simulate_population`; for resampled data
            ``SOURCE_ID`` (the source subject) and its baseline columns.
        """
        if int(n) < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        ids = np.arange(first_id, first_id + int(n))
        if self.baseline is None:
            cols = draw_covariates(int(n), rng, paediatric_fraction=self.paediatric_fraction,
                                   params=self.params)
            cols["ID"] = ids
            # text columns as categoricals: a million short strings are slow in pandas
            return pd.DataFrame({k: _categorical(v) if v.dtype.kind == "U" else v
                                 for k, v in cols.items()}, copy=False)
        pick = rng.integers(0, len(self.baseline), int(n))
        out = self.baseline.iloc[pick].reset_index(drop=True)
        out.insert(0, "ID", ids)
        return out


def _categorical(values: np.ndarray) -> pd.Categorical:
    levels, codes = np.unique(values, return_inverse=True)
    return pd.Categorical.from_codes(codes, categories=levels.tolist())


def _subject_table(data: Any) -> pd.DataFrame:
    """One row per subject: SOURCE_ID and the first non-missing value of each covariate."""
    if isinstance(data, str | Path):
        raw = pd.read_csv(data)
        data = read_dataset(raw) if {"TIME", "EVID"} <= {str(c).upper() for c in raw.columns} \
            else raw
    frame = data.frame if isinstance(data, Dataset) else data
    frame = frame.rename(columns={c: str(c).upper() for c in frame.columns})
    if "ID" not in frame.columns:
        raise ModelSpecError("population data need an ID column")
    cols = [c for c in frame.columns if c not in _NOT_COVARIATES]
    if not cols:
        raise ModelSpecError("population data have no covariate column")
    base = frame.groupby("ID", sort=False)[cols].first().reset_index()
    for c in cols:
        if not pd.api.types.is_numeric_dtype(base[c]):
            base[c] = base[c].astype("category")
    return base.rename(columns={"ID": "SOURCE_ID"})


def resolve_population(population: str | Path | pd.DataFrame | Dataset | Population
                       ) -> Population:
    """Return the population named or given.

    Parameters
    ----------
    population : str, Path, DataFrame, Dataset or Population
        ``"adult"``, ``"paediatric"`` (``"pediatric"``), ``"mixed"``, a
        CSV path / table / Dataset to resample, or a Population.

    Returns
    -------
    Population

    Examples
    --------
    >>> resolve_population("paediatric").paediatric_fraction
    1.0
    """
    if isinstance(population, Population):
        return population
    if isinstance(population, str) and population.lower() in (*POPULATIONS, "pediatric"):
        key = "paediatric" if population.lower() == "pediatric" else population.lower()
        return Population(key, POPULATIONS[key])
    if isinstance(population, str | Path) and not Path(population).is_file():
        raise ModelSpecError(f"population: {population!r} is neither one of "
                             f"{sorted(POPULATIONS)} nor a file")
    return Population.from_data(population)
