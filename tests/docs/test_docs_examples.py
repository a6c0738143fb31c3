"""Every example in docs/*.md and README.md runs as written.

Fenced code blocks are taken in page order and share one namespace per page,
as a reader pasting them would: blocks with ``>>>`` prompts run as doctests
(their printed output is compared); other ``python`` blocks are executed and
their ``assert`` statements are the checks. Pages whose examples fit a
Bayesian model are marked slow. Signature summaries are fenced as ``text``.
"""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = [*sorted(DOCS.glob("*.md")), DOCS.parent / "README.md"]
#: Pages whose examples run MCMC fits (a minute or more).
SLOW_PAGES = {"poppk.md", "validation.md", "external_validation.md", "README.md",
              "diagnostics.md", "er.md"}
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", flags=re.S | re.M)
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _param(page: Path):
    marks = [pytest.mark.slow] if page.name in SLOW_PAGES else []
    return pytest.param(page, id=page.name, marks=marks)


def _run_page(page: Path) -> int:
    """Run the page's examples; return how many blocks ran."""
    text = page.read_text(encoding="utf-8")
    namespace: dict = {"__name__": "__docs__"}
    parser, ran = doctest.DocTestParser(), 0
    for match in FENCE.finditer(text):
        lang, block = match.group(1), match.group(2)
        line = text[: match.start()].count("\n") + 1
        if ">>>" in block:
            test = parser.get_doctest(block, namespace, f"{page.name}:{line}", str(page), line)
            runner = doctest.DocTestRunner(optionflags=FLAGS)
            runner.run(test, clear_globs=False)
            namespace.update(test.globs)  # DocTest copies its globals
            assert runner.failures == 0, f"doctest failure(s) in {page.name} block at line {line}"
            ran += 1
        elif lang == "python":
            exec(compile(block, f"{page.name}:{line}", "exec"), namespace)  # noqa: S102
            ran += 1
    return ran


@pytest.mark.parametrize("page", [_param(p) for p in PAGES])
def test_page_examples_run(page: Path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write here
    _run_page(page)
