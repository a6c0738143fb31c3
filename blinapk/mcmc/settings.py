"""Sampler vocabulary and settings shared by every PyMC model.

:class:`SamplerSettings` holds the NUTS settings of one run (draws, warm-up,
chains, seed, target acceptance, cores, sampler, nutpie backend, progress
bar), checked once when created. :meth:`SamplerSettings.resolved` decides
what ``"default"`` and ``"auto"`` mean for a model of a given size:
:func:`resolve_nutpie_backend` picks the compiler nutpie uses, and a model
may ask for NumPyro below a number of observations (population PK does,
below :data:`JAX_NUTS_BELOW_N_OBS`).

Examples
--------
>>> s = SamplerSettings(draws=500, tune=500, seed=1)
>>> s.sampler, s.chains, s.nutpie_backend
('default', 2, 'auto')
>>> s.resolved(n_obs=40_000).label
'nutpie-numba'
>>> s.resolved(n_obs=2_000, jax_nuts_below=JAX_NUTS_BELOW_N_OBS).label
'numpyro'
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import numpy as np

from blinapk.errors import ModelSpecError

__all__ = ["DEFAULT_SAMPLER", "JAX_NUTS_BELOW_N_OBS", "NUMBA_FROM_N_OBS", "NUTPIE_BACKENDS",
           "PRECISIONS", "SAMPLERS", "SamplerSettings", "resolve_nutpie_backend"]

#: NUTS samplers; ``"default"`` means :data:`DEFAULT_SAMPLER`.
SAMPLERS: tuple[str, ...] = ("default", "nutpie", "pymc", "numpyro", "blackjax")
#: Sampler used for ``sampler="default"``.
DEFAULT_SAMPLER = "nutpie"
#: Compilers of the nutpie sampler; ``"auto"`` chooses by size (:func:`resolve_nutpie_backend`).
NUTPIE_BACKENDS: tuple[str, ...] = ("auto", "jax", "numba")
#: From this many observations ``nutpie_backend="auto"`` compiles with numba.
NUMBA_FROM_N_OBS = 2000
#: Population PK samples with NumPyro (:mod:`blinapk.mcmc.jaxnuts`) below this
#: many observations when ``sampler="default"``: one XLA compilation (about
#: 4 s) and no Python per gradient beat nutpie's numba compile (20-25 s) up to
#: mid-sized trials; nutpie-numba's cheaper gradients win beyond
#: (docs/benchmarks-poppk.md).
JAX_NUTS_BELOW_N_OBS = 10_000
#: Floating-point precision of NumPyro's warm-up and draws (:mod:`blinapk.mcmc.jaxnuts`):
#: ``"float32"`` (default) runs the sampler's log density and gradient in single
#: precision, about 1.5x faster per gradient on CPU; ``"float64"`` in double. The
#: posterior variables and the pointwise log-likelihood are computed in double
#: precision either way; nutpie, PyMC and BlackJAX always sample in double precision.
PRECISIONS: tuple[str, ...] = ("float32", "float64")


def resolve_nutpie_backend(requested: str = "auto", n_obs: int | None = None) -> str:
    """Backend nutpie compiles the model with.

    ``auto``: JAX for small datasets (fewer than :data:`NUMBA_FROM_N_OBS`
    observations), numba from there on, and numba whenever JAX is not
    importable. The trade-off, measured in docs/benchmarks-poppk.md: JAX
    compiles in about 2 s but calls back into Python for every gradient, so
    two chains barely run in parallel (N = 200 subjects, 2372 observations:
    27-38 s of sampling); numba compiles for 20-25 s but then samples without
    Python and both chains run truly in parallel (5-15 s at N = 200; 193 s at
    N = 3000, where JAX is several times slower). Below about 2000
    observations the compile time dominates; above, the sampling does.

    Parameters
    ----------
    requested : {"auto", "jax", "numba"}
        The user's choice.
    n_obs : int, optional
        Observations in the likelihood (``auto`` only); unknown = small.

    Returns
    -------
    str
        ``"jax"`` or ``"numba"``.

    Raises
    ------
    ModelSpecError
        Unknown backend.

    Examples
    --------
    >>> resolve_nutpie_backend("numba")
    'numba'
    >>> resolve_nutpie_backend("auto", n_obs=40_000)
    'numba'
    """
    requested = _backend_name(requested)
    if requested != "auto":
        return requested
    if n_obs is not None and n_obs >= NUMBA_FROM_N_OBS:
        return "numba"
    try:
        import jax  # noqa: F401
    except ImportError:
        return "numba"
    return "jax"


def _backend_name(requested: str) -> str:
    """Lower-cased ``requested``, checked against :data:`NUTPIE_BACKENDS`."""
    name = str(requested).lower()
    if name not in NUTPIE_BACKENDS:
        raise ModelSpecError(f"nutpie_backend: use auto, jax or numba, got {name!r}")
    return name


@dataclass(frozen=True)
class SamplerSettings:
    """NUTS settings of one run, validated and normalised when created.

    Parameters
    ----------
    draws : int, default 1000
        Posterior draws per chain (>= 1).
    tune : int, default 1000
        Warm-up iterations per chain (>= 0), discarded.
    chains : int, default 2
        Chains (>= 1).
    seed : int, optional
        Random seed; the same seed gives identical draws. Drawn at random when
        omitted, so that ``settings.seed`` can always be recorded.
    target_accept : float, default 0.8
        NUTS target acceptance, in (0, 1); raise to 0.9-0.95 if divergences appear.
    cores : int, optional
        Chains run in parallel (default ``min(chains, cpu count)``, see :attr:`n_cores`).
    sampler : {"default", "nutpie", "pymc", "numpyro", "blackjax"}
        NUTS implementation (case-insensitive); ``"default"`` is decided by
        :meth:`resolved` (:data:`DEFAULT_SAMPLER` unless the model asks for
        NumPyro below a size). ``blackjax`` needs the ``jax`` extra.
    nutpie_backend : {"auto", "jax", "numba"}
        Compiler of the nutpie sampler (case-insensitive); ``auto`` is decided
        by :meth:`resolved` (or, without a size, by :func:`resolve_nutpie_backend`
        when sampling).
    progressbar : bool, default True
        Show a progress bar while sampling.
    precision : {"float32", "float64"}
        NumPyro only: precision of the log density and gradient during warm-up
        and draws (see :data:`PRECISIONS`).

    Raises
    ------
    ModelSpecError
        Unknown sampler, backend or precision, ``draws``/``chains`` < 1,
        ``tune`` < 0, ``target_accept`` outside (0, 1).
    """

    draws: int = 1000
    tune: int = 1000
    chains: int = 2
    seed: int | None = None
    target_accept: float = 0.8
    cores: int | None = None
    sampler: str = "default"
    nutpie_backend: str = "auto"
    progressbar: bool = True
    precision: str = "float32"

    def __post_init__(self) -> None:
        sampler = str(self.sampler).lower()
        if sampler not in SAMPLERS:
            raise ModelSpecError(f"sampler: unknown sampler {sampler!r}; use one of {SAMPLERS}")
        for name, low in (("draws", 1), ("tune", 0), ("chains", 1)):
            value = getattr(self, name)
            if int(value) < low:
                raise ModelSpecError(f"{name}: must be >= {low}, got {value}")
            object.__setattr__(self, name, int(value))
        target_accept = float(self.target_accept)
        if not 0.0 < target_accept < 1.0:
            raise ModelSpecError(f"target_accept: must be in (0, 1), got {self.target_accept}")
        backend = _backend_name(self.nutpie_backend)
        precision = str(self.precision).lower()
        if precision not in PRECISIONS:
            raise ModelSpecError(f"precision: use float32 or float64, got {self.precision!r}")
        seed = self.seed
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        object.__setattr__(self, "sampler", sampler)
        object.__setattr__(self, "target_accept", target_accept)
        object.__setattr__(self, "nutpie_backend", backend)
        object.__setattr__(self, "precision", precision)
        object.__setattr__(self, "seed", int(seed))
        object.__setattr__(self, "progressbar", bool(self.progressbar))

    @property
    def n_cores(self) -> int:
        """Chains run in parallel: ``cores``, else ``min(chains, cpu count)``."""
        return self.cores or min(self.chains, os.cpu_count() or 1)

    @property
    def label(self) -> str:
        """Sampler name as recorded with a result, e.g. ``nutpie-jax`` or ``numpyro``."""
        sampler = DEFAULT_SAMPLER if self.sampler == "default" else self.sampler
        return f"nutpie-{self.nutpie_backend}" if sampler == "nutpie" else sampler

    def resolved(self, n_obs: int | None = None,
                 jax_nuts_below: int | None = None) -> SamplerSettings:
        """Return these settings with sampler and nutpie backend decided for a size.

        Parameters
        ----------
        n_obs : int, optional
            Observations in the likelihood (see :func:`resolve_nutpie_backend`).
        jax_nuts_below : int, optional
            ``sampler="default"`` becomes ``"numpyro"`` when ``n_obs`` is below
            this and NumPyro is importable (e.g. :data:`JAX_NUTS_BELOW_N_OBS`);
            otherwise, and when omitted, :data:`DEFAULT_SAMPLER`.

        Returns
        -------
        SamplerSettings
            ``sampler`` is never ``"default"``; ``nutpie_backend`` is ``"jax"``
            or ``"numba"``.
        """
        sampler = self.sampler
        if sampler == "default":
            small = (jax_nuts_below is not None and n_obs is not None
                     and n_obs < jax_nuts_below)
            sampler = "numpyro" if small and _importable("numpyro") else DEFAULT_SAMPLER
        return replace(self, sampler=sampler,
                       nutpie_backend=resolve_nutpie_backend(self.nutpie_backend, n_obs))


def _importable(module: str) -> bool:
    """Whether ``module`` can be imported."""
    import importlib.util

    return importlib.util.find_spec(module) is not None
