"""The ``blinapk`` dispatcher: ``--help`` everywhere, version, errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from blinapk import __version__
from blinapk.cli import COMMANDS, build_parser, main


def test_top_level_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out


@pytest.mark.parametrize("name", COMMANDS)
def test_every_subcommand_has_help(name, capsys):
    with pytest.raises(SystemExit) as info:
        main([name, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: blinapk " + name)


def test_no_command_prints_help_and_succeeds(capsys):
    assert main([]) == 0
    assert "COMMAND" in capsys.readouterr().out


def test_version(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert __version__ in capsys.readouterr().out


def test_blinapk_error_becomes_exit_code_2_with_message(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("ID,TIME,EVID,AMT,RATE,DV,MDV\n1,0,1,0,1,0,1\n")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "dose_amount" in err and "row(s) 1" in err


def test_console_script_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "blinapk", "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "usage: blinapk" in out
    assert build_parser().prog == "blinapk"


def test_python_m_blinapk_keeps_the_exit_code(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("ID,TIME,EVID,AMT,RATE,DV,MDV\n1,0,1,0,1,0,1\n")
    proc = subprocess.run([sys.executable, "-m", "blinapk", "validate", str(bad)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "dose_amount" in proc.stderr


def test_run_freezes_the_collector_only_after_main_returns(monkeypatch):
    """``run`` (the console script) exits with main's code; the freeze comes after main."""
    import gc
    import tomllib
    from pathlib import Path

    from blinapk import cli

    events = []
    monkeypatch.setattr(cli, "main", lambda: events.append("main") or 3)
    monkeypatch.setattr(gc, "freeze", lambda: events.append("freeze"))
    with pytest.raises(SystemExit) as exit_info:
        cli.run()
    assert exit_info.value.code == 3
    assert events == ["main", "freeze"]
    project = tomllib.loads((Path(cli.__file__).parents[1] / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["blinapk"] == "blinapk.cli:run"


@pytest.mark.parametrize("name", COMMANDS)
def test_commands_do_not_import_each_other(name):
    """A command calls library functions; shared work lives in the library, not in a command."""
    import ast
    import importlib
    from pathlib import Path

    source = Path(importlib.import_module(f"blinapk.commands.{name}").__file__)
    tree = ast.parse(source.read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {a.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for a in node.names}
    assert not {m for m in imported if m and m.startswith("blinapk.commands.")}


@pytest.mark.parametrize("name", COMMANDS)
def test_help_names_no_file_outside_the_project(name, capsys):
    with pytest.raises(SystemExit):
        main([name, "--help"])
    assert ".md" not in capsys.readouterr().out
