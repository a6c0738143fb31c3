"""Registry of NCA parameters: small functions whose argument names are their dependencies.

Every NCA parameter is a plain function registered next to its definition with
:func:`nca_parameter` (unit kind, label, CDISC ``PPTESTCD``). Its arguments are
either other parameters or *inputs* (the profile and settings the driver puts
in the context, see :data:`CONTEXT_INPUTS`)::

    @nca_parameter(unit_kind="conc*time", label="AUC to infinity (observed)",
                   pptestcd="AUCIFO")
    def aucinf_obs(auclast, clast, lambda_z):
        return auclast + clast / lambda_z

A :class:`Registry` is an explicit, immutable object, not a global mutable
table (as PKNCA's is): two analyses in one process cannot change each other's
parameter definitions.
``Registry.with_parameter`` returns a new registry; the default one is built
from the definitions in :mod:`blinapk.nca.auc`, :mod:`blinapk.nca.lambda_z`
and :mod:`blinapk.nca.params`.

"Not estimable" is a value: a function returns :func:`not_estimable` with a
reason (or NaN, when an input is NaN and the reason is inherited from that
input). Unknown names and dependency cycles are specification errors
(:class:`~blinapk.errors.ModelSpecError`).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from blinapk.errors import ModelSpecError

__all__ = [
    "CONTEXT_INPUTS",
    "UNIT_KINDS",
    "NotEstimable",
    "ParameterSpec",
    "Registry",
    "nca_parameter",
    "not_estimable",
    "spec_of",
]

#: Names the driver provides to parameter functions (not parameters themselves).
CONTEXT_INPUTS: frozenset[str] = frozenset(
    {
        "time",  # interval samples, time relative to interval start (h), sorted, unique
        "conc",  # concentrations at ``time`` (NaN rows already removed)
        "time_group",  # every sample of the group, relative to interval start
        "conc_group",
        "tau",  # end - start (inf for an open interval)
        "route",  # "extravascular" | "iv_bolus" | "iv_infusion"
        "dose",  # amount dosed in [start, end) (NaN when unknown)
        "duration",  # infusion duration (0 for bolus / extravascular)
        "first_dose",  # True when no dose precedes the interval start
        "auc_method",  # "linear" | "lin-up/log-down" | "lin-log"
        "volume_factor",  # converts amount / conc to litres
        "lambda_z_options",  # LambdaZOptions
    }
)

#: Unit kinds a parameter may declare; the driver turns them into unit strings.
UNIT_KINDS: frozenset[str] = frozenset(
    {
        "conc",
        "time",
        "conc*time",
        "conc*time^2",
        "1/time",
        "volume",
        "clearance",
        "amount",
        "%",
        "count",
        "unitless",
    }
)


@dataclass(frozen=True)
class NotEstimable:
    """Marker returned by a parameter function that cannot estimate its value.

    Parameters
    ----------
    reason : str
        Why, e.g. ``"fewer than 3 points after tmax"``.
    """

    reason: str

    def __float__(self) -> float:
        return math.nan


def not_estimable(reason: str) -> NotEstimable:
    """Return the "not estimable" marker with a reason.

    Examples
    --------
    >>> not_estimable("no dose given").reason
    'no dose given'
    """
    return NotEstimable(str(reason))


@dataclass(frozen=True)
class ParameterSpec:
    """One registered NCA parameter.

    Parameters
    ----------
    name : str
        The one spelling of the parameter (``"aucinf_obs"``).
    func : callable
        The function computing it; its argument names are its dependencies.
    unit_kind : str
        One of :data:`UNIT_KINDS`.
    label : str
        Human-readable label.
    pptestcd : str or mapping or None
        CDISC PP test code; a mapping ``{route: code}`` when the code depends
        on the route (``CLFO`` extravascular, ``CLO`` intravascular), with
        an optional ``"default"`` key.
    depends : tuple of str
        Argument names of ``func`` (filled automatically).
    reported : bool
        False for internal helpers (e.g. the whole lambda_z fit object).
    description : str
        Longer description (first docstring line by default).
    """

    name: str
    func: Callable[..., Any]
    unit_kind: str
    label: str
    pptestcd: str | Mapping[str, str] | None = None
    depends: tuple[str, ...] = ()
    reported: bool = True
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ModelSpecError(f"parameter name {self.name!r} is not a valid identifier")
        if self.unit_kind not in UNIT_KINDS:
            raise ModelSpecError(
                f"parameter {self.name!r}: unknown unit kind {self.unit_kind!r}; "
                f"known: {sorted(UNIT_KINDS)}"
            )
        if isinstance(self.pptestcd, Mapping):
            object.__setattr__(self, "pptestcd", MappingProxyType(dict(self.pptestcd)))
        if not self.depends:
            object.__setattr__(self, "depends", _arg_names(self.func, self.name))

    def cdisc_code(self, route: str | None = None) -> str:
        """CDISC ``PPTESTCD`` for a route (``""`` when none is defined)."""
        code = self.pptestcd
        if code is None:
            return ""
        if isinstance(code, str):
            return code
        return code.get(route, code.get("default", ""))


def _arg_names(func: Callable[..., Any], name: str) -> tuple[str, ...]:
    params = inspect.signature(func).parameters.values()
    bad = [p.name for p in params if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if bad:
        raise ModelSpecError(f"parameter {name!r}: *args/**kwargs are not allowed ({bad})")
    return tuple(p.name for p in params)


def nca_parameter(
    *,
    unit_kind: str,
    label: str,
    pptestcd: str | Mapping[str, str] | None = None,
    name: str | None = None,
    reported: bool = True,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a function as an NCA parameter (attaches a :class:`ParameterSpec`).

    The function itself is returned unchanged, so it stays callable directly.

    Parameters
    ----------
    unit_kind, label, pptestcd, reported
        See :class:`ParameterSpec`.
    name : str, optional
        Parameter name; the function name by default.

    Examples
    --------
    >>> @nca_parameter(unit_kind="conc", label="Twice Cmax")
    ... def cmax2(cmax):
    ...     return 2 * cmax
    >>> spec_of(cmax2).depends
    ('cmax',)
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        doc = (inspect.getdoc(func) or "").split("\n", 1)[0]
        func.nca_spec = ParameterSpec(  # type: ignore[attr-defined]
            name=name or func.__name__,
            func=func,
            unit_kind=unit_kind,
            label=label,
            pptestcd=pptestcd,
            reported=reported,
            description=doc,
        )
        return func

    return decorate


def spec_of(obj: Callable[..., Any] | ParameterSpec) -> ParameterSpec:
    """Return the :class:`ParameterSpec` of a decorated function (or the spec itself)."""
    if isinstance(obj, ParameterSpec):
        return obj
    spec = getattr(obj, "nca_spec", None)
    if not isinstance(spec, ParameterSpec):
        raise ModelSpecError(f"{obj!r} is not an NCA parameter (decorate it with nca_parameter)")
    return spec


@dataclass(frozen=True)
class Registry:
    """An immutable set of NCA parameters with dependency resolution.

    Parameters
    ----------
    specs : tuple of ParameterSpec
        The parameters, in display order.
    inputs : frozenset of str
        Context names the driver provides (default :data:`CONTEXT_INPUTS`).

    Raises
    ------
    ModelSpecError
        Duplicate names, a name clashing with an input, an unknown dependency
        or a dependency cycle.
    """

    specs: tuple[ParameterSpec, ...]
    inputs: frozenset[str] = field(default=CONTEXT_INPUTS)

    def __post_init__(self) -> None:
        names = [s.name for s in self.specs]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ModelSpecError(f"duplicate NCA parameter names: {dupes}")
        clash = sorted(set(names) & self.inputs)
        if clash:
            raise ModelSpecError(f"parameter names clash with context inputs: {clash}")
        known = set(names) | self.inputs
        for s in self.specs:
            unknown = [d for d in s.depends if d not in known]
            if unknown:
                raise ModelSpecError(
                    f"parameter {s.name!r} depends on unknown name(s) {unknown}"
                )
        object.__setattr__(self, "_by_name", MappingProxyType({s.name: s for s in self.specs}))
        self._check_cycles()

    # -- construction -------------------------------------------------------------
    @classmethod
    def from_functions(
        cls, funcs: Iterable[Callable[..., Any] | ParameterSpec], inputs=CONTEXT_INPUTS
    ) -> Registry:
        """Build a registry from decorated functions (or specs), keeping their order."""
        return cls(tuple(spec_of(f) for f in funcs), frozenset(inputs))

    def with_parameter(
        self, func: Callable[..., Any] | ParameterSpec, *, replace_existing: bool = False,
        **meta: Any,
    ) -> Registry:
        """Return a new registry with one more (or one replaced) parameter.

        Parameters
        ----------
        func : callable or ParameterSpec
            A function decorated with :func:`nca_parameter`, a spec, or a plain
            function together with ``unit_kind=``, ``label=`` (and optionally
            ``pptestcd=``, ``name=``) in ``meta``.
        replace_existing : bool
            Allow replacing a parameter of the same name.

        Examples
        --------
        >>> from blinapk.nca.general import DEFAULT_REGISTRY
        >>> def cmax_ratio(cmax, clast):
        ...     return cmax / clast
        >>> reg = DEFAULT_REGISTRY.with_parameter(cmax_ratio, unit_kind="unitless",
        ...                                       label="Cmax/Clast")
        >>> "cmax_ratio" in reg, "cmax_ratio" in DEFAULT_REGISTRY
        (True, False)
        """
        if isinstance(func, ParameterSpec) or hasattr(func, "nca_spec"):
            spec = spec_of(func)
            if meta:
                spec = replace(spec, **meta)
        else:
            try:
                spec = ParameterSpec(
                    name=meta.pop("name", func.__name__), func=func,
                    description=(inspect.getdoc(func) or "").split("\n", 1)[0], **meta,
                )
            except TypeError as exc:
                raise ModelSpecError(f"cannot register {func!r}: {exc}") from None
        if spec.name in self._by_name:
            if not replace_existing:
                raise ModelSpecError(
                    f"parameter {spec.name!r} already registered (use replace_existing=True)"
                )
            specs = tuple(spec if s.name == spec.name else s for s in self.specs)
        else:
            specs = (*self.specs, spec)
        return Registry(specs, self.inputs)

    # -- queries --------------------------------------------------------------------
    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __getitem__(self, name: str) -> ParameterSpec:
        try:
            return self._by_name[name]
        except KeyError:
            raise ModelSpecError(f"unknown NCA parameter {name!r}") from None

    @property
    def names(self) -> tuple[str, ...]:
        """Names of the reported parameters, in registry order."""
        return tuple(s.name for s in self.specs if s.reported)

    def to_frame(self) -> pd.DataFrame:
        """One row per parameter: name, unit kind, label, PPTESTCD, dependencies."""
        rows = []
        for s in self.specs:
            code = s.pptestcd
            if isinstance(code, Mapping):
                code = ", ".join(f"{k}: {v}" for k, v in code.items())
            rows.append({"parameter": s.name, "unit_kind": s.unit_kind, "label": s.label,
                         "PPTESTCD": code or "", "depends": ", ".join(s.depends),
                         "reported": s.reported})
        return pd.DataFrame(rows)

    # -- resolution -------------------------------------------------------------------
    def _check_cycles(self) -> None:
        state: dict[str, int] = {}

        def visit(name: str, path: tuple[str, ...]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                cycle = " -> ".join((*path[path.index(name):], name))
                raise ModelSpecError(f"dependency cycle among NCA parameters: {cycle}")
            state[name] = 1
            for dep in self._by_name[name].depends:
                if dep in self._by_name:
                    visit(dep, (*path, name))
            state[name] = 2

        for s in self.specs:
            visit(s.name, ())

    def plan(self, requested: Iterable[str]) -> tuple[str, ...]:
        """Parameters to compute for ``requested``, dependencies first.

        Raises
        ------
        ModelSpecError
            If a requested name is not registered.

        Examples
        --------
        >>> from blinapk.nca.general import DEFAULT_REGISTRY
        >>> DEFAULT_REGISTRY.plan(["half_life"])
        ('tmax', 'lambda_z_fit', 'lambda_z', 'half_life')
        """
        order: list[str] = []
        seen: set[str] = set()

        def visit(name: str) -> None:
            if name in seen:
                return
            seen.add(name)
            for dep in self[name].depends:
                if dep in self._by_name:
                    visit(dep)
            order.append(name)

        for name in requested:
            visit(name)
        return tuple(order)

    def evaluate(
        self, requested: Iterable[str], context: Mapping[str, Any]
    ) -> dict[str, tuple[Any, str]]:
        """Compute ``requested`` (and their dependencies) for one profile.

        Parameters
        ----------
        requested : iterable of str
            Parameter names.
        context : mapping
            Values of the inputs the planned functions need.

        Returns
        -------
        dict
            ``name -> (value, reason)`` for every planned parameter; reported
            values are floats (NaN when not estimable, with a non-empty reason).
        """
        out: dict[str, tuple[Any, str]] = {}
        for name in self.plan(requested):
            spec = self._by_name[name]
            args = {}
            for dep in spec.depends:
                if dep in out:
                    args[dep] = out[dep][0]
                else:
                    try:
                        args[dep] = context[dep]
                    except KeyError:
                        raise ModelSpecError(
                            f"parameter {name!r} needs input {dep!r}, not in the context"
                        ) from None
            value = spec.func(**args)
            out[name] = _normalise(spec, value, args, out)
        return out


def _normalise(spec: ParameterSpec, value: Any, args: Mapping[str, Any], done) -> tuple[Any, str]:
    if isinstance(value, NotEstimable):
        return math.nan, value.reason
    if not spec.reported:
        return value, ""
    value = float(value)
    if not math.isnan(value):
        return value, ""
    for dep in spec.depends:
        if dep in done and done[dep][1]:
            why = done[dep][1]
            return math.nan, why if why.startswith(f"{dep}:") else f"{dep}: {why}"
    for dep, arg in args.items():
        if isinstance(arg, float | np.floating) and np.isnan(arg):
            return math.nan, f"{dep} is missing"
    return math.nan, "not estimable"
