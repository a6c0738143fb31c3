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

Size: each of the two directories is kept under :func:`cache_max_bytes`
(:data:`DEFAULT_MAX_MB` MB, or ``$BLINAPK_CACHE_MAX_MB``); the least recently
used entries are deleted first (JAX's own least-recently-used eviction for
``jax``, :func:`prune` for ``nuts-programs``). A 200-subject NumPyro fit
leaves about 0.4 MB in ``nuts-programs`` and 0.6 MB in ``jax``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

__all__ = ["DEFAULT_MAX_MB", "cache_dir", "cache_max_bytes", "enable_jax_cache", "prune"]

#: Compilations faster than this (s) are not written to the cache.
MIN_COMPILE_S = 0.0
#: Default size limit of each cache directory (MB).
DEFAULT_MAX_MB = 500


def cache_max_bytes() -> int:
    """Size limit of each cache directory in bytes (``$BLINAPK_CACHE_MAX_MB``, default 500 MB).

    Returns
    -------
    int

    Raises
    ------
    ValueError
        When ``BLINAPK_CACHE_MAX_MB`` is not a non-negative number.

    Examples
    --------
    >>> import os
    >>> os.environ["BLINAPK_CACHE_MAX_MB"] = "2"
    >>> cache_max_bytes()
    2000000
    >>> del os.environ["BLINAPK_CACHE_MAX_MB"]
    """
    raw = os.environ.get("BLINAPK_CACHE_MAX_MB", "").strip()
    if not raw:
        return DEFAULT_MAX_MB * 1_000_000
    try:
        mb = float(raw)
    except ValueError:
        mb = -1.0
    if not mb >= 0:
        raise ValueError(f"BLINAPK_CACHE_MAX_MB={raw!r}: expected a size in MB (a number >= 0)")
    return int(mb * 1_000_000)


def prune(folder: Path, max_bytes: int, *, keep: Sequence[Path] = ()) -> list[Path]:
    """Delete the least recently used entries of ``folder`` until it holds <= ``max_bytes``.

    An entry is the set of files sharing a stem (``<key>.json`` and
    ``<key>.bin``); its age is the newest modification time of its files (a
    cache hit touches them). Files that cannot be removed are skipped.

    Parameters
    ----------
    folder : pathlib.Path
        Cache directory (absent: nothing to do).
    max_bytes : int
        Size limit.
    keep : sequence of pathlib.Path
        Files never deleted (the entry just written).

    Returns
    -------
    list of pathlib.Path
        The files deleted.
    """
    try:
        files = [f for f in folder.iterdir() if f.is_file()]
    except OSError:
        return []
    entries: dict[str, list[tuple[Path, os.stat_result]]] = {}
    for f in files:
        try:
            entries.setdefault(f.name.split(".")[0], []).append((f, f.stat()))
        except OSError:
            continue
    total = sum(st.st_size for group in entries.values() for _, st in group)
    kept = {Path(k).resolve() for k in keep}
    deleted: list[Path] = []
    for _, group in sorted(entries.items(), key=lambda kv: max(st.st_mtime for _, st in kv[1])):
        if total <= max_bytes:
            break
        if any(f.resolve() in kept for f, _ in group):
            continue
        for f, st in group:
            try:
                f.unlink()
            except OSError:
                continue
            total -= st.st_size
            deleted.append(f)
    return deleted


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
    jax.config.update("jax_compilation_cache_max_size", cache_max_bytes())
    return path
