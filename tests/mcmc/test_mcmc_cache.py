"""Where blinapk's compilation cache lives, and that JAX is pointed at it."""

from __future__ import annotations

import pytest

from blinapk.mcmc import cache_dir, enable_jax_cache


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
