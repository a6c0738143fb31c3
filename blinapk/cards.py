"""Literature model cards: declarative TOML files in ``models/`` -> :class:`ModelCard`.

A card holds a structural PK model (``1cmt`` or ``2cmt``, linear elimination),
its typical values, covariate effects, between-subject variability (log-SD of a
lognormal random effect) and residual error, and for *every* number its source,
whether it is published, and a flag (``V`` read in the source, ``D`` derived
here, ``U`` unverified, ``assumed``). The schema is documented in
``docs/model_cards.md``; :func:`load_card` validates it and raises
:class:`~blinapk.errors.ModelSpecError` naming the offending key.

Examples
--------
>>> from blinapk.cards import load_card
>>> card = load_card("blinatumomab_zhu2020")
>>> card.structure, card.typical["CL"], card.typical["V"]
('1cmt', 2.22, 5.98)
>>> round(card.typical_parameters({"BSA": 0.37})["CL"] / 2.22, 2)  # 63 % lower at 0.37 m2
0.37
"""

from __future__ import annotations

import importlib.resources
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from blinapk.errors import DataValidationError, ModelSpecError, Violation

__all__ = [
    "FLAGS",
    "FORMS",
    "STRUCTURES",
    "CardNumber",
    "CovariateEffect",
    "ModelCard",
    "Source",
    "card_dirs",
    "card_from_dict",
    "list_cards",
    "load_card",
]

#: Parameters each structure needs (exactly these; V is the central volume).
STRUCTURES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"1cmt": ("CL", "V"), "2cmt": ("CL", "V", "Q", "V2")}
)
#: Covariate effect forms (see :meth:`CovariateEffect.factor`).
FORMS: tuple[str, ...] = ("power", "exponential", "linear", "categorical")
#: Evidence flags of a number (REFERENCE_VALUES.md convention plus ``assumed``).
FLAGS: tuple[str, ...] = ("V", "D", "U", "assumed")
RESIDUAL_KEYS: tuple[str, ...] = ("prop", "add")
SCHEMA_VERSION = 1

_TOP_REQUIRED = ("schema_version", "name", "structure", "units", "sources", "typical", "omega",
                 "residual")
_TOP_OPTIONAL = ("title", "drug", "elimination", "population", "description", "covariates")
_NUMBER_KEYS = ("value", "source", "published", "flag", "note")
_COVARIATE_KEYS = ("param", "covariate", "form", "unit", "reference", "value")


@dataclass(frozen=True)
class Source:
    """A bibliographic source a card cites.

    Parameters
    ----------
    key : str
        Short key numbers refer to (``source = "zhu2020"``).
    citation : str
        Human-readable reference.
    doi : str
        DOI without the ``https://doi.org/`` prefix; empty if none.
    """

    key: str
    citation: str
    doi: str = ""


@dataclass(frozen=True)
class CardNumber:
    """One number of a card with its provenance.

    Parameters
    ----------
    value : float or str
        The number (a string only for the reference level of a categorical effect).
    source : str
        Key into the card's sources.
    published : bool
        True if the value is printed in the source; False if derived or assumed.
    flag : str
        One of :data:`FLAGS`.
    note : str
        Derivation or justification.
    """

    value: float | str
    source: str
    published: bool
    flag: str
    note: str = ""


@dataclass(frozen=True)
class CovariateEffect:
    """A multiplicative covariate effect on one parameter.

    Parameters
    ----------
    param : str
        Parameter affected (e.g. ``"CL"``).
    covariate : str
        Covariate column (upper-case, e.g. ``"BSA"``).
    form : str
        ``power``: ``(x / reference) ** value``; ``exponential``:
        ``exp(value * (x - reference))``; ``linear``: ``1 + value * (x - reference)``;
        ``categorical``: ``value[level]`` (1 for the reference level).
    reference : float or str
        Reference covariate value (a level for ``categorical``).
    value : float or Mapping[str, float]
        Effect size; for ``categorical`` a mapping level -> multiplicative factor.
    unit : str
        Unit of the covariate.
    """

    param: str
    covariate: str
    form: str
    reference: float | str
    value: float | Mapping[str, float]
    unit: str = ""

    def factor(self, x: Any) -> np.ndarray:
        """Multiplicative factor on the parameter for covariate values ``x``.

        Parameters
        ----------
        x : array_like
            Covariate values (numbers; levels for ``categorical``).

        Returns
        -------
        numpy.ndarray
            Factors, same shape as ``x``.

        Raises
        ------
        DataValidationError
            Unknown categorical level, non-numeric value, or a value <= 0 for a
            power effect (rows are 1-based positions in ``x``).
        """
        if self.form == "categorical":
            levels = np.asarray(x, dtype=object).astype(str)
            table = dict(self.value) | {str(self.reference): 1.0}  # type: ignore[arg-type]
            self._check(~np.isin(levels, list(table)), "covariate_level_unknown",
                        f"level not in the model card (known: {sorted(table)})")
            return np.vectorize(table.__getitem__, otypes=[float])(levels)
        try:
            xs = np.asarray(x, dtype=float)
        except (TypeError, ValueError):
            xs = np.asarray(pd.to_numeric(pd.Series(x), errors="coerce"), dtype=float)
            self._check(np.isnan(xs), "covariate_not_numeric", "value is not a number")
        ref, val = float(self.reference), float(self.value)  # type: ignore[arg-type]
        if self.form == "power":
            self._check(~(xs > 0), "covariate_not_positive", "a power effect needs values > 0")
            return (xs / ref) ** val
        if self.form == "exponential":
            return np.exp(val * (xs - ref))
        return 1.0 + val * (xs - ref)

    def _check(self, bad: np.ndarray, rule: str, message: str) -> None:
        """Raise DataValidationError (1-based rows) where ``bad`` is True."""
        if np.any(bad):
            rows = tuple(int(i) + 1 for i in np.flatnonzero(np.ravel(bad)))
            raise DataValidationError([Violation(rule, self.covariate, rows, message)])


@dataclass(frozen=True)
class ModelCard:
    """A validated literature model (read-only; build with :func:`load_card`).

    Parameters
    ----------
    name : str
        Card name (the TOML file stem).
    structure : str
        ``"1cmt"`` or ``"2cmt"``.
    typical : Mapping[str, float]
        Typical parameter values at the covariate references.
    units : Mapping[str, str]
        Unit of every parameter (and of TIME, AMT, RATE, DV).
    omega : Mapping[str, float]
        Log-SD of the lognormal between-subject variability per parameter.
    covariates : tuple of CovariateEffect
        Covariate effects, applied multiplicatively.
    residual : Mapping[str, float]
        ``prop`` (fraction) and ``add`` (pg/mL) residual error SDs.
    sources : Mapping[str, Source]
        Cited sources by key.
    numbers : Mapping[str, CardNumber]
        Every number with its provenance, keyed by path (``"typical.CL"``,
        ``"omega.V"``, ``"residual.prop"``, ``"covariates.CL.BSA.value"`` ...).
    title, drug, population, description : str
        Free text.
    path : str
        File the card was read from (empty for dict-built cards).
    """

    name: str
    structure: str
    typical: Mapping[str, float]
    units: Mapping[str, str]
    omega: Mapping[str, float]
    covariates: tuple[CovariateEffect, ...]
    residual: Mapping[str, float]
    sources: Mapping[str, Source]
    numbers: Mapping[str, CardNumber]
    title: str = ""
    drug: str = ""
    population: str = ""
    description: str = ""
    path: str = field(default="", compare=False)

    @property
    def published(self) -> Mapping[str, bool]:
        """Published flag of every number, keyed like :attr:`numbers`."""
        return MappingProxyType({k: n.published for k, n in self.numbers.items()})

    @property
    def flags(self) -> Mapping[str, str]:
        """Evidence flag (V/D/U/assumed) of every number, keyed like :attr:`numbers`."""
        return MappingProxyType({k: n.flag for k, n in self.numbers.items()})

    @property
    def params(self) -> tuple[str, ...]:
        """Structural parameter names in canonical order."""
        return STRUCTURES[self.structure]

    @property
    def covariate_names(self) -> tuple[str, ...]:
        """Covariates the card needs, in order of first use."""
        return tuple(dict.fromkeys(e.covariate for e in self.covariates))

    def typical_parameters(self, covariates: Mapping[str, Any] | pd.DataFrame | None = None):
        """Typical parameters after covariate effects (no random effects).

        Parameters
        ----------
        covariates : Mapping or DataFrame, optional
            Covariate values by name (scalars -> dict result), or a frame with
            one row per subject (-> DataFrame result). Missing covariates are an
            error; ``None`` means every covariate at its reference.

        Returns
        -------
        dict[str, float] or pandas.DataFrame
            Parameter -> value (scalar input) or one column per parameter.
        """
        if covariates is None:
            return dict(self.typical)
        if isinstance(covariates, pd.DataFrame):
            frame = _covariate_columns(covariates, self.covariate_names)
            out = {p: self.typical[p] * self._factor(p, frame) for p in self.params}
            return pd.DataFrame(out, index=covariates.index)
        frame = pd.DataFrame({k: [v] for k, v in covariates.items()})
        values = self.typical_parameters(frame)
        return {p: float(values[p].iloc[0]) for p in self.params}

    def individual_parameters(
        self,
        covariates_frame: pd.DataFrame | None = None,
        rng: np.random.Generator | None = None,
        n: int | None = None,
    ) -> pd.DataFrame:
        """Individual parameters: covariate effects and, with ``rng``, lognormal BSV.

        ``P_i = TV_P(covariates_i) * exp(ETA_P_i)``, ``ETA_P_i ~ N(0, omega_P^2)``
        drawn in the card's parameter order (all of the first parameter's etas,
        then the next), so a seed gives the same draws for the same ``n``.

        Parameters
        ----------
        covariates_frame : DataFrame, optional
            One row per subject with the card's covariate columns (names are
            case-insensitive); an ``ID`` column is carried over. Never mutated.
        rng : numpy.random.Generator, optional
            Source of the random effects; without it every ETA is 0.
        n : int, optional
            Number of subjects at the reference covariates when
            ``covariates_frame`` is None (not allowed together with it).

        Returns
        -------
        pandas.DataFrame
            ``ID`` (if given), then ``TV_<P>``, ``ETA_<P>`` and ``<P>`` for every
            structural parameter.

        Raises
        ------
        DataValidationError
            A covariate column is missing, non-numeric, NaN or non-positive
            where the form needs it.
        ModelSpecError
            Neither or both of ``covariates_frame`` and ``n`` given.
        """
        covariates = covariates_frame
        if (covariates is None) == (n is None):
            raise ModelSpecError(
                "individual_parameters: pass exactly one of covariates_frame or n")
        if covariates is None:
            if int(n) < 1:  # type: ignore[arg-type]
                raise ModelSpecError(f"individual_parameters: n must be >= 1, got {n}")
            refs = {e.covariate: e.reference for e in self.covariates}
            covariates = pd.DataFrame({c: [refs[c]] * int(n) for c in self.covariate_names},
                                      index=pd.RangeIndex(int(n)))
            if not self.covariate_names:
                covariates = pd.DataFrame(index=pd.RangeIndex(int(n)))
        tv = self.typical_parameters(covariates)
        n_sub = len(tv)
        out: dict[str, Any] = {}
        id_col = next((c for c in covariates.columns if str(c).upper() == "ID"), None)
        if id_col is not None:
            out["ID"] = covariates[id_col].to_numpy()
        for p in self.params:
            omega = self.omega.get(p, 0.0)
            eta = rng.normal(0.0, omega, n_sub) if (rng is not None and omega > 0) else (
                np.zeros(n_sub))
            out[f"TV_{p}"] = tv[p].to_numpy()
            out[f"ETA_{p}"] = eta
            out[p] = tv[p].to_numpy() * np.exp(eta)
        return pd.DataFrame(out, index=pd.RangeIndex(n_sub))

    def _factor(self, param: str, frame: pd.DataFrame) -> np.ndarray:
        f = np.ones(len(frame))
        for e in self.covariates:
            if e.param == param:
                f = f * e.factor(frame[e.covariate].to_numpy())
        return f


def _covariate_columns(frame: pd.DataFrame, names: tuple[str, ...]) -> pd.DataFrame:
    """Case-insensitive selection and checking of covariate columns (copies)."""
    upper = {str(c).upper(): c for c in frame.columns}
    violations: list[Violation] = []
    out: dict[str, Any] = {}
    for name in names:
        if name not in upper:
            violations.append(Violation("covariate_missing", name, (),
                                        f"covariate {name} required by the model card"))
            continue
        out[name] = frame[upper[name]].to_numpy()
        bad = pd.isna(frame[upper[name]]).to_numpy()
        if bad.any():
            violations.append(Violation("covariate_nan", name, tuple(int(i) + 1 for i in
                                        np.flatnonzero(bad)), "covariate value missing"))
    if violations:
        raise DataValidationError(violations)
    return pd.DataFrame(out, index=frame.index)


# --------------------------------------------------------------------------- loading


def card_dirs() -> tuple[Path, ...]:
    """Folders searched for cards: the installed ``blinapk/_models``, then the repo ``models/``.

    Returns
    -------
    tuple of pathlib.Path
        Existing folders, in search order.
    """
    found: list[Path] = []
    try:
        shipped = Path(str(importlib.resources.files("blinapk") / "_models"))
        if shipped.is_dir():
            found.append(shipped)
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - namespace oddities
        pass
    repo = Path(__file__).resolve().parents[1] / "models"
    if repo.is_dir() and repo not in found:
        found.append(repo)
    return tuple(found)


def list_cards() -> tuple[str, ...]:
    """Names of the available model cards.

    Returns
    -------
    tuple of str
        Sorted card names (TOML file stems) found in :func:`card_dirs`.

    Examples
    --------
    >>> "blinatumomab_zhu2020" in list_cards()
    True
    """
    return tuple(sorted({p.stem for d in card_dirs() for p in d.glob("*.toml")}))


def load_card(name_or_path: str | Path | ModelCard) -> ModelCard:
    """Load and validate a model card.

    Parameters
    ----------
    name_or_path : str, pathlib.Path or ModelCard
        A card name from :func:`list_cards`, a path to a TOML file, or an
        already-loaded card (returned unchanged).

    Returns
    -------
    ModelCard
        The validated card.

    Raises
    ------
    ModelSpecError
        Unknown card, unreadable TOML, or a schema violation (message names the key).
    """
    if isinstance(name_or_path, ModelCard):
        return name_or_path
    path = Path(name_or_path)
    if not (path.suffix == ".toml" or path.is_file()):
        for d in card_dirs():
            if (d / f"{name_or_path}.toml").is_file():
                path = d / f"{name_or_path}.toml"
                break
        else:
            raise ModelSpecError(
                f"unknown model card {str(name_or_path)!r}; available: {', '.join(list_cards())}"
            )
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ModelSpecError(f"model card file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ModelSpecError(f"{path}: invalid TOML: {exc}") from exc
    return card_from_dict(raw, origin=str(path))


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
