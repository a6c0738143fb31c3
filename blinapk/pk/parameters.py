"""Structural-parameter vocabulary: which parameters each structure has, their units and labels.

One table for the closed forms (:func:`blinapk.pk.predict_conc`), model cards
(:mod:`blinapk.cards`) and population-PK specs (:mod:`blinapk.poppk.spec`).
``V`` is always the central volume (V1 of a two-compartment model).

Examples
--------
>>> STRUCTURES["2cmt"]
('CL', 'V', 'Q', 'V2')
>>> structure_params("1cmt")
('CL', 'V')
>>> PARAMETER_UNITS["Q"], PARAMETER_LABELS["V2"]
('L/h', 'peripheral volume')
>>> STRUCTURE_ALIASES["two-cmt"]
'2cmt'
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from blinapk.errors import ModelSpecError

__all__ = [
    "PARAMETER_LABELS",
    "PARAMETER_UNITS",
    "STRUCTURES",
    "STRUCTURE_ALIASES",
    "structure_params",
]

#: Parameters of each structure, in canonical order (exactly these).
STRUCTURES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"1cmt": ("CL", "V"), "2cmt": ("CL", "V", "Q", "V2")}
)
#: Accepted spellings (lower-case) of each structure name.
STRUCTURE_ALIASES: Mapping[str, str] = MappingProxyType({
    "1cmt": "1cmt", "one-cmt": "1cmt", "one_cmt": "1cmt", "onecmt": "1cmt", "1-cmt": "1cmt",
    "1": "1cmt", "one": "1cmt",
    "2cmt": "2cmt", "two-cmt": "2cmt", "two_cmt": "2cmt", "twocmt": "2cmt", "2-cmt": "2cmt",
    "2": "2cmt", "two": "2cmt",
})
#: Unit of each structural parameter (the package's internal units: h, L).
PARAMETER_UNITS: Mapping[str, str] = MappingProxyType(
    {"CL": "L/h", "V": "L", "Q": "L/h", "V2": "L"}
)
#: Human-readable name of each structural parameter.
PARAMETER_LABELS: Mapping[str, str] = MappingProxyType({
    "CL": "clearance", "V": "central volume", "Q": "inter-compartmental clearance",
    "V2": "peripheral volume",
})


def structure_params(structure: str) -> tuple[str, ...]:
    """Parameters of ``structure`` (a canonical name, not an alias).

    Parameters
    ----------
    structure : str
        ``"1cmt"`` or ``"2cmt"``.

    Returns
    -------
    tuple of str
        The parameter names in canonical order.

    Raises
    ------
    ModelSpecError
        Unknown structure.
    """
    try:
        return STRUCTURES[structure]
    except (KeyError, TypeError):
        raise ModelSpecError(
            f"unknown pk model {structure!r}; expected one of {sorted(STRUCTURES)}"
        ) from None
