"""A results directory as one self-contained HTML report.

:func:`write_html_report` (and ``blinapk report RESULTS_DIR``) reads what
the :mod:`blinapk.report` writers left in a results directory and renders
sections for the data and its row accounting, the NCA, the population-PK
posterior, model qualification, endpoints, exposure-response, simulated
regimens and dose finding; a section whose results are absent says so and
names the command that makes them. :func:`write_manifest` records the data
file and settings of a run for the header.
"""

from blinapk.report.html.format import DIGITS, format_number, html_table, read_table
from blinapk.report.html.manifest import MANIFEST, read_manifest, write_manifest
from blinapk.report.html.render import build_sections, render_html_report, write_html_report

__all__ = ["DIGITS", "MANIFEST", "build_sections", "format_number", "html_table",
           "read_manifest", "read_table", "render_html_report", "write_html_report",
           "write_manifest"]
