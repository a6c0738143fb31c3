"""The documentation site: it builds with ``mkdocs build --strict`` and covers what users look up.

The build test needs the ``docs`` extra (mkdocs, mkdocs-material,
mkdocstrings[python]); it is skipped, saying so, when they are not installed.
The other tests need only blinapk.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

import blinapk

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
#: Subpackages with a page in the API reference (docs/api/<name>.md).
API_PAGES = ("data", "dosing", "pk", "cards", "mcmc", "nca", "poppk", "endpoints", "er",
             "simulate", "datasets", "diagnostics", "plotting", "report", "errors", "units")
DOCS_PACKAGES = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python")


def _load_hook(name: str):
    path = DOCS / "hooks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"docs_hook_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _missing_docs_packages() -> list[str]:
    return [p for p in DOCS_PACKAGES if importlib.util.find_spec(p.split(".")[0]) is None
            or importlib.util.find_spec(p) is None]


# ------------------------------------------------------------------ the build

def _build(out: Path) -> None:
    """Build the site from this checkout with ``mkdocs build --strict`` into ``out``."""
    import os

    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                           str(out)], cwd=ROOT, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stderr[-4000:]}"


def _check_pages(site: Path) -> None:
    for page in sorted(DOCS.glob("*.md")):
        built = site / "index.html" if page.stem == "index" else site / page.stem / "index.html"
        assert built.exists(), page.name


def _check_api_reference(site: Path) -> None:
    missing = []
    for name in API_PAGES:
        module = importlib.import_module(f"blinapk.{name}")
        html = (site / "api" / name / "index.html").read_text(encoding="utf-8")
        for attr in getattr(module, "__all__", ()):
            obj = getattr(module, attr)
            if not (inspect.isclass(obj) or inspect.isroutine(obj)):
                continue
            # blinapk.poppk.fit (the function) shares its name with its module
            ids = (f"blinapk.{name}.{attr}", f"{obj.__module__}.{attr}")
            if not any(f'id="{i}"' in html for i in ids):
                missing.append(f"blinapk.{name}.{attr}")
    assert not missing, f"not in the API reference: {missing}"
    nca = (site / "api" / "nca" / "index.html").read_text(encoding="utf-8")
    assert ":func:" not in nca and ":class:" not in nca
    assert 'href="#blinapk.nca.compute_css"' in nca  # a role became a link
    assert "arithmatex" in (site / "api" / "pk" / "index.html").read_text(encoding="utf-8")


def _check_cli_page(site: Path) -> None:
    html = (site / "cli" / "index.html").read_text(encoding="utf-8")
    for command, options in _cli_options().items():
        assert f"blinapk {command}" in html
        for option in options:
            assert option in html, f"{command} {option}"


@pytest.mark.slow
def test_site_builds_strict(tmp_path):
    """One build (15-30 s) checked for pages, API reference and CLI reference."""
    missing = _missing_docs_packages()
    if missing:
        pytest.skip(f"the docs extra is not installed (missing {', '.join(missing)}); "
                    'install it with pip install -e ".[docs]"')
    _build(tmp_path / "site")
    _check_pages(tmp_path / "site")
    _check_api_reference(tmp_path / "site")
    _check_cli_page(tmp_path / "site")


# ------------------------------------------------------------------ without mkdocs

def _cli_options() -> dict[str, list[str]]:
    from blinapk.cli import build_parser

    hook = _load_hook("cli_help")
    return {name: [s for a in sub._actions for s in a.option_strings]
            for name, sub in hook.subparsers(build_parser()).items()}


def test_cli_reference_renders_every_subcommand_and_option():
    from blinapk.cli import COMMANDS

    text = _load_hook("cli_help").render()
    options = _cli_options()
    assert list(options) == list(COMMANDS)
    for command, opts in options.items():
        section = text.split(f"## `blinapk {command}`", 1)[1].split("\n## ", 1)[0]
        for option in opts:
            assert option in section, f"blinapk {command} {option} missing from the CLI reference"
    assert _load_hook("cli_help").MARKER in (DOCS / "cli.md").read_text(encoding="utf-8")


def test_sphinx_roles_become_optional_references_and_math():
    griffe = pytest.importorskip("griffe", reason="griffe comes with the docs extra")
    hook = _load_hook("sphinx_roles")
    loader = griffe.GriffeLoader(search_paths=[str(ROOT)])
    pkg = loader.load("blinapk.nca")
    loader.resolve_aliases(implicit=False)
    text = hook.rewrite(
        "See :func:`compute_css` and :class:`~blinapk.nca.CssResult`, :func:`nothing_here`,"
        " :math:`CL = R_0 / C_{ss}`.\n\n.. math::\n\n    a = b\n    + c\n\nafter",
        pkg, loader.modules_collection)
    assert ('<autoref identifier="blinapk.nca.compute_css" optional><code>compute_css()</code>'
            in text)
    assert '<autoref identifier="blinapk.nca.CssResult" optional><code>CssResult</code>' in text
    assert "<code>nothing_here()</code>" in text and 'identifier="nothing_here"' not in text
    assert r"\(CL = R_0 / C_{ss}\)" in text
    assert "\\[\na = b + c\n\\]" in text and text.endswith("after")


def test_definition_lists_and_page_mentions_become_markdown():
    hook = _load_hook("sphinx_roles")
    text = ("Summary.\n\nSteady state\n    Css per segment\n    and CL.\nCytokines\n    peaks.\n\n"
            "See docs/nca.md, not `docs/nca.md`.\n\nParameters\n----------\nx : int\n    A value.")
    got = hook._definitions(text)
    assert "* **Steady state**: Css per segment and CL.\n* **Cytokines**: peaks." in got
    assert got.endswith("Parameters\n----------\nx : int\n    A value.")  # sections untouched
    linked = hook.DOC_PAGE.sub(hook._page_link, got)
    assert "See [nca.md](../nca.md), not `docs/nca.md`." in linked


def test_api_index_lists_every_top_level_name():
    text = (DOCS / "api" / "index.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"\[`(\w+)`\]\[blinapk\.", text))
    assert listed == set(blinapk.__all__) - {"__version__"}


def test_every_page_is_in_the_nav():
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = [p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")]
    missing = [p for p in pages if not re.search(rf":\s*{re.escape(p)}\s*$", config, re.M)]
    assert not missing, f"pages not in the mkdocs.yml nav: {missing}"
    assert {f"api/{n}.md" for n in API_PAGES} <= set(pages)


def test_readme_and_ci_run_the_same_test_command_with_the_docs_extra():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = re.findall(r"(pip install -e \"\.\[[^\]]*\]\" && pytest[^\n]*)", readme)
    assert commands, "README has no test command"
    assert commands[0].strip() in ci.splitlines(), (commands[0], "not a line of .ci/run")
    extras = re.search(r"\[([^\]]*)\]", commands[0]).group(1).split(",")
    assert "docs" in extras and "test" in extras
