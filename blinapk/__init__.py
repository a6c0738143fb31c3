"""blinapk: pharmacokinetics and pharmacodynamics of blinatumomab.

The curated public API. Every subpackage is imported on first attribute
access, so ``import blinapk`` (and each ``blinapk`` command) loads only what it uses.

Examples
--------
>>> import blinapk
>>> ds = blinapk.load_example()
>>> len(ds.subjects)
100
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from blinapk._version import __version__
from blinapk.errors import (
    BlinapkError,
    BlinapkWarning,
    ConvergenceWarning,
    DataValidationError,
    DataWarning,
    ModelSpecError,
    NCAWarning,
    UnitError,
)

#: Names resolved lazily: attribute -> (module, name). Even the light layers load on
#: first use: ``blinapk nca`` on a large file should not pay ~0.5 s for scipy,
#: xarray and the simulator it never calls.
_LAZY = {
    "ModelCard": ("blinapk.cards", "ModelCard"),
    "list_cards": ("blinapk.cards", "list_cards"),
    "load_card": ("blinapk.cards", "load_card"),
    "ClinicalData": ("blinapk.data", "ClinicalData"),
    "Dataset": ("blinapk.data", "Dataset"),
    "RowLedger": ("blinapk.data", "RowLedger"),
    "read_clinical": ("blinapk.data", "read_clinical"),
    "read_dataset": ("blinapk.data", "read_dataset"),
    "write_clinical": ("blinapk.data", "write_clinical"),
    "write_dataset": ("blinapk.data", "write_dataset"),
    "load_example": ("blinapk.datasets", "load_example"),
    "load_example_clinical": ("blinapk.datasets", "load_example_clinical"),
    "dose_records": ("blinapk.dosing", "dose_records"),
    "get_preset": ("blinapk.dosing", "get_preset"),
    "rate_table": ("blinapk.dosing", "rate_table"),
    "predict_conc": ("blinapk.pk", "predict_conc"),
    "simulate_exposure": ("blinapk.simulate", "simulate_exposure"),
    "simulate_trial": ("blinapk.simulate", "simulate_trial"),
    "summarize_exposure": ("blinapk.simulate", "summarize_exposure"),
    "compute_css": ("blinapk.nca", "compute_css"),
    "compute_nca": ("blinapk.nca", "compute_nca"),
    "compute_cytokine_peaks": ("blinapk.nca", "compute_cytokine_peaks"),
    "summarize": ("blinapk.nca", "summarize"),
    "derive_best_response": ("blinapk.endpoints", "derive_best_response"),
    "derive_tte": ("blinapk.endpoints", "derive_tte"),
    "compute_km": ("blinapk.endpoints", "compute_km"),
    "compute_logrank": ("blinapk.endpoints", "compute_logrank"),
    "compute_ae_incidence": ("blinapk.endpoints", "compute_ae_incidence"),
    "compute_endpoints": ("blinapk.endpoints", "compute_endpoints"),
    "fit_er": ("blinapk.er", "fit_er"),
    "load_er": ("blinapk.er", "load_er"),
    "build_model": ("blinapk.poppk", "build_model"),
    "fit": ("blinapk.poppk", "fit"),
    "load_fit": ("blinapk.poppk", "load_fit"),
    "PopPKSpec": ("blinapk.poppk", "PopPKSpec"),
    "compute_predictions": ("blinapk.diagnostics", "compute_predictions"),
    "diagnose": ("blinapk.diagnostics", "diagnose"),
}

__all__ = [
    "BlinapkError",
    "BlinapkWarning",
    "ConvergenceWarning",
    "DataValidationError",
    "DataWarning",
    "ModelSpecError",
    "NCAWarning",
    "UnitError",
    "__version__",
    *sorted(_LAZY),
]


def __getattr__(name: str) -> Any:
    """Resolve the lazily imported names of the public API."""
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    if importlib.util.find_spec(f"{__name__}.{name}") is not None:
        # ``blinapk.simulate.X`` after a bare ``import blinapk``, as when it imported them all
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'blinapk' has no attribute {name!r}")


def __dir__() -> list[str]:
    # the curated API only: not the subpackages loaded on the way or this module's helpers
    return sorted(__all__)
