"""Find and load model cards: the cards shipped in the package, or a TOML file by path.

The shipped cards are package data, read through :mod:`importlib.resources`
(``blinapk/_models``), so they are found the same way from a wheel, an
editable install or a source checkout.
"""

from __future__ import annotations

import importlib.resources
import tomllib
from importlib.resources.abc import Traversable
from pathlib import Path

from blinapk.cards.schema import ModelCard
from blinapk.cards.validate import card_from_dict
from blinapk.errors import ModelSpecError

__all__ = ["card_dirs", "list_cards", "load_card"]

_PACKAGE, _FOLDER = "blinapk", "_models"


def card_dirs() -> tuple[Traversable, ...]:
    """Folders searched for cards by name: the package's ``blinapk/_models``.

    Returns
    -------
    tuple of importlib.resources.abc.Traversable
        The shipped card folder (empty if the package was installed without it).
    """
    shipped = importlib.resources.files(_PACKAGE) / _FOLDER
    return (shipped,) if shipped.is_dir() else ()


def list_cards() -> tuple[str, ...]:
    """Names of the shipped model cards.

    Returns
    -------
    tuple of str
        Sorted card names (TOML file stems) found in :func:`card_dirs`.

    Examples
    --------
    >>> "blinatumomab_zhu2020" in list_cards()
    True
    """
    return tuple(sorted({entry.name.removesuffix(".toml") for d in card_dirs()
                         for entry in d.iterdir()
                         if entry.name.endswith(".toml") and entry.is_file()}))


def load_card(name_or_path: str | Path | ModelCard) -> ModelCard:
    """Load and validate a model card.

    Parameters
    ----------
    name_or_path : str, pathlib.Path or ModelCard
        A card name from :func:`list_cards`, a path to a TOML file, or an
        already-loaded card (returned unchanged).

    Returns
    -------
    ModelCard
        The validated card.

    Raises
    ------
    ModelSpecError
        Unknown card, unreadable TOML, or a schema violation (message names the key).
    """
    if isinstance(name_or_path, ModelCard):
        return name_or_path
    path = Path(name_or_path)
    source: Traversable | Path = path
    if not (path.suffix == ".toml" or path.is_file()):
        for d in card_dirs():
            entry = d / f"{name_or_path}.toml"
            if entry.is_file():
                source = entry
                break
        else:
            raise ModelSpecError(
                f"unknown model card {str(name_or_path)!r}; available: {', '.join(list_cards())}"
            )
    try:
        with source.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ModelSpecError(f"model card file not found: {source}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ModelSpecError(f"{source}: invalid TOML: {exc}") from exc
    return card_from_dict(raw, origin=str(source))
