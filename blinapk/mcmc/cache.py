"""Compiled-program cache shared across Python processes.

JAX compiles every program it runs (XLA) again in each new process: for
blinapk's models that is most of a JAX-backed fit's fixed cost.
:func:`enable_jax_cache` turns on JAX's persistent compilation cache in a
per-user directory, so a program compiled once (same graph, same shapes,
same data constants) is loaded from disk by later processes instead of
being compiled again; XLA keys each entry by the program itself, so a
different model or dataset never reuses a wrong entry.

Directory: ``$BLINAPK_CACHE_DIR/jax`` when set, else
``$XDG_CACHE_HOME/blinapk/jax``, else ``~/.cache/blinapk/jax``. The NumPyro
path also keeps its exported sampler programs next to it, in
``nuts-programs`` (:mod:`blinapk.mcmc.nutsprogram`). Set
``BLINAPK_CACHE_DIR=off`` to disable both. (numba, the other compiler nutpie
uses, cannot cache nutpie's compiled model: it embeds the data pointers.)
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir", "enable_jax_cache"]

#: Compilations faster than this (s) are not written to the cache.
MIN_COMPILE_S = 0.0


def cache_dir() -> Path | None:
    """Return the blinapk cache directory, or None when disabled (``BLINAPK_CACHE_DIR=off``).

    Returns
    -------
    pathlib.Path or None
        Not created by this function.

    Examples
    --------
    >>> import os
    >>> os.environ["BLINAPK_CACHE_DIR"] = "off"
    >>> cache_dir() is None
    True
    >>> del os.environ["BLINAPK_CACHE_DIR"]
    """
    env = os.environ.get("BLINAPK_CACHE_DIR")
    if env is not None:
        return None if env.strip().lower() in ("off", "0", "none", "") else Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "blinapk"


def enable_jax_cache() -> Path | None:
    """Turn on JAX's persistent compilation cache in :func:`cache_dir` ``/ "jax"``.

    Leaves a cache directory the user configured for JAX untouched. Safe to
    call repeatedly; does nothing when JAX is not installed or the cache is
    disabled.

    Returns
    -------
    pathlib.Path or None
        The directory in use, or None.
    """
    base = cache_dir()
    if base is None:
        return None
    try:
        import jax
    except ImportError:
        return None
    current = jax.config.jax_compilation_cache_dir
    if current:
        return Path(current)
    path = base / "jax"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_S)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return path
