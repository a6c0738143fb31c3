"""The run manifest (``run.json``): data file and settings, for the header of the report."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from blinapk._version import __version__

__all__ = ["MANIFEST", "read_manifest", "write_manifest"]

#: File name of the manifest in a results directory.
MANIFEST = "run.json"


def write_manifest(results_dir: str | Path, *, data: str | Path | None = None,
                   settings: Mapping[str, Any] | None = None) -> Path:
    """Write ``run.json``: blinapk version, date, data file and the settings of the run.

    Parameters
    ----------
    results_dir : str or Path
        Results directory (created).
    data : str or Path, optional
        The data file analysed.
    settings : mapping, optional
        Settings of each step (JSON-serialisable), shown in the report header.

    Returns
    -------
    Path
        The manifest written.
    """
    out = Path(results_dir)
    out.mkdir(parents=True, exist_ok=True)
    body = {"blinapk": __version__, "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "data": str(data) if data is not None else "", "settings": dict(settings or {})}
    path = out / MANIFEST
    path.write_text(json.dumps(body, indent=2, sort_keys=True, default=str) + "\n",
                    encoding="utf-8")
    return path


def read_manifest(results_dir: Path) -> dict[str, Any]:
    """Read ``run.json`` of a results directory; empty when absent.

    Parameters
    ----------
    results_dir : Path
        Results directory.

    Returns
    -------
    dict
    """
    path = results_dir / MANIFEST
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))
