"""Where blinapk's compilation cache lives, that JAX is pointed at it, and its size limit."""

from __future__ import annotations

import os

import pytest

from blinapk.mcmc import cache_dir, enable_jax_cache
from blinapk.mcmc.cache import DEFAULT_MAX_MB, cache_max_bytes, prune


def test_cache_dir_rules(monkeypatch, tmp_path):
    monkeypatch.setenv("BLINAPK_CACHE_DIR", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.setenv("BLINAPK_CACHE_DIR", "off")
    assert cache_dir() is None
    assert enable_jax_cache() is None
    monkeypatch.delenv("BLINAPK_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert cache_dir() == tmp_path / "x" / "blinapk"


def test_enable_jax_cache_sets_jax_config(monkeypatch, tmp_path):
    jax = pytest.importorskip("jax")
    old = jax.config.jax_compilation_cache_dir
    monkeypatch.setenv("BLINAPK_CACHE_DIR", str(tmp_path))
    try:
        jax.config.update("jax_compilation_cache_dir", None)
        path = enable_jax_cache()
        assert path == tmp_path / "jax" and path.is_dir()
        assert jax.config.jax_compilation_cache_dir == str(path)
        # a directory the user chose is kept
        jax.config.update("jax_compilation_cache_dir", str(tmp_path / "mine"))
        assert enable_jax_cache() == tmp_path / "mine"
    finally:
        jax.config.update("jax_compilation_cache_dir", old)


def _entry(folder, key, size, mtime):
    paths = [folder / f"{key}.json", folder / f"{key}.bin"]
    paths[0].write_text("{}")
    paths[1].write_bytes(b"x" * size)
    for p in paths:
        os.utime(p, (mtime, mtime))
    return paths


def test_prune_deletes_least_recently_used_entries_first(tmp_path):
    old = _entry(tmp_path, "a" * 64, 400, 1_000)
    mid = _entry(tmp_path, "b" * 64, 400, 2_000)
    new = _entry(tmp_path, "c" * 64, 400, 3_000)
    deleted = prune(tmp_path, 900)
    assert sorted(deleted) == sorted(old)
    assert all(p.exists() for p in mid + new)
    # the entry just written is kept even when it is the oldest
    deleted = prune(tmp_path, 0, keep=mid)
    assert sorted(deleted) == sorted(new) and all(p.exists() for p in mid)


def test_prune_of_a_missing_folder_does_nothing(tmp_path):
    assert prune(tmp_path / "absent", 0) == []


def test_cache_max_bytes_from_the_environment(monkeypatch):
    monkeypatch.delenv("BLINAPK_CACHE_MAX_MB", raising=False)
    assert cache_max_bytes() == DEFAULT_MAX_MB * 1_000_000
    monkeypatch.setenv("BLINAPK_CACHE_MAX_MB", "0.5")
    assert cache_max_bytes() == 500_000
    monkeypatch.setenv("BLINAPK_CACHE_MAX_MB", "lots")
    with pytest.raises(ValueError, match="BLINAPK_CACHE_MAX_MB='lots'"):
        cache_max_bytes()


def test_enable_jax_cache_sets_the_size_limit(monkeypatch, tmp_path):
    jax = pytest.importorskip("jax")
    old_dir = jax.config.jax_compilation_cache_dir
    old_max = jax.config.jax_compilation_cache_max_size
    monkeypatch.setenv("BLINAPK_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("BLINAPK_CACHE_MAX_MB", "3")
    try:
        jax.config.update("jax_compilation_cache_dir", None)
        enable_jax_cache()
        assert jax.config.jax_compilation_cache_max_size == 3_000_000
    finally:
        jax.config.update("jax_compilation_cache_dir", old_dir)
        jax.config.update("jax_compilation_cache_max_size", old_max)
