"""Laboratory values of a response assessment, drawn to match its true category.

Each assessment has a true category (``CR``, ``CRh*``, ``PR``, ``NR``); its
marrow blasts, circulating blasts, extramedullary disease, platelets,
haemoglobin and neutrophils are drawn from the ``[labs]`` ranges of the
clinical model, which keep clear of the MT103-211 thresholds (Topp et al.,
Lancet Oncol 2015), so :func:`blinapk.endpoints.derive_response` gives the
true category back. MRD is measured at CR/CRh* assessments only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from blinapk.simulate.clinical_model import ClinicalModel

__all__ = ["LAB_COLUMNS", "draw_labs"]

#: Assessment columns holding laboratory values, in table order.
LAB_COLUMNS = ("MARROW_BLAST", "CIRC_BLAST", "EXTRAMED", "PLT", "HGB", "ANC", "MRD")
#: Counts one of which may be missing (not done).
_COUNTS = ("PLT", "HGB", "ANC")
_U = {name: j for j, name in enumerate(
    ("blast", "plt", "hgb", "anc", "circ", "emd", "mrd", "flavour", "bit_plt", "bit_hgb",
     "bit_anc", "missing", "which", "mrd_missing"))}


def _between(model: ClinicalModel, key: str, u: np.ndarray) -> np.ndarray:
    lo, hi = model[f"labs.{key}"]
    return lo + (hi - lo) * u


def _two_significant(v: np.ndarray) -> np.ndarray:
    """Round to two significant digits through text, so the CSV shows e.g. ``3.4e-05``."""
    return np.array([float(f"{x:.2g}") for x in v], dtype=float)


def draw_labs(model: ClinicalModel, rng: np.random.Generator, category: np.ndarray,
              mrd_negative: np.ndarray, may_miss: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Laboratory values of assessments with known true categories.

    Parameters
    ----------
    model : ClinicalModel
        The ``labs.*`` ranges and ``assessment.*`` missingness.
    rng : numpy.random.Generator
        Random stream (one block of uniforms per assessment, in row order).
    category : array of str
        True category per assessment: ``CR``, ``CRh*``, ``PR``, ``PR-blast-free`` or ``NR``.
    mrd_negative : array of bool
        Whether the subject is an MRD responder (used at CR/CRh* assessments).
    may_miss : array of bool
        Whether a count may be left missing (not at a responder's first
        remission, so a relapse always follows an evaluable CR/CRh*).

    Returns
    -------
    labs : DataFrame
        Columns :data:`LAB_COLUMNS`, one row per assessment.
    missing : numpy.ndarray of str
        The count left missing per assessment (``""`` when none).
    """
    m = len(category)
    u = rng.random((m, len(_U)))
    cat = np.asarray(category, dtype=object)
    cr, crh = cat == "CR", cat == "CRh*"
    free, nr = cat == "PR-blast-free", cat == "NR"
    remission = cr | crh
    # CRh*: each count in the partial band with probability 1/2, at least one (platelets)
    partial = {c: crh & (u[:, _U[f"bit_{c.lower()}"]] < 0.5) for c in _COUNTS}
    none = crh & ~(partial["PLT"] | partial["HGB"] | partial["ANC"])
    partial["PLT"] = partial["PLT"] | none

    blast = np.select([remission | free, nr],
                      [_between(model, "cr_blast", u[:, _U["blast"]]),
                       _between(model, "nr_blast", u[:, _U["blast"]])],
                      _between(model, "pr_blast", u[:, _U["blast"]]))
    low_plt, cr_plt = model["labs.low_plt"], model["labs.cr_plt"]
    any_plt = low_plt[0] + (cr_plt[1] - low_plt[0]) * u[:, _U["plt"]]
    values = {
        "PLT": np.select([partial["PLT"], remission, free],
                         [_between(model, "crh_plt", u[:, _U["plt"]]),
                          _between(model, "cr_plt", u[:, _U["plt"]]),
                          _between(model, "low_plt", u[:, _U["plt"]])], any_plt),
        "HGB": np.select([partial["HGB"], remission],
                         [_between(model, "crh_hgb", u[:, _U["hgb"]]),
                          _between(model, "cr_hgb", u[:, _U["hgb"]])],
                         _between(model, "low_hgb", u[:, _U["hgb"]])),
        "ANC": np.select([partial["ANC"], remission],
                         [_between(model, "crh_anc", u[:, _U["anc"]]),
                          _between(model, "cr_anc", u[:, _U["anc"]])],
                         _between(model, "low_anc", u[:, _U["anc"]])),
    }
    circ = (nr & (u[:, _U["circ"]] < model["labs.nr_circ_blast"])).astype(float)
    emd = (nr & (u[:, _U["emd"]] < model["labs.nr_extramed"])).astype(float)
    neg = np.asarray(mrd_negative, bool)
    log_mrd = np.where(neg, _between(model, "mrd_negative_log10", u[:, _U["mrd"]]),
                       _between(model, "mrd_positive_log10", u[:, _U["mrd"]]))
    mrd = np.where(remission & (u[:, _U["mrd_missing"]] >= model["assessment.mrd_missing"]),
                   _two_significant(10.0 ** log_mrd), np.nan)
    labs = pd.DataFrame({
        "MARROW_BLAST": np.round(blast, 1), "CIRC_BLAST": circ, "EXTRAMED": emd,
        "PLT": np.round(values["PLT"], -3), "HGB": np.round(values["HGB"], 1),
        "ANC": np.round(values["ANC"], -1), "MRD": mrd,
    })
    miss = np.asarray(may_miss, bool) & (u[:, _U["missing"]] < model["assessment.missing_lab"])
    which = np.asarray(_COUNTS, dtype=object)[
        np.minimum((u[:, _U["which"]] * len(_COUNTS)).astype(int), len(_COUNTS) - 1)]
    missing = np.where(miss, which, "").astype(object)
    for c in _COUNTS:
        labs.loc[missing == c, c] = np.nan
    return labs, missing
