"""The shipped cards are package data: found through importlib.resources, not the repository."""

from __future__ import annotations

import importlib.resources
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import blinapk
from blinapk.cards import card_dirs, list_cards, load_card

REPO = Path(__file__).resolve().parents[2]


def test_list_cards_reads_the_package_resource_folder():
    shipped = importlib.resources.files("blinapk") / "_models"
    names = {e.name.removesuffix(".toml") for e in shipped.iterdir() if e.name.endswith(".toml")}
    assert set(list_cards()) == names >= {"blinatumomab_zhu2020", "blinatumomab_klinger2012"}
    assert tuple(card_dirs()) == (shipped,)
    card = load_card("blinatumomab_zhu2020")
    assert Path(card.path).parent.name == "_models"


def test_the_resource_folder_is_the_repository_models_folder():
    # blinapk/_models is a relative symlink to models/, so the wheel ships the same files
    link = Path(blinapk.__file__).parent / "_models"
    if not link.is_symlink():
        pytest.skip("installed package: _models is a real folder")
    assert os.readlink(link) == os.path.join("..", "models")
    assert link.resolve() == (REPO / "models").resolve()


def test_cards_are_found_in_a_copy_of_the_package_outside_the_repository(tmp_path):
    """A package tree without the repository around it (as after a wheel install)."""
    package = Path(blinapk.__file__).parent
    shutil.copytree(package, tmp_path / "blinapk", symlinks=False,
                    ignore=shutil.ignore_patterns("__pycache__"))
    code = ("import blinapk, blinapk.cards as c; "
            "print(blinapk.__file__); print(c.list_cards()); "
            "print(c.load_card('blinatumomab_zhu2020').typical['CL'])")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {
        "PYTHONPATH": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0].startswith(str(tmp_path))  # the copy was imported, not the repository
    assert out[1] == "('blinatumomab_klinger2012', 'blinatumomab_zhu2020')"
    assert out[2] == "2.22"
