"""The worked notebooks in notebooks/: stored without outputs, public API only, run in CI.

Each notebook is executed top to bottom in a fresh ipykernel (the interpreter
running the tests) with nbclient, from a temporary working directory, so that
nothing it might write lands in the repository. The executed copy is kept in
memory only; the stored notebooks stay output-free.
"""

from __future__ import annotations

import ast
import importlib
import os
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXPECTED = ["01_data_and_nca", "02_population_pk", "03_endpoints_and_exposure_response",
            "04_trial_simulation"]
#: Seconds a single cell may take before the run fails (the fits are the slow cells).
CELL_TIMEOUT = 900


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _code(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


def test_the_four_notebooks_exist():
    assert [p.stem for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_without_outputs(path: Path):
    nb = _read(path)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {i} has stored outputs"
            assert cell.execution_count is None, f"{path.name} cell {i} has an execution count"
            assert "execution" not in cell.metadata, f"{path.name} cell {i} has timings"


def _blinapk_uses(tree: ast.AST):
    """Yield (module, name) for every blinapk import and ``blinapk.<name>`` attribute."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "blinapk":
            for alias in node.names:
                yield node.module, alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "blinapk":
                    parent, _, name = alias.name.rpartition(".")
                    yield parent or None, name
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
              and node.value.id == "blinapk"):
            yield "blinapk", node.attr


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_only_public_api(path: Path):
    uses = [u for src in _code(_read(path)) for u in _blinapk_uses(ast.parse(src))]
    assert uses, f"{path.name} does not use blinapk"
    for module, name in uses:
        if module is None:                       # import blinapk
            continue
        # blinapk or one of its sub-packages, never a module inside one
        assert module.count(".") <= 1, f"{path.name}: imports from the module {module}"
        assert not any(part.startswith("_") for part in module.split(".")), (module, name)
        public = importlib.import_module(module).__all__
        assert name in public, f"{path.name}: {module}.{name} is not in {module}.__all__"


def test_public_api_check_sees_modules_and_attributes():
    tree = ast.parse("from blinapk.nca.blq import SeedRule\nimport blinapk\nblinapk._version")
    assert set(_blinapk_uses(tree)) == {("blinapk.nca.blq", "SeedRule"), (None, "blinapk"),
                                        ("blinapk", "_version")}
    assert "_version" not in importlib.import_module("blinapk").__all__


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_top_to_bottom(path: Path, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    # the kernel inherits the environment: the blinapk under test, inline figures
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    monkeypatch.delenv("MPLBACKEND", raising=False)
    monkeypatch.chdir(tmp_path)
    nb = _read(path)
    # "python3" is ipykernel's kernel; jupyter_client starts it with this interpreter
    NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    # figures are shown inline, and the tables are displayed
    assert any("image/png" in o.get("data", {}) for o in outputs), "no inline figure"
    assert any("text/html" in o.get("data", {}) for o in outputs), "no table"
    assert list(tmp_path.iterdir()) == [], "the notebook wrote files in its working directory"
