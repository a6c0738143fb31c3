"""The pieces of an HTML report: text, tables, figures and the sections that hold them."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from blinapk.report.html.format import HtmlTable, html_table, read_table

__all__ = ["Figure", "Section", "SectionSpec", "Text", "add_figures", "add_tables",
           "build_section", "figure", "find_dirs", "missing", "output"]


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


def add_tables(d: Path, outputs, items, blocks: list) -> None:
    """Append the tables ``items`` ((file, caption[, columns]), ...) of ``d`` that exist.

    Parameters
    ----------
    d : Path
        Results directory of one analysis.
    outputs : tuple or mapping
        The writer's list of files (checked with :func:`output`).
    items : sequence of tuple
        File name, caption and optionally the columns to show.
    blocks : list
        Appended to.
    """
    for name, caption, *cols in items:
        path = d / output(outputs, name)
        if path.is_file():
            blocks.append(html_table(read_table(path), f"{caption} ({name})",
                                     columns=cols[0] if cols else None))


def add_figures(d: Path, outputs, items, blocks: list) -> None:
    """Append the figures ``items`` ((file, caption), ...) of ``d`` that exist.

    Parameters
    ----------
    d : Path
        Results directory of one analysis.
    outputs : tuple or mapping
        The writer's list of files (checked with :func:`output`).
    items : sequence of (str, str)
        File name and caption.
    blocks : list
        Appended to.
    """
    for name, caption in items:
        fig = figure(d / output(outputs, name), caption)
        if fig is not None:
            blocks.append(fig)


def missing(id_: str, title: str, what: str, command: str) -> Section:
    """Make the section of absent results: say so and name the command that makes them.

    Parameters
    ----------
    id_, title : str
        Anchor and heading.
    what : str
        What is missing (e.g. ``"exposure-response results"``).
    command : str
        The command to run.

    Returns
    -------
    Section
    """
    return Section(id_, title, (Text(f"No {what} in this results directory: run `{command}`.",
                                     kind="missing"),), present=False)


@dataclass(frozen=True)
class SectionSpec:
    """How to find and draw one section of the report.

    Attributes
    ----------
    id, title : str
        Anchor and heading.
    marker : str
        A file only this analysis writes: each directory holding it is one result.
    what, command : str
        What is missing, and the command that makes it, when no directory holds ``marker``.
    build : callable
        ``build(directory) -> list`` of blocks of one result.
    optional : bool
        Leave the section out (instead of saying what is missing) when absent.
    """

    id: str
    title: str
    marker: str
    what: str
    command: str
    build: Callable[[Path], list]
    optional: bool = False


def build_section(results: Path, spec: SectionSpec) -> Section | None:
    """Build a section from every directory under ``results`` holding its marker file.

    Parameters
    ----------
    results : Path
        Results directory.
    spec : SectionSpec
        The section.

    Returns
    -------
    Section or None
        One subsection per directory when there are several; the missing
        section (None for an optional one) when there is none.
    """
    dirs = find_dirs(results, spec.marker)
    if not dirs:
        return None if spec.optional else missing(spec.id, spec.title, spec.what, spec.command)
    if len(dirs) == 1:
        return Section(spec.id, spec.title, tuple(spec.build(dirs[0])))
    subs = tuple(Section(f"{spec.id}-{i}", str(d.relative_to(results)), tuple(spec.build(d)))
                 for i, d in enumerate(dirs, 1))
    return Section(spec.id, spec.title, (Text(f"{len(dirs)} sets of results."),),
                   subsections=subs)
