"""Declarative population-PK model specification (:class:`PopPKSpec`).

A spec says *which* model to build, never *how* to sample it: structure,
covariate effects, which parameters carry between-subject variability (BSV),
whether the random effects are correlated, the parameterisation of each
random effect, the residual error model and the BLQ method. It is frozen and
round-trips through a plain dict / JSON, so a fitted result can be stamped
with it and checked on reload.

Examples
--------
>>> spec = PopPKSpec(covariates=(parse_covariate("CL~BSA:power"),))
>>> spec.covariates[0]
CovariateSpec(param='CL', covariate='BSA', form='power', reference=None, fixed=None)
>>> PopPKSpec.from_json(spec.to_json()) == spec
True
>>> spec.parameterisation_for("V")
'auto'
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from blinapk.errors import ModelSpecError
from blinapk.pk.covariates import FORMS
from blinapk.pk.parameters import STRUCTURE_ALIASES, STRUCTURES

__all__ = [
    "BLQ_METHODS",
    "FORMS",
    "PARAMETERISATIONS",
    "RESIDUALS",
    "STANDARD_REFERENCES",
    "STRUCTURES",
    "DEFAULT_DVID",
    "CovariateSpec",
    "PopPKSpec",
    "parse_covariate",
    "parse_structure",
]

#: Residual error models: ``proportional`` is log-normal (normal on log DV),
#: ``proportional_linear`` is NONMEM's ``Y = F + F*EPS`` (normal on DV with SD
#: ``sigma_prop * F``).
RESIDUALS: tuple[str, ...] = ("proportional", "proportional_linear", "additive", "combined")
#: BLQ methods (Beal 2001): M3 = censored likelihood, M1 = discard BLQ rows.
BLQ_METHODS: tuple[str, ...] = ("M3", "M1")
#: Random-effect parameterisations.
PARAMETERISATIONS: tuple[str, ...] = ("centered", "noncentered", "partial")
_PARAM_ALIASES = {
    "partial": "partial", "partially-centered": "partial", "partially_centered": "partial",
    "pc": "partial",
    "centered": "centered", "centred": "centered", "c": "centered",
    "noncentered": "noncentered", "non-centered": "noncentered", "non_centered": "noncentered",
    "noncentred": "noncentered", "non-centred": "noncentered", "nc": "noncentered",
    "auto": "auto",
}
#: Documented standard references used when a covariate spec gives none:
#: BSA 1.88 m2 (median of Zhu et al. 2020), WT 70 kg (the usual adult
#: allometric reference). Other continuous covariates default to the median
#: over subjects, categorical ones to the most frequent level.
STANDARD_REFERENCES: Mapping[str, float] = {"BSA": 1.88, "WT": 70.0}
#: Analyte modelled by default (``DVID`` value).
DEFAULT_DVID = "BLIN"
_GRAMMAR = "PARAM~COVARIATE[:FORM][@REF][=FIXED]"


def parse_structure(name: str) -> str:
    """Canonical structure name from a user spelling.

    Parameters
    ----------
    name : str
        ``"1cmt"``, ``"one-cmt"``, ``"2cmt"``, ``"two-cmt"`` ... (case-insensitive).

    Returns
    -------
    str
        ``"1cmt"`` or ``"2cmt"``.

    Raises
    ------
    ModelSpecError
        Unknown structure (the message names the key ``structure``).

    Examples
    --------
    >>> parse_structure("one-cmt")
    '1cmt'
    """
    key = str(name).strip().lower()
    if key not in STRUCTURE_ALIASES:
        raise ModelSpecError(
            f"structure: unknown structure {name!r}; use one of {sorted(STRUCTURES)} "
            "(or one-cmt / two-cmt)"
        )
    return STRUCTURE_ALIASES[key]


def _as_reference(value: Any, form: str, where: str) -> float | str | None:
    if value is None:
        return None
    if form == "categorical":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value)
    try:
        ref = float(value)
    except (TypeError, ValueError):
        raise ModelSpecError(f"{where}.reference: {value!r} is not a number") from None
    if not math.isfinite(ref):
        raise ModelSpecError(f"{where}.reference: must be finite, got {value!r}")
    if form == "power" and ref <= 0:
        raise ModelSpecError(f"{where}.reference: a power effect needs a reference > 0")
    return ref


def _as_fixed(value: Any, form: str, where: str) -> float | None:
    if value is None:
        return None
    if form == "categorical":
        raise ModelSpecError(
            f"{where}.fixed: a categorical effect cannot be fixed (one value per level "
            "would be needed); estimate it, or recode the covariate as a 0/1 number with an "
            "exponential or linear form")
    if isinstance(value, bool):
        raise ModelSpecError(f"{where}.fixed: expected a number, got {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ModelSpecError(f"{where}.fixed: {value!r} is not a number") from None
    if not math.isfinite(out):
        raise ModelSpecError(f"{where}.fixed: must be finite, got {value!r}")
    return out


@dataclass(frozen=True)
class CovariateSpec:
    """One covariate effect on one structural parameter.

    Parameters
    ----------
    param : str
        Structural parameter (``CL``, ``V``, ``Q``, ``V2``).
    covariate : str
        Dataset column (case-insensitive; stored upper-case). Time-varying
        columns are allowed: the value in force at each observation is used.
    form : str
        ``power``: ``P = TV * (x/ref)**theta``; ``exponential``:
        ``TV * exp(theta*(x-ref))``; ``linear``: ``TV * (1 + theta*(x-ref))``;
        ``categorical``: ``TV * exp(theta_level)`` (0 for the reference level).
    reference : float or str, optional
        Reference value (a level for ``categorical``). ``None``: the standard
        of :data:`STANDARD_REFERENCES`, else the median over subjects (mode for
        ``categorical``), resolved by the model builder and recorded.
    fixed : float, optional
        Fix the coefficient (power exponent, exponential or linear
        coefficient) at this value instead of estimating it, as a NONMEM
        ``FIX``-ed THETA: no prior, no sampled variable; the posterior still
        holds ``beta_<P>_<COV>`` as a constant. ``None`` (default): estimated.
        Not allowed for ``categorical``. Example: allometric
        ``CovariateSpec("CL", "WT", "power", 70, fixed=0.75)``.
    """

    param: str
    covariate: str
    form: str = "power"
    reference: float | str | None = None
    fixed: float | None = None

    def __post_init__(self) -> None:
        where = f"covariates[{self.param}~{self.covariate}]"
        if not isinstance(self.param, str) or not self.param.strip():
            raise ModelSpecError(f"{where}.param: must be a non-empty string")
        if not isinstance(self.covariate, str) or not self.covariate.strip():
            raise ModelSpecError(f"{where}.covariate: must be a non-empty string")
        form = str(self.form).strip().lower()
        if form not in FORMS:
            raise ModelSpecError(f"{where}.form: unknown form {self.form!r}; use one of {FORMS}")
        object.__setattr__(self, "param", self.param.strip().upper())
        object.__setattr__(self, "covariate", self.covariate.strip().upper())
        object.__setattr__(self, "form", form)
        object.__setattr__(self, "reference", _as_reference(self.reference, form, where))
        object.__setattr__(self, "fixed", _as_fixed(self.fixed, form, where))

    @property
    def name(self) -> str:
        """Short name ``PARAM_COVARIATE`` (used in prior keys and variable names)."""
        return f"{self.param}_{self.covariate}"

    @property
    def is_fixed(self) -> bool:
        """True when the coefficient is fixed (not estimated)."""
        return self.fixed is not None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (JSON-serialisable); ``fixed`` only appears when set."""
        out: dict[str, Any] = {"param": self.param, "covariate": self.covariate,
                               "form": self.form, "reference": self.reference}
        if self.fixed is not None:
            out["fixed"] = self.fixed
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> CovariateSpec:
        """Build from :meth:`to_dict` output; unknown keys raise ModelSpecError."""
        if not isinstance(raw, Mapping):
            raise ModelSpecError(f"covariates: each entry must be a mapping, got {raw!r}")
        unknown = set(raw) - {"param", "covariate", "form", "reference", "fixed"}
        if unknown:
            raise ModelSpecError(f"covariates.{sorted(unknown)[0]}: unknown key")
        for key in ("param", "covariate"):
            if key not in raw:
                raise ModelSpecError(f"covariates.{key}: missing")
        return cls(raw["param"], raw["covariate"], raw.get("form", "power"), raw.get("reference"),
                   raw.get("fixed"))


def parse_covariate(text: str) -> CovariateSpec:
    """Parse a CLI covariate string.

    Grammar: ``PARAM~COVARIATE[:FORM][@REFERENCE][=FIXED]``, e.g.
    ``CL~BSA:power``, ``CL~WT:power@70``, ``V~SEX:categorical@F``. The form
    defaults to ``power``; the reference to the documented default (see
    :class:`CovariateSpec`). A trailing ``=VALUE`` fixes the coefficient
    instead of estimating it: ``CL~WT:power@70=0.75`` (allometric exponent
    0.75 at 70 kg), ``CL~WT:power=1`` (exponent 1, default reference WT 70 kg).
    The parts always come in this order: form, then reference, then fixed value.

    Parameters
    ----------
    text : str
        The covariate string.

    Returns
    -------
    CovariateSpec

    Raises
    ------
    ModelSpecError
        Malformed string (the message quotes it).

    Examples
    --------
    >>> parse_covariate("CL~BSA:power@1.88")
    CovariateSpec(param='CL', covariate='BSA', form='power', reference=1.88, fixed=None)
    >>> parse_covariate("CL~WT:power@70=0.75")
    CovariateSpec(param='CL', covariate='WT', form='power', reference=70.0, fixed=0.75)
    """
    raw = str(text).strip()
    if raw.count("~") != 1 or raw.count("=") > 1:
        raise ModelSpecError(f"covariates: {text!r} is not of the form {_GRAMMAR}")
    param, rest = (s.strip() for s in raw.split("~"))
    fixed: str | None = None
    if "=" in rest:
        rest, fixed = (s.strip() for s in rest.split("=", 1))
        if not fixed:
            raise ModelSpecError(
                f"covariates: {text!r}: nothing after '=' (expected the fixed value, "
                f"grammar {_GRAMMAR})")
    reference: str | None = None
    if "@" in rest:
        rest, reference = (s.strip() for s in rest.split("@", 1))
    form = "power"
    if ":" in rest:
        rest, form = (s.strip() for s in rest.split(":", 1))
    if not param or not rest or reference == "" or ":" in (reference or ""):
        raise ModelSpecError(f"covariates: {text!r} is not of the form {_GRAMMAR}")
    return CovariateSpec(param, rest, form, reference, fixed)


def _normalise_parameterisation(value: Any) -> str | tuple[tuple[str, str], ...]:
    if isinstance(value, str):
        key = value.strip().lower()
        if key not in _PARAM_ALIASES:
            raise ModelSpecError(
                f"parameterisation: unknown value {value!r}; use 'auto', 'centered', "
                "'noncentered', 'partial' or a mapping param -> one of those"
            )
        return _PARAM_ALIASES[key]
    if isinstance(value, Mapping):
        items = value.items()
    elif isinstance(value, Iterable):
        items = list(value)
    else:
        raise ModelSpecError(f"parameterisation: expected str or mapping, got {value!r}")
    out = {}
    for item in items:
        try:
            param, choice = item
        except (TypeError, ValueError):
            raise ModelSpecError(f"parameterisation: bad entry {item!r}") from None
        key = str(choice).strip().lower()
        if key not in _PARAM_ALIASES:
            raise ModelSpecError(
                f"parameterisation.{param}: unknown value {choice!r}; "
                "use 'auto', 'centered', 'noncentered' or 'partial'"
            )
        out[str(param).strip().upper()] = _PARAM_ALIASES[key]
    return tuple(sorted(out.items()))


@dataclass(frozen=True)
class PopPKSpec:
    """What population-PK model to build (frozen, serialisable).

    Parameters
    ----------
    structure : str, default "1cmt"
        ``"1cmt"`` (CL, V) or ``"2cmt"`` (CL, V, Q, V2); aliases such as
        ``"one-cmt"`` are accepted.
    covariates : sequence of CovariateSpec or str
        Covariate effects (strings are parsed with :func:`parse_covariate`).
    bsv : sequence of str, default ("CL", "V")
        Parameters with log-normal between-subject variability.
    correlation : bool, default False
        Correlated random effects (LKJ prior on the correlation matrix).
    parameterisation : str or mapping, default "auto"
        ``"auto"`` (partially centered with per-subject weights from how
        informative each subject's data are; with ``correlation=True`` the
        block is centered or non-centered as a whole; see
        :mod:`blinapk.poppk.parameterisation`), ``"centered"``,
        ``"noncentered"``, ``"partial"``, or a mapping
        ``{"CL": "centered", "V": "noncentered"}`` (unlisted parameters are
        ``"auto"``). Stored as a sorted tuple of pairs.
    residual : str, default "proportional"
        ``"proportional"`` (log-normal: normal on log DV with SD
        ``sigma_prop``), ``"proportional_linear"`` (NONMEM ``Y = F + F*EPS``:
        normal on DV with SD ``sigma_prop * pred``), ``"additive"`` (normal on
        DV, pg/mL) or ``"combined"`` (normal on DV with SD
        ``sqrt(add**2 + (prop*pred)**2)``).
    blq : str, default "M3"
        ``"M3"``: below-LLOQ rows (``CENS == 1``) enter as ``log P(DV < LLOQ)``
        (Beal 2001); ``"M1"``: they are discarded and listed in the ledger.
    dvid : str, default "BLIN"
        The analyte modelled: observations whose ``DVID`` differs are
        excluded (ledger reason ``DVID X: not the modelled analyte (BLIN)``).
        Stored stripped and upper-case, like the dataset reader stores DVIDs.

    Raises
    ------
    ModelSpecError
        Any invalid value; the message starts with the offending key.
    """

    structure: str = "1cmt"
    covariates: tuple[CovariateSpec, ...] = ()
    bsv: tuple[str, ...] = ("CL", "V")
    correlation: bool = False
    parameterisation: str | tuple[tuple[str, str], ...] = "auto"
    residual: str = "proportional"
    blq: str = "M3"
    dvid: str = DEFAULT_DVID
    _params: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        structure = parse_structure(self.structure)
        params = STRUCTURES[structure]
        covs = tuple(
            c if isinstance(c, CovariateSpec) else
            (parse_covariate(c) if isinstance(c, str) else CovariateSpec.from_dict(c))
            for c in (self.covariates or ())
        )
        seen = set()
        for c in covs:
            if c.param not in params:
                raise ModelSpecError(
                    f"covariates[{c.param}~{c.covariate}].param: {c.param!r} is not a parameter "
                    f"of the {structure} model {params}"
                )
            if (c.param, c.covariate) in seen:
                raise ModelSpecError(f"covariates[{c.param}~{c.covariate}]: given twice")
            seen.add((c.param, c.covariate))
        if isinstance(self.bsv, str):
            raise ModelSpecError("bsv: expected a sequence of parameter names, got a string")
        bsv = tuple(str(p).strip().upper() for p in self.bsv)
        for p in bsv:
            if p not in params:
                raise ModelSpecError(
                    f"bsv: {p!r} is not a parameter of the {structure} model {params}")
        if len(set(bsv)) != len(bsv):
            raise ModelSpecError(f"bsv: duplicated parameter in {bsv}")
        bsv = tuple(p for p in params if p in bsv)  # canonical order
        if not isinstance(self.correlation, bool):
            raise ModelSpecError(f"correlation: expected True/False, got {self.correlation!r}")
        if self.correlation and len(bsv) < 2:
            raise ModelSpecError("correlation: needs at least two parameters with BSV")
        par = _normalise_parameterisation(self.parameterisation)
        requested = {par} if isinstance(par, str) else {c for _, c in par}
        if self.correlation and "partial" in requested:
            raise ModelSpecError(
                "parameterisation: 'partial' is not supported with correlation=True; "
                "use 'centered' or 'noncentered' for the correlated block")
        if isinstance(par, tuple):
            for p, _ in par:
                if p not in bsv:
                    raise ModelSpecError(f"parameterisation.{p}: {p!r} has no BSV (bsv={bsv})")
            if self.correlation and len({c for _, c in par if c != "auto"}) > 1:
                raise ModelSpecError(
                    "parameterisation: a mixed centered/non-centered choice is not supported "
                    "with correlation=True (the correlated block is parameterised as a whole)"
                )
        residual = str(self.residual).strip().lower()
        if residual not in RESIDUALS:
            raise ModelSpecError(
                f"residual: unknown model {self.residual!r}; use one of {RESIDUALS}")
        blq = str(self.blq).strip().upper()
        if blq not in BLQ_METHODS:
            raise ModelSpecError(f"blq: unknown method {self.blq!r}; use one of {BLQ_METHODS}")
        if not isinstance(self.dvid, str) or not self.dvid.strip():
            raise ModelSpecError(f"dvid: expected a non-empty analyte name, got {self.dvid!r}")
        object.__setattr__(self, "dvid", self.dvid.strip().upper())
        object.__setattr__(self, "structure", structure)
        object.__setattr__(self, "covariates", covs)
        object.__setattr__(self, "bsv", bsv)
        object.__setattr__(self, "parameterisation", par)
        object.__setattr__(self, "residual", residual)
        object.__setattr__(self, "blq", blq)
        object.__setattr__(self, "_params", params)

    @property
    def params(self) -> tuple[str, ...]:
        """Structural parameters of the structure, in canonical order."""
        return self._params

    def parameterisation_for(self, param: str) -> str:
        """Return the requested parameterisation of ``param`` (auto, centered, ...)."""
        if isinstance(self.parameterisation, str):
            return self.parameterisation
        return dict(self.parameterisation).get(param, "auto")

    def covariates_on(self, param: str) -> tuple[CovariateSpec, ...]:
        """Covariate effects on ``param``, in spec order."""
        return tuple(c for c in self.covariates if c.param == param)

    def with_references(self, references: Mapping[tuple[str, str], float | str]) -> PopPKSpec:
        """Copy with covariate references filled in (``(param, covariate) -> reference``)."""
        covs = tuple(
            replace(c, reference=references.get((c.param, c.covariate), c.reference))
            for c in self.covariates
        )
        return replace(self, covariates=covs)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (JSON-serialisable); inverse of :meth:`from_dict`."""
        par = self.parameterisation
        return {
            "structure": self.structure,
            "covariates": [c.to_dict() for c in self.covariates],
            "bsv": list(self.bsv),
            "correlation": self.correlation,
            "parameterisation": par if isinstance(par, str) else dict(par),
            "residual": self.residual,
            "blq": self.blq,
            "dvid": self.dvid,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> PopPKSpec:
        """Build from a mapping; unknown keys raise :class:`ModelSpecError` naming the key."""
        if not isinstance(raw, Mapping):
            raise ModelSpecError(f"spec: expected a mapping, got {type(raw).__name__}")
        known = {"structure", "covariates", "bsv", "correlation", "parameterisation",
                 "residual", "blq", "dvid"}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ModelSpecError(f"{unknown[0]}: unknown spec key (known: {sorted(known)})")
        kwargs = dict(raw)
        if "covariates" in kwargs:
            kwargs["covariates"] = tuple(kwargs["covariates"] or ())
        if "bsv" in kwargs and not isinstance(kwargs["bsv"], str):
            kwargs["bsv"] = tuple(kwargs["bsv"])
        return cls(**kwargs)

    def to_json(self) -> str:
        """JSON text of :meth:`to_dict` (sorted keys, stable)."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> PopPKSpec:
        """Inverse of :meth:`to_json`."""
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ModelSpecError(f"spec: not valid JSON ({exc})") from None
        return cls.from_dict(raw)

    @classmethod
    def from_card(cls, card: Any, **overrides: Any) -> PopPKSpec:
        """Spec mirroring a :class:`~blinapk.cards.ModelCard` (structure, covariates, BSV).

        Parameters
        ----------
        card : ModelCard
            Literature model card.
        **overrides
            Any spec field to set instead (e.g. ``residual="combined"``).

        Returns
        -------
        PopPKSpec
        """
        covs = tuple(
            CovariateSpec(e.param, e.covariate, e.form, e.reference) for e in card.covariates
        )
        bsv = tuple(p for p in STRUCTURES[card.structure] if card.omega.get(p, 0.0) > 0)
        base = {"structure": card.structure, "covariates": covs, "bsv": bsv}
        base.update(overrides)
        return cls(**base)


def spec_from_cli(model: str, covariates: Sequence[str] = (), **kwargs: Any) -> PopPKSpec:
    """Spec from command-line strings (``--model one-cmt --covariate CL~BSA:power``).

    Parameters
    ----------
    model : str
        Structure name or alias.
    covariates : sequence of str
        Covariate strings for :func:`parse_covariate`.
    **kwargs
        Other :class:`PopPKSpec` fields.

    Returns
    -------
    PopPKSpec
    """
    return PopPKSpec(structure=model, covariates=tuple(parse_covariate(c) for c in covariates),
                     **kwargs)
