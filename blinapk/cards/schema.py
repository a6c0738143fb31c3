"""Schema of a model card: frozen dataclasses and the vocabulary of a card's numbers.

The TOML layout is documented in ``docs/model_cards.md``; :func:`blinapk.cards.card_from_dict`
validates it into these types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from blinapk.cards import parameters as _parameters
from blinapk.pk.covariates import FORMS
from blinapk.pk.parameters import STRUCTURES

__all__ = [
    "FLAGS",
    "FORMS",
    "RESIDUAL_KEYS",
    "SCHEMA_VERSION",
    "STRUCTURES",
    "CardNumber",
    "CovariateEffect",
    "ModelCard",
    "Source",
]

#: Evidence flags of a number: ``V`` read in the cited source, ``D`` derived from
#: V numbers, ``U`` unverified (memory or a secondary source), ``assumed`` a
#: modelling choice.
FLAGS: tuple[str, ...] = ("V", "D", "U", "assumed")
#: Keys of the residual error table: proportional (fraction) and additive (pg/mL) SDs.
RESIDUAL_KEYS: tuple[str, ...] = ("prop", "add")
#: Version of the card schema this package reads.
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Source:
    """A bibliographic source a card cites.

    Parameters
    ----------
    key : str
        Short key numbers refer to (``source = "zhu2020"``).
    citation : str
        Human-readable reference.
    doi : str
        DOI without the ``https://doi.org/`` prefix; empty if none.
    """

    key: str
    citation: str
    doi: str = ""


@dataclass(frozen=True)
class CardNumber:
    """One number of a card with its provenance.

    Parameters
    ----------
    value : float or str
        The number (a string only for the reference level of a categorical effect).
    source : str
        Key into the card's sources.
    published : bool
        True if the value is printed in the source; False if derived or assumed.
    flag : str
        One of :data:`FLAGS`.
    note : str
        Derivation or justification.
    """

    value: float | str
    source: str
    published: bool
    flag: str
    note: str = ""


@dataclass(frozen=True)
class CovariateEffect:
    """A multiplicative covariate effect on one parameter.

    Parameters
    ----------
    param : str
        Parameter affected (e.g. ``"CL"``).
    covariate : str
        Covariate column (upper-case, e.g. ``"BSA"``).
    form : str
        One of :data:`FORMS`, with the meaning of :mod:`blinapk.pk.covariates`:
        ``power``: ``(x / reference) ** value``; ``exponential``:
        ``exp(value * (x - reference))``; ``linear``: ``1 + value * (x - reference)``
        floored at :data:`blinapk.pk.covariates.LINEAR_FLOOR`;
        ``categorical``: ``value[level]`` (1 for the reference level).
    reference : float or str
        Reference covariate value (a level for ``categorical``).
    value : float or Mapping[str, float]
        Effect size; for ``categorical`` a mapping level -> multiplicative factor.
    unit : str
        Unit of the covariate.
    """

    param: str
    covariate: str
    form: str
    reference: float | str
    value: float | Mapping[str, float]
    unit: str = ""

    def factor(self, x: Any) -> np.ndarray:
        """Multiplicative factor on the parameter for covariate values ``x``.

        Parameters
        ----------
        x : array_like
            Covariate values (numbers; levels for ``categorical``).

        Returns
        -------
        numpy.ndarray
            Factors, same shape as ``x`` (:func:`blinapk.pk.covariates.factor`).

        Raises
        ------
        DataValidationError
            Unknown categorical level, non-numeric value, or a value <= 0 for a
            power effect (rows are 1-based positions in ``x``).
        """
        return _parameters.effect_factor(self, x)


@dataclass(frozen=True)
class ModelCard:
    """A validated literature model (read-only; build with :func:`load_card`).

    Parameters
    ----------
    name : str
        Card name (the TOML file stem).
    structure : str
        ``"1cmt"`` or ``"2cmt"``.
    typical : Mapping[str, float]
        Typical parameter values at the covariate references.
    units : Mapping[str, str]
        Unit of every parameter (and of TIME, AMT, RATE, DV).
    omega : Mapping[str, float]
        Log-SD of the lognormal between-subject variability per parameter.
    covariates : tuple of CovariateEffect
        Covariate effects, applied multiplicatively.
    residual : Mapping[str, float]
        ``prop`` (fraction) and ``add`` (pg/mL) residual error SDs.
    sources : Mapping[str, Source]
        Cited sources by key.
    numbers : Mapping[str, CardNumber]
        Every number with its provenance, keyed by path (``"typical.CL"``,
        ``"omega.V"``, ``"residual.prop"``, ``"covariates.CL.BSA.value"`` ...).
    title, drug, population, description : str
        Free text.
    path : str
        File the card was read from (empty for dict-built cards).
    """

    name: str
    structure: str
    typical: Mapping[str, float]
    units: Mapping[str, str]
    omega: Mapping[str, float]
    covariates: tuple[CovariateEffect, ...]
    residual: Mapping[str, float]
    sources: Mapping[str, Source]
    numbers: Mapping[str, CardNumber]
    title: str = ""
    drug: str = ""
    population: str = ""
    description: str = ""
    path: str = field(default="", compare=False)

    @property
    def published(self) -> Mapping[str, bool]:
        """Published flag of every number, keyed like :attr:`numbers`."""
        return MappingProxyType({k: n.published for k, n in self.numbers.items()})

    @property
    def flags(self) -> Mapping[str, str]:
        """Evidence flag (V/D/U/assumed) of every number, keyed like :attr:`numbers`."""
        return MappingProxyType({k: n.flag for k, n in self.numbers.items()})

    @property
    def params(self) -> tuple[str, ...]:
        """Structural parameter names in canonical order."""
        return STRUCTURES[self.structure]

    @property
    def covariate_names(self) -> tuple[str, ...]:
        """Covariates the card needs, in order of first use."""
        return tuple(dict.fromkeys(e.covariate for e in self.covariates))

    def typical_parameters(self, covariates: Mapping[str, Any] | pd.DataFrame | None = None):
        """Typical parameters after covariate effects (no random effects).

        Parameters
        ----------
        covariates : Mapping or DataFrame, optional
            Covariate values by name (scalars -> dict result), or a frame with
            one row per subject (-> DataFrame result). Missing covariates are an
            error; ``None`` means every covariate at its reference.

        Returns
        -------
        dict[str, float] or pandas.DataFrame
            Parameter -> value (scalar input) or one column per parameter.
        """
        return _parameters.typical_parameters(self, covariates)

    def individual_parameters(
        self,
        covariates_frame: pd.DataFrame | None = None,
        rng: np.random.Generator | None = None,
        n: int | None = None,
    ) -> pd.DataFrame:
        """Individual parameters: covariate effects and, with ``rng``, lognormal BSV.

        ``P_i = TV_P(covariates_i) * exp(ETA_P_i)``, ``ETA_P_i ~ N(0, omega_P^2)``
        drawn in the card's parameter order (all of the first parameter's etas,
        then the next), so a seed gives the same draws for the same ``n``.

        Parameters
        ----------
        covariates_frame : DataFrame, optional
            One row per subject with the card's covariate columns (names are
            case-insensitive); an ``ID`` column is carried over. Never mutated.
        rng : numpy.random.Generator, optional
            Source of the random effects; without it every ETA is 0.
        n : int, optional
            Number of subjects at the reference covariates when
            ``covariates_frame`` is None (not allowed together with it).

        Returns
        -------
        pandas.DataFrame
            ``ID`` (if given), then ``TV_<P>``, ``ETA_<P>`` and ``<P>`` for every
            structural parameter.

        Raises
        ------
        DataValidationError
            A covariate column is missing, non-numeric, NaN or non-positive
            where the form needs it.
        ModelSpecError
            Neither or both of ``covariates_frame`` and ``n`` given.
        """
        return _parameters.individual_parameters(self, covariates_frame, rng, n)
