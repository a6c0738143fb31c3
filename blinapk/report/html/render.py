"""Render a results directory as one self-contained HTML file (Jinja2 templates).

The figures are embedded as base64 PNG and the style sheet is inline: the
file can be mailed or archived alone and opens without a network.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from blinapk._version import __version__
from blinapk.errors import BlinapkError
from blinapk.report.html.blocks import Figure, Section, Text, build_section
from blinapk.report.html.format import DIGITS, HtmlTable
from blinapk.report.html.manifest import read_manifest
from blinapk.report.html.sections_clinical import DOSE_FINDING, ENDPOINTS, ER, SIMULATION
from blinapk.report.html.sections_pk import NCA, POPPK, QUALIFICATION, data_section

#: Sections after the data section, in reading order.
SECTIONS = (NCA, POPPK, QUALIFICATION, ENDPOINTS, ER, SIMULATION, DOSE_FINDING)

__all__ = ["SECTIONS", "build_sections", "render_html_report", "write_html_report"]


def build_sections(results_dir: str | Path) -> list[Section]:
    """Build the sections of the report of a results directory, in reading order.

    Data, NCA, population PK, model qualification, endpoints,
    exposure-response and simulated regimens are always there (saying what
    is missing when their results are absent); dose finding only when present.

    Parameters
    ----------
    results_dir : str or Path
        Directory written by ``blinapk demo`` or by the analysis commands
        (each in its own sub-directory, or directly in it).

    Returns
    -------
    list of Section
    """
    results = Path(results_dir)
    sections = [build_section(results, spec) for spec in SECTIONS]
    return [data_section(results, read_manifest(results)), *(s for s in sections if s)]


def _environment():
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("blinapk.report.html", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]),
                             trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    env.tests.update(table=lambda b: isinstance(b, HtmlTable),
                     figure=lambda b: isinstance(b, Figure), text=lambda b: isinstance(b, Text))
    return env


def render_html_report(results_dir: str | Path, *, title: str = "blinapk report") -> str:
    """Render the report of a results directory as HTML text.

    Parameters
    ----------
    results_dir : str or Path
        Results directory.
    title : str
        Title of the page.

    Returns
    -------
    str
        A complete HTML document (no external resources).

    Raises
    ------
    BlinapkError
        ``results_dir`` is not a directory.
    """
    results = Path(results_dir)
    if not results.is_dir():
        raise BlinapkError(f"report: {results} is not a directory of results (run `blinapk "
                           "demo --out DIR` or the analysis commands first)")
    manifest = read_manifest(results)
    env = _environment()
    css = env.loader.get_source(env, "style.css")[0]
    return env.get_template("report.html.j2").render(
        title=title, style=css, sections=build_sections(results), version=__version__,
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), results=str(results),
        manifest=manifest, settings=_settings(manifest), digits=DIGITS)


def _settings(manifest: dict) -> dict[str, str]:
    """Each step's settings as one line ``key=value, ...``."""
    out = {}
    for step, value in manifest.get("settings", {}).items():
        out[step] = (", ".join(f"{k}={v}" for k, v in value.items())
                     if isinstance(value, dict) else str(value))
    return out


def write_html_report(results_dir: str | Path, out: str | Path | None = None, *,
                      title: str = "blinapk report") -> Path:
    """Write the HTML report of a results directory (one self-contained file).

    Parameters
    ----------
    results_dir : str or Path
        Results directory (``blinapk demo --out DIR``, or the ``--out``
        directories of ``blinapk nca``, ``fit``, ``endpoints``, ``er`` and
        ``simulate`` under one folder).
    out : str or Path, optional
        File to write; default ``report.html`` in ``results_dir``.
    title : str
        Title of the page.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(out) if out is not None else Path(results_dir) / "report.html"
    text = render_html_report(results_dir, title=title)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
