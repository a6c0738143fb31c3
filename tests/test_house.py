"""House rules a reader of the tree relies on: small modules, no pointers outside the project."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: A module longer than this is split by concern (docs/design.md).
MAX_MODULE_LINES = 600


def _tracked(*patterns: str) -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", *patterns], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: walk the tree
        return [p for pat in patterns for p in ROOT.glob(pat.replace("*", "**/*", 1))]
    return [ROOT / f for f in out if (ROOT / f).is_file()]


def test_no_module_is_too_long():
    long = {str(p.relative_to(ROOT)): n for p in _tracked("blinapk/*.py")
            if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


#: Files outside the project, and paths of one machine, have no place in what users read.
FORBIDDEN = re.compile(r"shared/|REFERENCE_VALUES|DATA_FORMAT\.md|HOUSE_STYLE|/work/|/tmp/"
                       r"|/root/|/home/")


@pytest.mark.parametrize("pattern", ["blinapk/*", "docs/*", "README.md", "benchmarks/*",
                                     "models/*", "tests/*"])
def test_no_pointers_outside_the_project(pattern):
    bad = []
    for path in _tracked(pattern):
        if path.suffix not in (".py", ".md", ".toml", ".json", ".csv", ".txt", ".cfg"):
            continue
        if path == Path(__file__):
            continue
        for i, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if FORBIDDEN.search(line):
                bad.append(f"{path.relative_to(ROOT)}:{i}: {line.strip()[:100]}")
    assert not bad, "\n".join(bad[:30])
