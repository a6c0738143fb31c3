"""Declarative, serialisable prior configurations for population-PK models.

A :class:`Prior` is a distribution name plus its parameters; a
:class:`PriorConfig` maps every model key to one. Keys:

``log_<P>``
    log typical value of structural parameter ``P`` (``CL``, ``V``, ``Q``,
    ``V2``) at the covariate references; real support (``Normal``, ``StudentT``).
``omega_<P>``
    log-scale SD of the between-subject variability of ``P``; positive support.
``beta_<P>_<COV>``
    covariate effect (power exponent, exponential / linear coefficient per
    covariate unit, or log-ratio of each non-reference level); real support.
    Absent for a fixed effect (``CovariateSpec(fixed=...)``): nothing to estimate.
``sigma_prop``
    proportional residual SD (log scale for ``proportional``, a fraction of
    the prediction for ``proportional_linear`` and ``combined``); positive support.
``sigma_add``
    additive residual SD (pg/mL); positive support.
``lkj_eta``
    LKJ concentration of the random-effect correlation (``LKJ`` with ``eta > 0``).

Default values are documented key by key in :func:`default_priors` and in
docs/poppk.md. Impossible priors (a negative or zero scale, a real-support
family on a scale parameter, a non-finite number) raise
:class:`~blinapk.errors.ModelSpecError` naming the key.

Examples
--------
>>> from blinapk.poppk.spec import PopPKSpec
>>> cfg = default_priors(PopPKSpec())
>>> cfg["log_CL"]
Prior(dist='Normal', params=(('mu', 0.693147), ('sigma', 1.0)))
>>> PriorConfig.from_json(cfg.to_json()) == cfg
True
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from blinapk.errors import ModelSpecError
from blinapk.poppk.spec import PopPKSpec

__all__ = [
    "DEFAULT_LOCATIONS",
    "Prior",
    "PriorConfig",
    "card_priors",
    "default_priors",
    "resolve_priors",
]

#: Parameters of each distribution family (name -> ordered parameter names).
FAMILIES: Mapping[str, tuple[str, ...]] = {
    "Normal": ("mu", "sigma"),
    "StudentT": ("nu", "mu", "sigma"),
    "HalfNormal": ("sigma",),
    "HalfStudentT": ("nu", "sigma"),
    "HalfCauchy": ("beta",),
    "LogNormal": ("mu", "sigma"),
    "Exponential": ("lam",),
    "Gamma": ("alpha", "beta"),
    "LKJ": ("eta",),
}
_REAL = ("Normal", "StudentT")
_POSITIVE = ("HalfNormal", "HalfStudentT", "HalfCauchy", "LogNormal", "Exponential", "Gamma")
#: Parameters that must be strictly positive.
_POSITIVE_PARAMS = ("sigma", "nu", "beta", "lam", "alpha", "eta")

#: Default centres of the log typical values (natural scale): CL 2 L/h and V
#: 5 L from the pooled NCA of Zhu (ASCO 2013); Q 1 L/h and V2 5 L are generic
#: placeholders for a peripheral compartment (no blinatumomab source).
DEFAULT_LOCATIONS: Mapping[str, float] = {"CL": 2.0, "V": 5.0, "Q": 1.0, "V2": 5.0}
#: Log-scale SD of the default typical-value priors (a factor e either way at 1 SD).
DEFAULT_LOG_SD = 1.0
#: Default omega prior: HalfNormal(1.0) -- the Zhu-implied omega_CL ~0.7-0.8
#: sits inside 1 SD; a 300 % CV (omega 1.66) is still at 1.7 SD.
DEFAULT_OMEGA_SCALE = 1.0
#: Default proportional residual prior: HalfNormal(0.5) on the log-scale SD.
DEFAULT_SIGMA_PROP_SCALE = 0.5
#: Default additive residual prior: HalfNormal(100 pg/mL), twice the seed LLOQ.
DEFAULT_SIGMA_ADD_SCALE = 100.0
#: Default power exponent prior SD: Normal(0, 1).
DEFAULT_POWER_SD = 1.0
#: Default LKJ concentration (mild shrinkage towards no correlation).
DEFAULT_LKJ_ETA = 2.0
#: Log-SD of card-centred typical values (card value x/÷ 1.35 at 1 SD).
CARD_TYPICAL_LOG_SD = 0.3
#: Log-SD of card-centred variance components (LogNormal around the card value).
CARD_SCALE_LOG_SD = 0.5
#: SD of card-centred covariate effects.
CARD_EFFECT_SD = 0.25


def _number(key: str, name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ModelSpecError(f"{key}.{name}: expected a number, got {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ModelSpecError(f"{key}.{name}: expected a number, got {value!r}") from None
    if not math.isfinite(out):
        raise ModelSpecError(f"{key}.{name}: must be finite, got {value!r}")
    return out


@dataclass(frozen=True)
class Prior:
    """One prior distribution: a family name and its parameters.

    Parameters
    ----------
    dist : str
        Family: ``Normal``, ``StudentT``, ``HalfNormal``, ``HalfStudentT``,
        ``HalfCauchy``, ``LogNormal``, ``Exponential``, ``Gamma`` or ``LKJ``.
    params : mapping or tuple of pairs
        Parameters by name (PyMC names: ``mu``, ``sigma``, ``nu``, ``beta``,
        ``lam``, ``alpha``, ``eta``). Stored as a tuple of pairs in the
        family's order, values rounded to 6 significant decimals.

    Raises
    ------
    ModelSpecError
        Unknown family, missing/unknown parameter, non-finite value, or a
        scale/shape parameter <= 0.
    """

    dist: str
    params: tuple[tuple[str, float], ...]

    def __post_init__(self) -> None:
        self._validate("prior")

    def _validate(self, key: str) -> None:
        if self.dist not in FAMILIES:
            raise ModelSpecError(f"{key}: unknown distribution {self.dist!r}; use one of "
                                 f"{sorted(FAMILIES)}")
        raw = dict(self.params)
        names = FAMILIES[self.dist]
        unknown = sorted(set(raw) - set(names))
        if unknown:
            raise ModelSpecError(f"{key}.{unknown[0]}: not a parameter of {self.dist} {names}")
        missing = [n for n in names if n not in raw]
        if missing:
            raise ModelSpecError(f"{key}.{missing[0]}: missing parameter of {self.dist}")
        values = []
        for n in names:
            v = _number(key, n, raw[n])
            if n in _POSITIVE_PARAMS and v <= 0:
                raise ModelSpecError(f"{key}.{n}: must be > 0 for {self.dist}, got {v}")
            values.append((n, round(v, 6)))
        object.__setattr__(self, "params", tuple(values))

    @property
    def kwargs(self) -> dict[str, float]:
        """Parameters as a dict (PyMC keyword arguments)."""
        return dict(self.params)

    @property
    def support(self) -> str:
        """``"real"``, ``"positive"`` or ``"correlation"``."""
        if self.dist in _REAL:
            return "real"
        if self.dist in _POSITIVE:
            return "positive"
        return "correlation"

    def centre(self) -> float:
        """Return a central value (median where closed-form) for starts and nominal scales."""
        p = self.kwargs
        if self.dist in ("Normal", "StudentT"):
            return p["mu"]
        if self.dist == "LogNormal":
            return math.exp(p["mu"])
        if self.dist == "HalfNormal":
            return 0.674490 * p["sigma"]
        if self.dist == "HalfStudentT":
            return 0.674490 * p["sigma"]  # t median approximated by the normal one
        if self.dist == "HalfCauchy":
            return p["beta"]
        if self.dist == "Exponential":
            return math.log(2.0) / p["lam"]
        if self.dist == "Gamma":
            return p["alpha"] / p["beta"]
        return p["eta"]

    def to_dict(self) -> dict[str, Any]:
        """``{"dist": ..., **params}``."""
        return {"dist": self.dist, **self.kwargs}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], key: str = "prior") -> Prior:
        """Inverse of :meth:`to_dict`; errors name ``key``."""
        if isinstance(raw, Prior):
            return raw
        if not isinstance(raw, Mapping) or "dist" not in raw:
            raise ModelSpecError(f"{key}: expected a mapping with 'dist', got {raw!r}")
        params = {k: v for k, v in raw.items() if k != "dist"}
        prior = object.__new__(cls)
        object.__setattr__(prior, "dist", raw["dist"])
        object.__setattr__(prior, "params", params)
        prior._validate(key)
        return prior

    def create(self, name: str, **kwargs: Any) -> Any:
        """Create the PyMC random variable ``name`` (inside a model context)."""
        import pymc as pm

        return getattr(pm, self.dist)(name, **self.kwargs, **kwargs)


def _key_support(key: str) -> str:
    if key.startswith(("log_", "beta_")):
        return "real"
    if key.startswith(("omega_", "sigma_")):
        return "positive"
    if key == "lkj_eta":
        return "correlation"
    raise ModelSpecError(
        f"{key}: unknown prior key (expected log_<P>, omega_<P>, beta_<P>_<COV>, "
        "sigma_prop, sigma_add or lkj_eta)"
    )


@dataclass(frozen=True)
class PriorConfig:
    """A frozen mapping of prior keys to :class:`Prior` (see module docstring for keys).

    Parameters
    ----------
    priors : mapping or tuple of pairs
        Key -> Prior (or a ``{"dist": ..., ...}`` dict). Stored sorted.
    source : str
        Where the priors come from: ``"default"``, ``"card:<name>"``, ``"user"``.

    Raises
    ------
    ModelSpecError
        Unknown key, impossible prior, or a family whose support does not
        match the key (e.g. ``Normal`` on ``omega_CL``).
    """

    priors: tuple[tuple[str, Prior], ...]
    source: str = "default"

    def __post_init__(self) -> None:
        items = self.priors.items() if isinstance(self.priors, Mapping) else self.priors
        out = {}
        for key, prior in items:
            p = Prior.from_dict(prior, key) if not isinstance(prior, Prior) else prior
            p._validate(key)
            need = _key_support(key)
            if p.support != need:
                raise ModelSpecError(
                    f"{key}: {p.dist} has {p.support} support but this key needs a "
                    f"{need}-support distribution"
                )
            out[key] = p
        object.__setattr__(self, "priors", tuple(sorted(out.items())))

    def __getitem__(self, key: str) -> Prior:
        for k, p in self.priors:
            if k == key:
                return p
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return any(k == key for k, _ in self.priors)

    def __iter__(self) -> Iterator[str]:
        return iter(k for k, _ in self.priors)

    def __len__(self) -> int:
        return len(self.priors)

    def keys(self) -> tuple[str, ...]:
        """Prior keys, sorted."""
        return tuple(k for k, _ in self.priors)

    def updated(self, overrides: Mapping[str, Any] | PriorConfig, source: str | None = None
                ) -> PriorConfig:
        """Return a new config with ``overrides`` replacing (or adding) keys."""
        merged = dict(self.priors)
        over = dict(overrides.priors) if isinstance(overrides, PriorConfig) else dict(overrides)
        merged.update(over)
        return PriorConfig(tuple(merged.items()), source or self.source)

    def to_dict(self) -> dict[str, Any]:
        """``{"source": ..., "priors": {key: {"dist": ..., ...}}}``."""
        return {"source": self.source, "priors": {k: p.to_dict() for k, p in self.priors}}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> PriorConfig:
        """Inverse of :meth:`to_dict`; also accepts a bare ``{key: prior}`` mapping."""
        if not isinstance(raw, Mapping):
            raise ModelSpecError(f"priors: expected a mapping, got {type(raw).__name__}")
        if "priors" in raw and isinstance(raw["priors"], Mapping):
            return cls(tuple(raw["priors"].items()), str(raw.get("source", "user")))
        return cls(tuple(raw.items()), "user")

    def to_json(self) -> str:
        """JSON text (sorted keys)."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> PriorConfig:
        """Inverse of :meth:`to_json`."""
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise ModelSpecError(f"priors: not valid JSON ({exc})") from None


def _normal(mu: float, sigma: float) -> Prior:
    return Prior("Normal", (("mu", mu), ("sigma", sigma)))


def _halfnormal(sigma: float) -> Prior:
    return Prior("HalfNormal", (("sigma", sigma),))


def _lognormal(median: float, sigma: float) -> Prior:
    return Prior("LogNormal", (("mu", math.log(median)), ("sigma", sigma)))


def default_priors(spec: PopPKSpec, covariate_spread: Mapping[str, float] | None = None
                   ) -> PriorConfig:
    """Weakly informative default priors for ``spec``.

    ============================ =============================================
    key                          default
    ============================ =============================================
    ``log_CL``                   Normal(log 2 L/h, 1)
    ``log_V``                    Normal(log 5 L, 1)
    ``log_Q`` (2cmt)             Normal(log 1 L/h, 1)
    ``log_V2`` (2cmt)            Normal(log 5 L, 1)
    ``omega_<P>``                HalfNormal(1.0)
    ``beta_<P>_<COV>`` power     Normal(0, 1)
    ``beta_<P>_<COV>`` categ.    Normal(0, 1) (log-ratio of each level)
    ``beta_<P>_<COV>`` exp./lin. Normal(0, s), s = 1/d (exponential) or 0.5/d
                                 (linear), d = largest ``|x - ref|`` among
                                 subjects (1 when unknown): a factor e (exp.)
                                 or 1.5 (lin.) across the data at 1 SD
    ``sigma_prop``               HalfNormal(0.5) (log-scale SD, or fraction)
    ``sigma_add``                HalfNormal(100 pg/mL)
    ``lkj_eta`` (correlation)    LKJ(eta = 2)
    ============================ =============================================

    Fixed covariate effects get no prior.

    Parameters
    ----------
    spec : PopPKSpec
        Model specification.
    covariate_spread : mapping, optional
        ``"<P>_<COV>" -> d`` for exponential/linear effects (see table).

    Returns
    -------
    PriorConfig
        With ``source="default"``.
    """
    spread = dict(covariate_spread or {})
    out: dict[str, Prior] = {}
    for p in spec.params:
        out[f"log_{p}"] = _normal(round(math.log(DEFAULT_LOCATIONS[p]), 6), DEFAULT_LOG_SD)
    for p in spec.bsv:
        out[f"omega_{p}"] = _halfnormal(DEFAULT_OMEGA_SCALE)
    for c in spec.covariates:
        if c.is_fixed:
            continue
        if c.form in ("power", "categorical"):
            sd = DEFAULT_POWER_SD
        else:
            d = float(spread.get(c.name, 1.0)) or 1.0
            sd = (1.0 if c.form == "exponential" else 0.5) / abs(d)
        out[f"beta_{c.name}"] = _normal(0.0, sd)
    if spec.residual in ("proportional", "proportional_linear", "combined"):
        out["sigma_prop"] = _halfnormal(DEFAULT_SIGMA_PROP_SCALE)
    if spec.residual in ("additive", "combined"):
        out["sigma_add"] = _halfnormal(DEFAULT_SIGMA_ADD_SCALE)
    if spec.correlation:
        out["lkj_eta"] = Prior("LKJ", (("eta", DEFAULT_LKJ_ETA),))
    return PriorConfig(tuple(out.items()), "default")


def card_priors(card: Any, spec: PopPKSpec, covariate_spread: Mapping[str, float] | None = None
                ) -> PriorConfig:
    """Informative priors centred on a model card's values.

    ============================ =============================================
    key                          from the card
    ============================ =============================================
    ``log_<P>``                  Normal(log card typical P, 0.3)
    ``omega_<P>``                LogNormal(log card omega P, 0.5)
    ``beta_<P>_<COV>``           Normal(card effect, 0.25) (power exponent,
                                 coefficient, or log of a categorical factor)
                                 when the card has the same effect with the
                                 same form and reference (not categorical)
    ``sigma_prop``/``sigma_add`` LogNormal(log card residual, 0.5)
    ============================ =============================================

    Keys the card does not inform keep the :func:`default_priors` value.

    Parameters
    ----------
    card : ModelCard
        Literature model card (:func:`blinapk.cards.load_card`).
    spec : PopPKSpec
        Model specification.
    covariate_spread : mapping, optional
        Passed to :func:`default_priors`.

    Returns
    -------
    PriorConfig
        With ``source="card:<name>"``.
    """
    base = default_priors(spec, covariate_spread)
    over: dict[str, Prior] = {}
    for p in spec.params:
        tv = card.typical.get(p)
        if tv is not None and tv > 0:
            over[f"log_{p}"] = _normal(round(math.log(tv), 6), CARD_TYPICAL_LOG_SD)
    for p in spec.bsv:
        om = card.omega.get(p, 0.0)
        if om > 0:
            over[f"omega_{p}"] = _lognormal(om, CARD_SCALE_LOG_SD)
    effects = {(e.param, e.covariate): e for e in card.covariates}
    for c in spec.covariates:
        e = effects.get((c.param, c.covariate))
        if e is None or e.form != c.form or c.form == "categorical" or c.is_fixed:
            continue
        if c.reference is not None and float(c.reference) != float(e.reference):
            continue
        over[f"beta_{c.name}"] = _normal(float(e.value), CARD_EFFECT_SD)
    for key, name in (("prop", "sigma_prop"), ("add", "sigma_add")):
        val = card.residual.get(key, 0.0)
        if name in base and val > 0:
            over[name] = _lognormal(val, CARD_SCALE_LOG_SD)
    return base.updated(over, source=f"card:{card.name}")


def resolve_priors(spec: PopPKSpec, priors: PriorConfig | Mapping[str, Any] | None = None,
                   card: Any = None, covariate_spread: Mapping[str, float] | None = None
                   ) -> PriorConfig:
    """Resolve the complete prior config of a model: defaults or card, then user overrides.

    Parameters
    ----------
    spec : PopPKSpec
        Model specification.
    priors : PriorConfig or mapping, optional
        User priors; keys present replace the defaults/card priors. A key the
        model does not use raises ModelSpecError (a typo would otherwise be
        silently ignored).
    card : ModelCard, optional
        Centre the priors on this card (:func:`card_priors`).
    covariate_spread : mapping, optional
        Passed to :func:`default_priors`.

    Returns
    -------
    PriorConfig
        One prior for every key the model needs, nothing else.

    Raises
    ------
    ModelSpecError
        Impossible or unused prior.
    """
    base = card_priors(card, spec, covariate_spread) if card is not None else default_priors(
        spec, covariate_spread)
    if priors is None:
        return base
    user = priors if isinstance(priors, PriorConfig) else PriorConfig.from_dict(priors)
    unused = [k for k in user if k not in base]
    if unused:
        raise ModelSpecError(
            f"{unused[0]}: prior key not used by this model (model keys: {list(base.keys())})"
        )
    source = base.source if user.source in ("user", base.source) else user.source
    return base.updated(user, source=f"{source}+user" if user.source == "user" else source)
