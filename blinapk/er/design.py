"""Line up outcomes, exposures and covariates into the arrays an E-R model is fitted to.

:func:`make_design` matches each outcome unit (a subject, or a dose event for
cytokine peaks) with its exposure and covariates; units without an
exposure, a covariate value or a response are left out and listed in
:attr:`ERDesign.excluded` with the reason (the exposure's own missingness
included, e.g. an NCA Css that could not be computed).

Log exposure is centred at ``LOG_REF``, the median plug-in log exposure of
the units analysed: the intercept is then the response at the median
exposure, and the slope's prior scale is set relative to ``LOG_SD``, the SD
of the plug-in log exposure (the autoscaling of rstanarm; Gabry & Goodrich,
"Prior distributions for rstanarm models", 2020).

Covariates: a numeric column is centred at its mean and divided by its SD
(a coefficient is per SD); a text column (``ARM``, ``AGEGROUP``, ...) gives
one indicator per level other than the most frequent (the reference).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from blinapk.er.exposure import Exposure
from blinapk.er.outcomes import Outcomes, covariate_columns
from blinapk.errors import DataValidationError, ModelSpecError, Violation

__all__ = ["CovariateTerm", "ERDesign", "design_matrix", "make_design"]


@dataclass(frozen=True)
class CovariateTerm:
    """One column of the covariate design matrix.

    Parameters
    ----------
    name : str
        Parameter suffix, e.g. ``BLAST`` or ``ARM[chemotherapy]``.
    covariate : str
        Subjects-table column.
    kind : {"numeric", "level"}
        Standardised number, or the indicator of one level.
    centre, scale : float
        Numeric: mean and SD used to standardise.
    level, reference : str
        Level: the level and the reference level.
    """

    name: str
    covariate: str
    kind: str
    centre: float = 0.0
    scale: float = 1.0
    level: str = ""
    reference: str = ""

    @property
    def label(self) -> str:
        """Plain-language meaning of a coefficient."""
        if self.kind == "numeric":
            return f"{self.covariate} per SD ({self.scale:.3g}; mean {self.centre:.3g})"
        return f"{self.covariate} {self.level} vs {self.reference}"


@dataclass(frozen=True, eq=False)
class ERDesign:
    """Arrays of one exposure-response analysis (data only, no model).

    Attributes
    ----------
    outcomes : Outcomes
        The endpoint and its responses.
    units : DataFrame
        The units analysed, in model order: keys, the response columns,
        ``EXPOSURE`` (plug-in) and the raw covariates.
    exposure_draws : ndarray, shape (n_units, n_draws)
        Exposure draws of the units analysed.
    X : ndarray, shape (n_units, n_terms)
        Covariate design.
    terms : tuple of CovariateTerm
        One per column of ``X``.
    subject_index : ndarray of int
        Position of each unit's subject in :attr:`subjects` (random effects).
    subjects : tuple
        Subjects analysed.
    log_ref, log_sd : float
        Centre and SD of the plug-in log exposure.
    excluded : DataFrame
        ``ID`` (+ keys), ``REASON`` of every unit left out.
    pk_units : ndarray of int
        Row of each analysed unit in the exposure (and its plan).
    """

    outcomes: Outcomes = field(repr=False)
    units: pd.DataFrame = field(repr=False)
    exposure_draws: np.ndarray = field(repr=False)
    X: np.ndarray = field(repr=False)
    terms: tuple[CovariateTerm, ...]
    subject_index: np.ndarray = field(repr=False)
    subjects: tuple = field(repr=False)
    log_ref: float
    log_sd: float
    excluded: pd.DataFrame = field(repr=False)
    pk_units: np.ndarray = field(repr=False)

    @property
    def kind(self) -> str:
        """``binary``, ``tte`` or ``peak``."""
        return self.outcomes.kind

    @property
    def n(self) -> int:
        """Units analysed."""
        return len(self.units)

    @property
    def log_exposure(self) -> np.ndarray:
        """Plug-in log exposure of each unit (log of the posterior mean)."""
        return np.log(self.units["EXPOSURE"].to_numpy(float))

    def imputed(self, m: int) -> np.ndarray:
        """``m`` evenly spaced columns of :attr:`exposure_draws` (joint PK posterior draws)."""
        d = self.exposure_draws
        return d[:, np.linspace(0, d.shape[1] - 1, m).round().astype(int)]

    def arrays(self) -> Mapping[str, np.ndarray]:
        """Response arrays of the model (``Y``; ``TIME, EVENT``; ``Y, CENS, EPISODE``)."""
        cols = {"binary": ("Y",), "tte": ("TIME", "EVENT"), "peak": ("Y", "CENS", "EPISODE")}
        return {c: self.units[c].to_numpy(float) for c in cols[self.kind]}


def _terms(cov: pd.DataFrame, names: Sequence[str]) -> list[CovariateTerm]:
    terms = []
    for name in names:
        x = cov[name]
        if pd.api.types.is_numeric_dtype(x):
            v = x.to_numpy(float)
            sd = float(np.std(v, ddof=1)) if v.size > 1 else 0.0
            if not sd > 0:
                raise ModelSpecError(f"covariate {name}: constant over the subjects analysed")
            terms.append(CovariateTerm(name, name, "numeric", float(v.mean()), sd))
            continue
        text = x.astype(str)
        counts = text.value_counts(sort=False)
        ref = str(counts.index[int(np.argmax(counts.to_numpy()))])
        levels = sorted(set(text) - {ref})
        if not levels:
            raise ModelSpecError(f"covariate {name}: every subject analysed is {ref!r}")
        terms += [CovariateTerm(f"{name}[{lv}]", name, "level", level=lv, reference=ref)
                  for lv in levels]
    return terms


def design_matrix(units: pd.DataFrame, terms: Sequence[CovariateTerm]) -> np.ndarray:
    """Covariate design of ``units`` (raw covariate columns) for the given terms.

    Parameters
    ----------
    units : DataFrame
        One row per unit with the covariate columns the terms name.
    terms : sequence of CovariateTerm
        From :func:`make_design` (or a saved fit).

    Returns
    -------
    ndarray, shape (n_units, n_terms)
    """
    cols = [(units[t.covariate].to_numpy(float) - t.centre) / t.scale if t.kind == "numeric"
            else (units[t.covariate].astype(str) == t.level).to_numpy(float) for t in terms]
    return np.column_stack(cols) if cols else np.zeros((len(units), 0))


def make_design(outcomes: Outcomes, exposure: Exposure, covariates: Sequence[str] = ()
                ) -> ERDesign:
    """Match outcomes with exposures and covariates.

    Parameters
    ----------
    outcomes : Outcomes
        From :func:`blinapk.er.derive_outcomes`.
    exposure : Exposure
        Per subject (binary, time-to-event) or per event (peaks).
    covariates : sequence of str
        Subjects-table columns (``AGEGROUP`` derived from ``AGE``).

    Returns
    -------
    ERDesign

    Raises
    ------
    ModelSpecError
        An event exposure for a subject endpoint or the reverse.
    DataValidationError
        A covariate that is not a column, or fewer than 3 units left.
    """
    peak = outcomes.kind == "peak"
    if (exposure.level == "event") != peak:
        need = "an event" if peak else "a subject"
        raise ModelSpecError(f"exposure: endpoint {outcomes.endpoint.name} needs {need} "
                             f"metric, got the {exposure.level} metric {exposure.metric!r}")
    names = covariate_columns(covariates, outcomes.covariates)
    keys = ["ID", "START"] if peak else ["ID"]
    table = outcomes.table.copy()
    excluded = [outcomes.excluded]
    exp_units = exposure.units[keys].assign(_ROW=np.arange(len(exposure.units)))
    merged = table.merge(exp_units, on=keys, how="left")
    lacking = merged["_ROW"].isna()
    miss = exposure.missing.set_index("ID")["REASON"] if len(exposure.missing) else {}
    excluded.append(merged.loc[lacking, keys].assign(
        REASON=[f"no exposure: {miss.get(i, 'not in the PK data')}"
                for i in merged.loc[lacking, "ID"]]))
    merged = merged.loc[~lacking]
    cov = outcomes.covariates[["ID", *names]] if names else outcomes.covariates[["ID"]]
    merged = merged.merge(cov.drop_duplicates("ID"), on="ID", how="left")
    for name in names:
        gap = merged[name].isna()
        excluded.append(merged.loc[gap, keys].assign(REASON=f"covariate {name} missing"))
        merged = merged.loc[~gap]
    merged = merged.reset_index(drop=True)
    if len(merged) < 3:
        raise DataValidationError([Violation(
            "too_few_units", "ID", (), f"only {len(merged)} unit(s) have an outcome, an "
            f"exposure and every covariate; an exposure-response model needs more")])
    rows = merged["_ROW"].to_numpy(np.int64)
    draws = exposure.draws[rows]
    merged["EXPOSURE"] = draws.mean(axis=1)
    terms = _terms(merged, names)
    X = design_matrix(merged, terms)
    subjects = tuple(pd.unique(merged["ID"]))
    logx = np.log(merged["EXPOSURE"].to_numpy(float))
    sd = float(np.std(logx, ddof=1))
    ex = pd.concat([e for e in excluded if len(e)], ignore_index=True) if any(
        len(e) for e in excluded) else pd.DataFrame(columns=[*keys, "REASON"])
    return ERDesign(outcomes, merged.drop(columns="_ROW"), draws, X, tuple(terms),
                    pd.Index(subjects).get_indexer(merged["ID"]), subjects,
                    float(np.median(logx)), sd if sd > 0 else 1.0, ex, rows)

