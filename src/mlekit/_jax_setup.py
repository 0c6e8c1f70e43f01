"""JAX configuration mlekit needs: float64, and a persistent compilation cache."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    if os.environ.get("MLEKIT_CACHE_DIR"):
        return Path(os.environ["MLEKIT_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mlekit" / "jax"


def configure() -> None:
    import jax

    jax.config.update("jax_enable_x64", True)
    if jax.config.jax_compilation_cache_dir is None:  # respect a cache the user configured
        try:
            path = cache_dir()
            path.mkdir(parents=True, exist_ok=True)
        except OSError:
            return  # a read-only home: run without the cache rather than fail
        jax.config.update("jax_compilation_cache_dir", str(path))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
