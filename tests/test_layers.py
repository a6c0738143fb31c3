"""The layer contract (``[tool.importlinter]`` in pyproject.toml) holds; an upward import breaks it.

The layers are drawn in docs/design.md: each layer may import only layers
below it, and computation never imports plotting, report or commands.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = str(Path(sys.executable).with_name("lint-imports"))


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(cwd), "PATH": str(Path(sys.executable).parent)}
    return subprocess.run([LINT, "--no-cache", "--no-logo", "pyproject.toml"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_package_keeps_its_layers():
    out = _lint(ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "blinapk", tmp_path / "blinapk",
                    ignore=shutil.ignore_patterns("__pycache__", "_models"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


@pytest.mark.parametrize(("module", "upward", "contract"), [
    ("pk/_backend.py", "blinapk.poppk", "layers"),
    ("data/ledger.py", "blinapk.nca.summary", "layers"),
    ("nca/summary.py", "blinapk.plotting", "layers"),
])
def test_an_upward_import_breaks_the_contract(tmp_path, module, upward, contract):
    pkg = _copy(tmp_path)
    target = pkg / "blinapk" / module
    target.write_text(target.read_text() + f"\nimport {upward}  # upward, on purpose\n")
    out = _lint(pkg)
    assert out.returncode != 0
    assert "BROKEN" in out.stdout
    assert f"blinapk.{module[:-3].replace('/', '.')}" in out.stdout


def _contract_layers() -> list[set[str]]:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["id"] == "layers")["layers"]
    return [{name.strip(" ()") for name in layer.split("|")} for layer in layers]


def _drawn_layers() -> list[set[str]]:
    text = (ROOT / "docs" / "design.md").read_text()
    block = text.split("```")[1]
    out = []
    for line in block.splitlines():
        if line and not line[0].isspace():
            names = line.split("  ")[0]
            out.append({n.strip(" /") for n in names.split("|")})
    return out


def test_design_page_draws_the_layers_of_the_contract():
    assert _drawn_layers() == _contract_layers()
