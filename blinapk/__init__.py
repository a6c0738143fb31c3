"""blinapk: pharmacokinetics and pharmacodynamics of blinatumomab.

The curated public API. Heavy subpackages (PyMC-based population PK) are
imported lazily on first attribute access so ``import blinapk`` stays fast.

Examples
--------
>>> import blinapk
>>> ds = blinapk.load_example()
>>> len(ds.subjects)
100
"""

from __future__ import annotations

import importlib
from typing import Any

from blinapk._version import __version__
from blinapk.cards import ModelCard, list_cards, load_card
from blinapk.data import (
    ClinicalData,
    Dataset,
    RowLedger,
    read_clinical,
    read_dataset,
    write_clinical,
    write_dataset,
)
from blinapk.datasets import load_example, load_example_clinical
from blinapk.dosing import dose_records, get_preset, rate_table
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
from blinapk.pk import predict_conc
from blinapk.simulate import simulate_exposure, simulate_trial, summarize_exposure

#: Names resolved lazily: attribute -> (module, name).
_LAZY = {
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
    "ClinicalData",
    "ConvergenceWarning",
    "DataValidationError",
    "DataWarning",
    "Dataset",
    "ModelCard",
    "ModelSpecError",
    "NCAWarning",
    "RowLedger",
    "UnitError",
    "__version__",
    "dose_records",
    "get_preset",
    "list_cards",
    "load_card",
    "load_example",
    "load_example_clinical",
    "predict_conc",
    "rate_table",
    "read_clinical",
    "read_dataset",
    "simulate_exposure",
    "simulate_trial",
    "summarize_exposure",
    "write_clinical",
    "write_dataset",
    *sorted(_LAZY),
]


def __getattr__(name: str) -> Any:
    """Resolve the lazily imported names of the public API."""
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'blinapk' has no attribute {name!r}")


def __dir__() -> list[str]:
    # the curated API only: not the subpackages loaded on the way or this module's helpers
    return sorted(__all__)
