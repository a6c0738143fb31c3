"""The clinical truth model: response, survival and adverse-event truths of a simulated trial.

Every number lives, with its provenance, in the package data file
``clinical_model.toml`` (:data:`MODEL_FILE`): a table per parameter with
``value``, ``unit``, ``flag`` (``published``, ``calibrated`` or ``assumed``),
``source`` and ``note``. This module reads and checks it;
:mod:`blinapk.simulate.clinical` evaluates it.
"""

from __future__ import annotations

import importlib.resources
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from blinapk.errors import ModelSpecError

__all__ = ["MODEL_FILE", "ClinicalModel", "load_clinical_model"]

#: The shipped model, package data of :mod:`blinapk.simulate` (read it with ``read_text()``).
MODEL_FILE = importlib.resources.files("blinapk.simulate") / "clinical_model.toml"
_FLAGS = ("published", "calibrated", "assumed")
_META = ("value", "unit", "flag", "source", "note")
#: Parameters of each section; a missing or unknown key is an error.
_SCHEMA: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "remission": ("css_ref", "intercept", "slope_log_css", "slope_blast", "blast_ref",
                  "child_offset", "cr_fraction", "first_cycle_fraction", "late_responder_pr",
                  "nonresponder_pr", "relapse_nr", "pr_blast_free"),
    "mrd": ("intercept", "slope_log_css"),
    "assessment": ("day_in_cycle", "jitter_days", "missing_lab", "mrd_missing"),
    "labs": ("cr_blast", "pr_blast", "nr_blast", "cr_plt", "crh_plt", "low_plt", "cr_hgb",
             "crh_hgb", "low_hgb", "cr_anc", "crh_anc", "low_anc", "mrd_negative_log10",
             "mrd_positive_log10", "nr_circ_blast", "nr_extramed"),
    "survival": ("relapse_median", "hr_mrd_negative", "hsct_fraction", "hsct_delay",
                 "hr_hsct_relapse", "nrm_per_year", "trm_per_year", "post_relapse_median",
                 "nonresponder_median", "nonresponder_progression", "followup",
                 "dropout_per_year"),
    "crs": ("il6_ref", "slope", "any_intercept", "grade2_intercept", "grade3_intercept",
            "onset_hours", "duration_days"),
    "neurologic": ("intercept", "slope_log_css", "grade3", "second_event", "onset_mean_days",
                   "terms", "weights", "severe_terms"),
    "infection": ("any", "grade3", "late", "terms"),
    "reporting": ("related", "serious_grade3", "serious_low", "grade2", "grade4",
                  "duration_days"),
})
_PROBABILITIES = ("remission.cr_fraction", "remission.first_cycle_fraction",
                  "remission.late_responder_pr", "remission.nonresponder_pr",
                  "remission.relapse_nr", "remission.pr_blast_free", "assessment.missing_lab",
                  "assessment.mrd_missing", "labs.nr_circ_blast", "labs.nr_extramed",
                  "survival.hsct_fraction", "survival.nonresponder_progression",
                  "neurologic.grade3", "neurologic.second_event", "infection.any",
                  "infection.grade3", "infection.late", "reporting.related",
                  "reporting.serious_grade3", "reporting.serious_low", "reporting.grade2",
                  "reporting.grade4")
_POSITIVE = ("remission.css_ref", "crs.il6_ref", "survival.relapse_median",
             "survival.hr_mrd_negative", "survival.hr_hsct_relapse",
             "survival.post_relapse_median", "survival.nonresponder_median",
             "neurologic.onset_mean_days", "assessment.day_in_cycle")
_EVENT_KEYS = ("term", "category", "any", "grade3", "onset", "related", "flag", "source", "note")
_ONSETS = ("start", "treatment")


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


@dataclass(frozen=True)
class ClinicalModel:
    """Parameters of the clinical truth model (see ``clinical_model.toml``).

    Parameters
    ----------
    parameters : Mapping[str, Any]
        ``"section.name"`` -> value (a number, or a tuple of numbers or terms).
    other_events : tuple of Mapping
        The other adverse events: ``term, category, any, grade3, onset, related``.

    Examples
    --------
    >>> m = load_clinical_model()
    >>> m["remission.slope_log_css"]
    0.6
    >>> m.with_values({"remission.slope_log_css": 0.0})["remission.slope_log_css"]
    0.0
    """

    parameters: Mapping[str, Any]
    other_events: tuple[Mapping[str, Any], ...]

    def __getitem__(self, key: str) -> Any:
        return self.parameters[key]

    def with_values(self, changes: Mapping[str, Any]) -> ClinicalModel:
        """Return a copy with some parameters replaced (keys ``"section.name"``).

        Raises
        ------
        ModelSpecError
            An unknown key.
        """
        unknown = sorted(set(changes) - set(self.parameters))
        if unknown:
            raise ModelSpecError(f"unknown clinical model parameter(s): {unknown}")
        values = dict(self.parameters) | {k: _freeze(v) for k, v in changes.items()}
        return ClinicalModel(MappingProxyType(values), self.other_events)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of every value (provenance stays in the TOML file)."""
        out: dict[str, Any] = {}
        for key, v in self.parameters.items():
            section, name = key.split(".")
            out.setdefault(section, {})[name] = list(v) if isinstance(v, tuple) else v
        out["other_events"] = [{k: e[k] for k in _EVENT_KEYS[:6]} for e in self.other_events]
        return out


def _freeze(v: Any) -> Any:
    return tuple(v) if isinstance(v, list | tuple) else v


def load_clinical_model(path: str | Path | None = None) -> ClinicalModel:
    """Read and validate the clinical model TOML.

    Parameters
    ----------
    path : str or Path, optional
        A model TOML file; defaults to the shipped model (:data:`MODEL_FILE`).

    Returns
    -------
    ClinicalModel

    Raises
    ------
    ModelSpecError
        A missing or unknown parameter, missing provenance, an unknown flag,
        or a value out of range (the message names the key).
    """
    source = Path(path) if path is not None else MODEL_FILE
    raw = tomllib.loads(source.read_text(encoding="utf-8"))
    origin = str(path) if path is not None else MODEL_FILE.name

    def fail(key: str, msg: str) -> None:
        raise ModelSpecError(f"{origin}: key '{key}': {msg}")

    params: dict[str, Any] = {}
    for section, names in _SCHEMA.items():
        table = raw.get(section)
        if not isinstance(table, Mapping):
            fail(section, "missing section")
        for extra in sorted(set(table) - set(names)):
            fail(f"{section}.{extra}", "unknown parameter")
        for name in names:
            key, entry = f"{section}.{name}", table.get(name)
            if not isinstance(entry, Mapping):
                fail(key, "missing table")
            for meta in _META:
                if meta not in entry:
                    fail(f"{key}.{meta}", "missing")
            if entry["flag"] not in _FLAGS:
                fail(f"{key}.flag", f"expected one of {_FLAGS}, got {entry['flag']!r}")
            params[key] = _check_value(key, entry["value"], fail)
    events = raw.get("other_events", [])
    for i, e in enumerate(events):
        for k in _EVENT_KEYS:
            if k not in e:
                fail(f"other_events[{i}].{k}", "missing")
        for k in ("any", "grade3", "related"):
            if not _is_number(e[k]) or not 0 <= e[k] <= 1:
                fail(f"other_events[{i}].{k}", f"expected a probability, got {e[k]!r}")
        if e["onset"] not in _ONSETS:
            fail(f"other_events[{i}].onset", f"expected one of {_ONSETS}, got {e['onset']!r}")
    if len(params["neurologic.weights"]) != len(params["neurologic.terms"]):
        fail("neurologic.weights", "needs one weight per term")
    return ClinicalModel(MappingProxyType(params),
                         tuple(MappingProxyType(dict(e)) for e in events))


def _check_value(key: str, v: Any, fail) -> Any:
    """Check one value: numbers finite, ranges ordered, probabilities in [0, 1]."""
    if isinstance(v, list):
        if all(isinstance(x, str) for x in v) and v:
            return tuple(v)
        if not v or not all(_is_number(x) for x in v):
            fail(key, f"expected numbers or terms, got {v!r}")
        if len(v) == 2 and not key.endswith("weights") and v[0] > v[1]:
            fail(key, f"expected [low, high], got {v!r}")
        return tuple(v)
    if not _is_number(v):
        fail(key, f"expected a number, got {v!r}")
    if key in _PROBABILITIES and not 0 <= v <= 1:
        fail(key, f"expected a probability in [0, 1], got {v!r}")
    if key in _POSITIVE and v <= 0:
        fail(key, f"expected a number > 0, got {v!r}")
    return v
