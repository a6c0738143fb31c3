"""Literature model cards: declarative TOML files shipped with the package -> :class:`ModelCard`.

A card holds a structural PK model (``1cmt`` or ``2cmt``, linear elimination),
its typical values, covariate effects, between-subject variability (log-SD of a
lognormal random effect) and residual error, and for *every* number its source,
whether it is published, and a flag (``V`` read in the source, ``D`` derived
here, ``U`` unverified, ``assumed``). The schema is documented in
``docs/model_cards.md``; :func:`load_card` validates it and raises
:class:`~blinapk.errors.ModelSpecError` naming the offending key.

Modules: :mod:`~blinapk.cards.schema` (dataclasses and flags),
:mod:`~blinapk.cards.validate` (:func:`card_from_dict`),
:mod:`~blinapk.cards.loader` (:func:`list_cards`, :func:`load_card`),
:mod:`~blinapk.cards.parameters` (typical and individual parameters). The
covariate forms and structures are those of :mod:`blinapk.pk.covariates` and
:mod:`blinapk.pk.parameters`.

Examples
--------
>>> from blinapk.cards import load_card
>>> card = load_card("blinatumomab_zhu2020")
>>> card.structure, card.typical["CL"], card.typical["V"]
('1cmt', 2.22, 5.98)
>>> round(card.typical_parameters({"BSA": 0.37})["CL"] / 2.22, 2)  # 63 % lower at 0.37 m2
0.37
"""

from blinapk.cards.loader import card_dirs, list_cards, load_card
from blinapk.cards.schema import (
    FLAGS,
    FORMS,
    RESIDUAL_KEYS,
    SCHEMA_VERSION,
    STRUCTURES,
    CardNumber,
    CovariateEffect,
    ModelCard,
    Source,
)
from blinapk.cards.validate import card_from_dict

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
    "card_dirs",
    "card_from_dict",
    "list_cards",
    "load_card",
]
