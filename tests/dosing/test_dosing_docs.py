"""The python examples of docs/dosing.md run as written (their asserts are checks)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "dosing.md"


def test_doc_examples_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 5
    namespace: dict = {}
    for block in blocks:  # later blocks reuse names from earlier ones, as a reader would
        exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102
    out = capsys.readouterr().out
    assert "adult_rr" in out and "TIME_AT_RATE" in out


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])
