"""MCMC convergence gates: R-hat, bulk/tail ESS, divergences, E-BFMI.

Thresholds follow Vehtari et al. (Bayesian Analysis 2021, "Rank-normalization,
folding, and localization: an improved R-hat"): rank-normalised split R-hat
<= 1.01 and bulk and tail ESS >= 100 per chain; no divergent transition
(Betancourt 2017, "A conceptual introduction to Hamiltonian Monte Carlo");
E-BFMI >= 0.3 per chain (Betancourt 2016).

R-hat, the ESS and E-BFMI are those of ArviZ (``az.rhat(method="rank")``,
``az.ess(method="bulk"/"tail")``, ``az.bfmi``), computed for every element at
once by :mod:`blinapk.mcmc.diagnostics_fast` (ArviZ loops in Python over
elements, about a second per fit with a few hundred random effects, and
compiles a numba kernel for E-BFMI on first use, 0.2 s per process).

This module depends on :mod:`blinapk.mcmc.diagnostics_fast` and
:mod:`blinapk.errors` only (it reads an ``arviz.InferenceData`` without
importing ArviZ), so any fitter (population PK, exposure-response)
can gate its draws with it.

Examples
--------
>>> import numpy as np, arviz as az
>>> rng = np.random.default_rng(0)
>>> idata = az.from_dict(posterior={"x": rng.normal(size=(4, 500))})
>>> report = check_convergence(idata)
>>> report.passed
True
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from blinapk.errors import ConvergenceWarning
from blinapk.mcmc.diagnostics_fast import ebfmi, rank_diagnostics

__all__ = [
    "ConvergenceGates",
    "ConvergenceReport",
    "GateResult",
    "check_convergence",
    "warn_if_failed",
]


@dataclass(frozen=True)
class ConvergenceGates:
    """Thresholds of the gates.

    Parameters
    ----------
    rhat_max : float, default 1.01
        Largest acceptable rank-normalised split R-hat.
    ess_bulk_per_chain : float, default 100
        Smallest acceptable bulk ESS divided by the number of chains.
    ess_tail_per_chain : float, default 100
        Smallest acceptable tail ESS divided by the number of chains.
    max_divergences : int, default 0
        Largest acceptable number of divergent transitions (after warm-up).
    ebfmi_min : float, default 0.3
        Smallest acceptable E-BFMI of any chain.
    group_rhat_max : float, default 1.05
        Largest acceptable R-hat of the *grouped* variables (those with the
        ``group_dim`` dimension of :func:`check_convergence`, e.g. one random
        effect per subject). With hundreds of such variables at an ESS of ~1000,
        the largest split R-hat exceeds 1.01 by Monte Carlo noise alone (a
        multiple-comparison effect); 1.05 still flags a subject whose chains have
        not mixed. Their ESS is gated like every other variable.
    """

    rhat_max: float = 1.01
    ess_bulk_per_chain: float = 100.0
    ess_tail_per_chain: float = 100.0
    max_divergences: int = 0
    ebfmi_min: float = 0.3
    group_rhat_max: float = 1.05


@dataclass(frozen=True)
class GateResult:
    """Outcome of one gate.

    Attributes
    ----------
    gate : str
        ``rhat``, ``ess_bulk``, ``ess_tail``, ``divergences`` or ``ebfmi``.
    value : float
        Worst value observed (max R-hat, min ESS, count, min E-BFMI); NaN when
        not computable (e.g. one chain for R-hat, no energy for E-BFMI).
    threshold : float
        The gate's threshold (ESS thresholds are totals over chains).
    passed : bool
        Whether the gate passed (a NaN value passes and says so in ``detail``).
    worst : tuple of str
        Variables (with coordinates) that failed, worst first (at most 5).
    advice : str
        What to do when the gate failed ("" when it passed).
    """

    gate: str
    value: float
    threshold: float
    passed: bool
    worst: tuple[str, ...] = ()
    advice: str = ""
    detail: str = ""


@dataclass(frozen=True)
class ConvergenceReport:
    """All gate results of one fit.

    Attributes
    ----------
    results : tuple of GateResult
        One per gate.
    n_chains, n_draws : int
        Size of the posterior checked.
    """

    results: tuple[GateResult, ...]
    n_chains: int
    n_draws: int

    @property
    def passed(self) -> bool:
        """True when every gate passed."""
        return all(r.passed for r in self.results)

    def __getitem__(self, gate: str) -> GateResult:
        for r in self.results:
            if r.gate == gate:
                return r
        raise KeyError(gate)

    def failures(self) -> tuple[GateResult, ...]:
        """Return the gates that failed."""
        return tuple(r for r in self.results if not r.passed)

    def message(self) -> str:
        """One line per failed gate with advice ("" when all passed)."""
        lines = []
        for r in self.failures():
            where = f" ({', '.join(r.worst)})" if r.worst else ""
            lines.append(f"{r.gate}: {r.value:.4g} vs threshold {r.threshold:.4g}{where}. "
                         f"{r.advice}")
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """One row per gate: ``GATE, VALUE, THRESHOLD, PASSED, WORST, ADVICE``."""
        return pd.DataFrame({
            "GATE": [r.gate for r in self.results],
            "VALUE": [r.value for r in self.results],
            "THRESHOLD": [r.threshold for r in self.results],
            "PASSED": [r.passed for r in self.results],
            "WORST": ["; ".join(r.worst) for r in self.results],
            "ADVICE": [r.advice or r.detail for r in self.results],
        })


def _elements(post: Any) -> tuple[list[str], list[str], list[np.ndarray]]:
    """Every scalar element of the posterior variables, labelled as ArviZ's output would be.

    Returns the labels (``name`` for a scalar variable, ``name[coord, ...]``
    otherwise, in the order of ``DataArray.to_series``), the variable of each
    label, and one ``(chain, draw, k)`` array of draws per variable (in the same
    element order).
    """
    labels: list[str] = []
    owners: list[str] = []
    blocks: list[np.ndarray] = []
    for name, da in post.data_vars.items():
        other = [d for d in da.dims if d not in ("chain", "draw")]
        da = da.transpose("chain", "draw", *other)
        values = np.asarray(da.values)
        if not other:
            names = [str(name)]
        else:
            s = da.isel(chain=0, draw=0, drop=True).to_series()
            names = [f"{name}[{', '.join(str(k) for k in (i if isinstance(i, tuple) else (i,)))}]"
                     for i in s.index]
        labels += names
        owners += [name] * len(names)
        blocks.append(values.reshape(values.shape[0], values.shape[1], -1))
    return labels, owners, blocks


def _diagnostics(blocks: list[np.ndarray], n_elem: int) -> tuple[np.ndarray, ...]:
    """Rank R-hat, bulk ESS and tail ESS of every element of ``blocks`` (in order).

    Variables are computed in their own floating dtype (as ArviZ does; integer
    draws as float64), one call per dtype.
    """
    out = tuple(np.full(n_elem, np.nan) for _ in range(3))
    groups: dict[np.dtype, list[tuple[int, np.ndarray]]] = {}
    start = 0
    for b in blocks:
        dtype = b.dtype if b.dtype.kind == "f" else np.dtype(np.float64)
        groups.setdefault(dtype, []).append((start, b))
        start += b.shape[-1]
    for dtype, members in groups.items():
        idx = np.concatenate([np.arange(s, s + b.shape[-1]) for s, b in members])
        draws = np.concatenate([b.astype(dtype, copy=False) for _, b in members], axis=-1)
        for arr, values in zip(out, rank_diagnostics(draws), strict=True):
            arr[idx] = values
    return out


def _series(labels: list[str], values: np.ndarray, keep: list[int] | None = None) -> pd.Series:
    """Labelled statistics (a later duplicate label overwrites, as a dict does)."""
    keep = range(len(labels)) if keep is None else keep
    return pd.Series({labels[i]: float(values[i]) for i in keep}, dtype=float)


def _worst(s: pd.Series, bad: pd.Series, ascending: bool) -> tuple[str, ...]:
    return tuple(s[bad].sort_values(ascending=ascending).index[:5])


def _raise_target(target_accept: float | None) -> str:
    """Advice on the target acceptance after divergences, given the one used."""
    if target_accept is None or target_accept < 0.95:
        return "increase target_accept to 0.95"
    if target_accept < 0.99:
        return "increase target_accept to 0.99"
    return f"target_accept is already {target_accept:g}: double tune"


def check_convergence(idata: Any, var_names: Sequence[str] | None = None,
                      gates: ConvergenceGates | None = None,
                      parameterisation: Mapping[str, str] | None = None,
                      group_dim: str | Sequence[str] | None = None,
                      target_accept: float | None = None) -> ConvergenceReport:
    """Run the convergence gates on the posterior of ``idata``.

    Parameters
    ----------
    idata : arviz.InferenceData
        With a ``posterior`` group and, for divergences and E-BFMI, a
        ``sample_stats`` group (``diverging``, ``energy``).
    var_names : sequence of str, optional
        Variables to check (default: every posterior variable).
    gates : ConvergenceGates, optional
        Thresholds (defaults as documented in :class:`ConvergenceGates`).
    parameterisation : mapping, optional
        Parameter -> ``centered``/``noncentered``/``partial`` as fitted; makes the advice
        on divergences and E-BFMI name the random effects to switch.
    group_dim : str or sequence of str, optional
        Dimension(s) marking grouped variables (e.g. ``"subject"``): their R-hat
        is gated separately (gate ``rhat_group``, threshold
        ``gates.group_rhat_max``); the ``rhat`` gate then covers the others.
    target_accept : float, optional
        The target acceptance the draws were made with; the advice on
        divergences then names the next step up (0.95, then 0.99) or, at
        0.99 already, more warm-up.

    Returns
    -------
    ConvergenceReport
    """
    gates = gates or ConvergenceGates()
    post = idata.posterior
    if var_names is not None:
        post = post[list(var_names)]
    n_chains, n_draws = int(post.sizes["chain"]), int(post.sizes["draw"])
    par = dict(parameterisation or {})
    centered = [p for p, c in par.items() if c in ("centered", "partial")]
    results = []

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gdims = {group_dim} if isinstance(group_dim, str) else set(group_dim or ())
        grouped = [n for n, da in post.data_vars.items() if gdims & set(da.dims)]
        parts = [("rhat", [n for n in post.data_vars if n not in grouped], gates.rhat_max)]
        if grouped:
            parts.append(("rhat_group", grouped, gates.group_rhat_max))
        labels, owners, blocks = _elements(post)
        rhat_all, bulk_all, tail_all = _diagnostics(blocks, len(labels))
        for gate, names, limit in parts:
            if n_chains < 2 or not names:
                results.append(GateResult(gate, float("nan"), limit, True,
                                          detail="needs >= 2 chains and variables; not checked"))
                continue
            chosen = set(names)
            rhat = _series(labels, rhat_all, [i for i, o in enumerate(owners) if o in chosen])
            bad = rhat > limit
            results.append(GateResult(
                gate, float(rhat.max()), limit, not bool(bad.any()),
                _worst(rhat, bad, False),
                "" if not bad.any() else
                "Chains disagree: increase tune and draws (e.g. double both), run 4 chains, "
                "and check for multimodality or poorly identified parameters "
                "(e.g. V without early samples)."))
        for kind, per_chain, values in (("bulk", gates.ess_bulk_per_chain, bulk_all),
                                        ("tail", gates.ess_tail_per_chain, tail_all)):
            ess = _series(labels, values)
            need = per_chain * n_chains
            bad = ess < need
            advice = "" if not bad.any() else (
                f"{kind} ESS below {per_chain:g} per chain: increase draws (ESS grows with "
                "draws)" + (", or re-parameterise the random effect named here"
                            if kind == "bulk" else ", tails need more draws than means")
                + ".")
            results.append(GateResult(f"ess_{kind}", float(ess.min()), need,
                                      not bool(bad.any()), _worst(ess, bad, True), advice))

    stats = getattr(idata, "sample_stats", None)
    if stats is not None and "diverging" in stats:
        n_div = int(np.asarray(stats["diverging"].values).sum())
        ok = n_div <= gates.max_divergences
        switch = (f" or switch {', '.join(centered)} to non-centered (currently "
                  "centered or partially centered)" if centered else "")
        results.append(GateResult(
            "divergences", float(n_div), float(gates.max_divergences), ok, (),
            "" if ok else f"{n_div} divergent transitions: {_raise_target(target_accept)}"
            f"{switch}; divergences bias the posterior and must not be ignored."))
    else:
        results.append(GateResult("divergences", float("nan"), float(gates.max_divergences),
                                  True, detail="no sample_stats.diverging; not checked"))
    if stats is not None and "energy" in stats:
        bfmi = ebfmi(stats["energy"].transpose("chain", "draw").values)
        low = float(np.min(bfmi))
        ok = low >= gates.ebfmi_min
        worst = tuple(f"chain {i}" for i in np.flatnonzero(bfmi < gates.ebfmi_min)[:5])
        switch = (f"switch {', '.join(centered)} to non-centered, or " if centered else "")
        results.append(GateResult(
            "ebfmi", low, gates.ebfmi_min, ok, worst,
            "" if ok else f"Low E-BFMI (heavy-tailed energy, funnel-like geometry): {switch}"
            "tighten the omega priors and increase tune."))
    else:
        results.append(GateResult("ebfmi", float("nan"), gates.ebfmi_min, True,
                                  detail="no sample_stats.energy; not checked"))
    return ConvergenceReport(tuple(results), n_chains, n_draws)


def warn_if_failed(report: ConvergenceReport, stacklevel: int = 2) -> None:
    """Emit one :class:`~blinapk.errors.ConvergenceWarning` listing every failed gate.

    Parameters
    ----------
    report : ConvergenceReport
        From :func:`check_convergence`.
    stacklevel : int
        Passed to :func:`warnings.warn`.
    """
    if not report.passed:
        warnings.warn("MCMC convergence gates failed:\n" + report.message(), ConvergenceWarning,
                      stacklevel=stacklevel + 1)
