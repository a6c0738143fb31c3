"""The pieces of an HTML report: text, tables, figures and the sections that hold them."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path

from blinapk.report.html.format import HtmlTable

__all__ = ["Figure", "Section", "Text", "figure", "find_dirs", "output"]


@dataclass(frozen=True)
class Text:
    """A paragraph (plain text; the template escapes it).

    Attributes
    ----------
    text : str
        The paragraph.
    kind : str
        ``"note"`` (default) or ``"missing"`` (what is absent and how to make it).
    """

    text: str
    kind: str = "note"


@dataclass(frozen=True)
class Figure:
    """A PNG figure embedded as a ``data:`` URI.

    Attributes
    ----------
    src : str
        ``data:image/png;base64,...``.
    caption : str
        Caption (names the file).
    """

    src: str
    caption: str


@dataclass(frozen=True)
class Section:
    """One section of the report.

    Attributes
    ----------
    id : str
        Anchor of the section (table of contents).
    title : str
        Heading.
    blocks : tuple
        :class:`Text`, :class:`~blinapk.report.html.format.HtmlTable` and
        :class:`Figure` items, in order; never empty.
    present : bool
        False when the results of the section are absent (``blocks`` then
        says what is missing).
    subsections : tuple of Section
        One per results directory when there are several (e.g. two E-R fits).
    """

    id: str
    title: str
    blocks: tuple[Text | HtmlTable | Figure, ...] = field(default=())
    present: bool = True
    subsections: tuple[Section, ...] = field(default=())


def figure(path: Path, caption: str) -> Figure | None:
    """Embed a PNG file; None when the file is absent.

    Parameters
    ----------
    path : Path
        PNG file.
    caption : str
        Caption.

    Returns
    -------
    Figure or None
    """
    if not path.is_file():
        return None
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return Figure(src=f"data:image/png;base64,{data}", caption=f"{caption} ({path.name})")


def find_dirs(results_dir: Path, marker: str) -> list[Path]:
    """Directories under ``results_dir`` (itself included) that hold the file ``marker``.

    Parameters
    ----------
    results_dir : Path
        Results directory.
    marker : str
        A file name that only one writer writes (e.g. ``fit.nc``).

    Returns
    -------
    list of Path
        Sorted; empty when no directory holds it.
    """
    return sorted({p.parent for p in results_dir.rglob(marker) if p.is_file()})


def output(outputs, name: str) -> str:
    """Check that a writer writes the file ``name`` (listed in its ``*_OUTPUTS``); return it.

    The report reads the files that the :mod:`blinapk.report` writers list;
    a file renamed there fails here, not silently in the report.

    Parameters
    ----------
    outputs : tuple or mapping of str
        A writer's list of files (e.g. :data:`blinapk.report.NCA_OUTPUTS`).
    name : str
        The file.

    Returns
    -------
    str
        ``name``.

    Raises
    ------
    KeyError
        The writer does not write ``name``.
    """
    names = outputs.values() if hasattr(outputs, "values") else outputs
    if name not in names:
        raise KeyError(f"{name} is not among the files the writer lists: {sorted(names)}")
    return name
