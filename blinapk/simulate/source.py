"""Where a simulated subject's PK parameters come from: the :class:`ParameterSource` seam.

:func:`blinapk.simulate.simulate_trial` asks its parameter source for the
structural model, the covariates it needs and one set of individual
parameters per virtual subject; it does not care how they are drawn. A
literature :class:`blinapk.cards.ModelCard` is a parameter source as it is
(typical values, covariate effects and lognormal between-subject
variability). Any other object with the same members can be passed in its
place, e.g. one that draws subjects from a fitted population posterior.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from blinapk.cards import ModelCard, load_card
from blinapk.errors import ModelSpecError

__all__ = ["ParameterSource", "draw_parameters", "resolve_source", "source_settings"]


@runtime_checkable
class ParameterSource(Protocol):
    """Anything that gives individual PK parameters for virtual subjects.

    :class:`blinapk.cards.ModelCard` satisfies this protocol; a new source
    needs only these members (no base class).

    Attributes
    ----------
    name : str
        Short name, recorded as ``settings["card"]`` of the simulated trial.
    structure : str
        PK structure for :func:`blinapk.pk.predict_conc`: ``"1cmt"`` or ``"2cmt"``.
    params : tuple of str
        Structural parameter names the structure needs (``CL, V`` or
        ``CL, V, Q, V2``).
    covariate_names : tuple of str
        Covariate columns :meth:`individual_parameters` reads (from ``BSA, WT,
        AGE, CRCL, SEX, BLAST`` of the virtual population).
    residual : Mapping[str, float]
        Assay error of the drug concentrations: ``prop`` (fraction) and
        ``add`` (pg/mL) standard deviations.

    Notes
    -----
    A source may also define ``settings() -> Mapping`` (JSON-safe): it is
    recorded as ``settings["parameter_source"]`` so the trial stays
    reproducible from its settings alone.
    """

    @property
    def name(self) -> str:
        """Short name of the source."""

    @property
    def structure(self) -> str:
        """PK structure (``"1cmt"`` or ``"2cmt"``)."""

    @property
    def params(self) -> tuple[str, ...]:
        """Structural parameter names."""

    @property
    def covariate_names(self) -> tuple[str, ...]:
        """Covariates read by :meth:`individual_parameters`."""

    @property
    def residual(self) -> Mapping[str, float]:
        """``prop`` and ``add`` assay error SDs."""

    def individual_parameters(self, covariates_frame: pd.DataFrame,
                              rng: np.random.Generator) -> pd.DataFrame:
        """Draw one parameter set per subject.

        Parameters
        ----------
        covariates_frame : pandas.DataFrame
            One row per subject: ``ID`` and the :attr:`covariate_names` columns.
            Must not be mutated.
        rng : numpy.random.Generator
            The only source of randomness (the trial's ``pk_eta`` stream).

        Returns
        -------
        pandas.DataFrame
            One row per subject in the input order with a column per name in
            :attr:`params` (positive, finite); ``ID`` may be included. Every
            other column (e.g. ``TV_CL``, ``ETA_CL``) is copied to the trial's
            ``truth``.
        """


def resolve_source(source: str | Path | ParameterSource) -> ParameterSource:
    """Return the parameter source named or given by ``source``.

    Parameters
    ----------
    source : str, Path or ParameterSource
        A model card name or TOML path (read by :func:`blinapk.cards.load_card`),
        a :class:`~blinapk.cards.ModelCard`, or any :class:`ParameterSource`.

    Returns
    -------
    ParameterSource

    Raises
    ------
    TypeError
        ``source`` is none of these.

    Examples
    --------
    >>> resolve_source("blinatumomab_zhu2020").params
    ('CL', 'V')
    """
    if isinstance(source, str | Path | ModelCard):
        return load_card(source)
    if not isinstance(source, ParameterSource):
        raise TypeError("card must be a model card name, a TOML path, a ModelCard or a "
                        f"ParameterSource, got {type(source).__name__}")
    return source


def source_settings(source: ParameterSource) -> dict[str, Any]:
    """Entries of a simulated trial's ``settings`` that record the parameter source.

    Parameters
    ----------
    source : ParameterSource
        The source used.

    Returns
    -------
    dict
        ``card`` (the source's name), then for a model card ``card_numbers``
        (every number by path), for another source ``parameter_source`` (its
        ``settings()`` when it defines one, else its type name).
    """
    out: dict[str, Any] = {"card": source.name}
    if isinstance(source, ModelCard):
        out["card_numbers"] = {k: v.value for k, v in source.numbers.items()}
    else:
        describe = getattr(source, "settings", None)
        out["parameter_source"] = (dict(describe()) if callable(describe)
                                   else {"type": type(source).__qualname__})
    return out


def draw_parameters(source: ParameterSource, covariates_frame: pd.DataFrame,
                    rng: np.random.Generator) -> pd.DataFrame:
    """Call :meth:`ParameterSource.individual_parameters` and check what it returns.

    Parameters
    ----------
    source : ParameterSource
        The source.
    covariates_frame : pandas.DataFrame
        ``ID`` and the source's covariates, one row per subject.
    rng : numpy.random.Generator
        Random source.

    Returns
    -------
    pandas.DataFrame
        ``ID`` (from ``covariates_frame`` if the source left it out), then the
        source's columns, indexed 0..n-1.

    Raises
    ------
    ModelSpecError
        Wrong number of rows, rows out of subject order, a missing parameter
        column, or a value that is not finite and positive.
    """
    frame = source.individual_parameters(covariates_frame, rng=rng)
    n = len(covariates_frame)
    where = f"parameter source {source.name!r}"
    if len(frame) != n:
        raise ModelSpecError(f"{where}: expected {n} rows, got {len(frame)}")
    frame = frame.reset_index(drop=True)
    missing = [p for p in source.params if p not in frame.columns]
    if missing:
        raise ModelSpecError(f"{where}: missing parameter column(s) {missing}")
    values = frame[list(source.params)].to_numpy(dtype=float)
    if not (np.isfinite(values) & (values > 0)).all():
        raise ModelSpecError(f"{where}: parameters must be finite and > 0")
    ids = covariates_frame["ID"].to_numpy()
    if "ID" not in frame.columns:
        frame.insert(0, "ID", ids)
    elif not (frame["ID"].to_numpy() == ids).all():
        raise ModelSpecError(f"{where}: rows must keep the order of the subjects (ID)")
    return frame
