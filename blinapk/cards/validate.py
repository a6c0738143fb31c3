"""Validate a parsed card (nested dicts) into a :class:`~blinapk.cards.ModelCard`.

Every violation raises :class:`~blinapk.errors.ModelSpecError` whose message
names the key path (``key 'omega.CL.value': must be > 0``); the schema is
documented in ``docs/model_cards.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from blinapk.cards.schema import (
    FLAGS,
    RESIDUAL_KEYS,
    SCHEMA_VERSION,
    CardNumber,
    CovariateEffect,
    ModelCard,
    Source,
)
from blinapk.errors import ModelSpecError
from blinapk.pk.covariates import FORMS
from blinapk.pk.parameters import STRUCTURES

__all__ = ["card_from_dict"]

_TOP_REQUIRED = ("schema_version", "name", "structure", "units", "sources", "typical", "omega",
                 "residual")
_TOP_OPTIONAL = ("title", "drug", "elimination", "population", "description", "covariates")


def card_from_dict(raw: Mapping[str, Any], *, origin: str = "<dict>") -> ModelCard:
    """Validate a parsed card (the TOML as nested dicts) and build a :class:`ModelCard`.

    Parameters
    ----------
    raw : Mapping
        The card content, as ``tomllib`` returns it. Not mutated.
    origin : str
        Where it came from, used in error messages and stored as ``path``.

    Returns
    -------
    ModelCard
        The validated card.

    Raises
    ------
    ModelSpecError
        The first schema violation, naming the key path.
    """
    v = _Validator(origin)
    v.keys(raw, "", _TOP_REQUIRED, _TOP_OPTIONAL)
    if raw["schema_version"] != SCHEMA_VERSION or isinstance(raw["schema_version"], bool):
        v.fail("schema_version", f"must be {SCHEMA_VERSION}, got {raw['schema_version']!r}")
    name = v.string(raw["name"], "name")
    text = {k: v.string(raw.get(k, ""), k) for k in ("title", "drug", "population",
                                                     "description")}
    structure = v.string(raw["structure"], "structure")
    if structure not in STRUCTURES:
        v.fail("structure", f"unknown structure {structure!r}; expected one of {list(STRUCTURES)}")
    elimination = v.string(raw.get("elimination", "linear"), "elimination")
    if elimination != "linear":
        v.fail("elimination", f"only 'linear' elimination is supported, got {elimination!r}")
    params = STRUCTURES[structure]

    sources_raw = v.table(raw["sources"], "sources")
    sources: dict[str, Source] = {}
    for key, entry in sources_raw.items():
        entry = v.table(entry, f"sources.{key}")
        v.keys(entry, f"sources.{key}", ("citation",), ("doi",))
        sources[key] = Source(key, v.string(entry["citation"], f"sources.{key}.citation"),
                              v.string(entry.get("doi", ""), f"sources.{key}.doi"))
    v.sources = sources
    numbers: dict[str, CardNumber] = {}

    units = v.table(raw["units"], "units")
    for key, unit in units.items():
        v.string(unit, f"units.{key}")

    typical_raw = v.table(raw["typical"], "typical")
    v.exact(typical_raw, "typical", params, f"structure {structure!r}")
    typical: dict[str, float] = {}
    for p in params:
        num = numbers[f"typical.{p}"] = v.number(typical_raw[p], f"typical.{p}")
        if not num.value > 0:  # type: ignore[operator]
            v.fail(f"typical.{p}.value", f"must be > 0, got {num.value}")
        if p not in units:
            v.fail(f"units.{p}", "missing unit for a typical parameter")
        typical[p] = float(num.value)

    omega: dict[str, float] = {}
    for p, entry in v.table(raw["omega"], "omega").items():
        if p not in params:
            v.fail(f"omega.{p}", f"unknown parameter {p!r}; structure has {list(params)}")
        num = numbers[f"omega.{p}"] = v.number(entry, f"omega.{p}")
        if not num.value > 0:  # type: ignore[operator]
            v.fail(f"omega.{p}.value",
                   f"must be > 0 (a log-SD; leave the parameter out for no variability), "
                   f"got {num.value}")
        omega[p] = float(num.value)

    residual_raw = v.table(raw["residual"], "residual")
    v.exact(residual_raw, "residual", RESIDUAL_KEYS, "the residual error model")
    residual: dict[str, float] = {}
    for k in RESIDUAL_KEYS:
        num = numbers[f"residual.{k}"] = v.number(residual_raw[k], f"residual.{k}")
        if not num.value >= 0:  # type: ignore[operator]
            v.fail(f"residual.{k}.value", f"must be >= 0, got {num.value}")
        residual[k] = float(num.value)

    effects: list[CovariateEffect] = []
    cov_list = raw.get("covariates", [])
    if not isinstance(cov_list, list):
        v.fail("covariates", "must be an array of tables ([[covariates]])")
    for i, entry in enumerate(cov_list):
        where = f"covariates[{i}]"
        entry = v.table(entry, where)
        v.keys(entry, where, ("param", "covariate", "form", "reference", "value"), ("unit",))
        param = v.string(entry["param"], f"{where}.param")
        cov = v.string(entry["covariate"], f"{where}.covariate").upper()
        form = v.string(entry["form"], f"{where}.form")
        if param not in params:
            v.fail(f"{where}.param", f"unknown parameter {param!r}; structure has {list(params)}")
        if form not in FORMS:
            v.fail(f"{where}.form", f"unknown covariate form {form!r}; expected one of {FORMS}")
        if any(e.param == param and e.covariate == cov for e in effects):
            v.fail(where, f"duplicate effect of {cov} on {param}")
        path = f"covariates.{param}.{cov}"
        ref = numbers[f"{path}.reference"] = v.number(entry["reference"], f"{where}.reference",
                                                      text=form == "categorical")
        value: float | Mapping[str, float]
        if form == "categorical":
            levels = v.table(entry["value"], f"{where}.value")
            if not levels:
                v.fail(f"{where}.value", "a categorical effect needs at least one level")
            table = {}
            for level, lv in levels.items():
                num = numbers[f"{path}.value.{level}"] = v.number(lv, f"{where}.value.{level}")
                if not num.value > 0:  # type: ignore[operator]
                    v.fail(f"{where}.value.{level}.value",
                           f"a categorical factor must be > 0, got {num.value}")
                table[str(level)] = float(num.value)
            value = MappingProxyType(table)
        else:
            num = numbers[f"{path}.value"] = v.number(entry["value"], f"{where}.value")
            value = float(num.value)
            if form == "power" and not ref.value > 0:  # type: ignore[operator]
                v.fail(f"{where}.reference.value", f"a power reference must be > 0, got "
                       f"{ref.value}")
        effects.append(CovariateEffect(param, cov, form, ref.value, value,
                                       v.string(entry.get("unit", ""), f"{where}.unit")))

    return ModelCard(
        name=name, structure=structure, typical=MappingProxyType(typical),
        units=MappingProxyType(dict(units)), omega=MappingProxyType(omega),
        covariates=tuple(effects), residual=MappingProxyType(residual),
        sources=MappingProxyType(sources), numbers=MappingProxyType(numbers),
        path=origin if origin != "<dict>" else "", **text,
    )


class _Validator:
    """Type and key checks that raise ModelSpecError naming the key path."""

    def __init__(self, origin: str):
        self.origin = origin
        self.sources: Mapping[str, Source] = {}

    def fail(self, key: str, message: str) -> None:
        raise ModelSpecError(f"{self.origin}: key '{key}': {message}")

    def keys(self, table: Mapping[str, Any], where: str, required: tuple[str, ...],
             optional: tuple[str, ...] = ()) -> None:
        prefix = f"{where}." if where else ""
        for k in required:
            if k not in table:
                self.fail(f"{prefix}{k}", "missing required key")
        for k in table:
            if k not in required and k not in optional:
                self.fail(f"{prefix}{k}", f"unknown key; allowed: {list(required + optional)}")

    def exact(self, table: Mapping[str, Any], where: str, names: tuple[str, ...],
              what: str) -> None:
        for k in names:
            if k not in table:
                self.fail(f"{where}.{k}", f"missing required key for {what}")
        for k in table:
            if k not in names:
                self.fail(f"{where}.{k}", f"unknown key for {what}; expected {list(names)}")

    def table(self, obj: Any, key: str) -> Mapping[str, Any]:
        if not isinstance(obj, Mapping):
            self.fail(key, f"expected a table, got {type(obj).__name__}")
        return obj

    def string(self, obj: Any, key: str) -> str:
        if not isinstance(obj, str):
            self.fail(key, f"expected a string, got {type(obj).__name__}")
        return obj

    def number(self, obj: Any, key: str, *, text: bool = False) -> CardNumber:
        entry = self.table(obj, key)
        self.keys(entry, key, ("value", "source", "published", "flag"), ("note",))
        value = entry["value"]
        if text and isinstance(value, str):
            pass
        elif isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(f"{key}.value", f"expected a number, got {type(value).__name__}")
        elif not math.isfinite(value):
            self.fail(f"{key}.value", f"must be finite, got {value}")
        source = self.string(entry["source"], f"{key}.source")
        if source not in self.sources:
            self.fail(f"{key}.source", f"unknown source {source!r}; define it under [sources]")
        if not isinstance(entry["published"], bool):
            self.fail(f"{key}.published",
                      f"expected true/false, got {type(entry['published']).__name__}")
        flag = self.string(entry["flag"], f"{key}.flag")
        if flag not in FLAGS:
            self.fail(f"{key}.flag", f"unknown flag {flag!r}; expected one of {FLAGS}")
        note = self.string(entry.get("note", ""), f"{key}.note")
        return CardNumber(value if isinstance(value, str) else float(value), source,
                          entry["published"], flag, note.strip())
