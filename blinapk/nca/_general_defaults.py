"""The default NCA parameter registry, built from the definition modules.

The order is explicit (AUC, lambda_z, observed/dose-based parameters, each in
definition order), not an accident of file names.
"""

from __future__ import annotations

from types import ModuleType

from blinapk.nca import auc, lambda_z, params
from blinapk.nca.registry import ParameterSpec, Registry

__all__ = ["DEFAULT_REGISTRY", "default_specs"]


def default_specs(modules: tuple[ModuleType, ...] = (params, auc, lambda_z)
                  ) -> tuple[ParameterSpec, ...]:
    """Specs of every decorated function in ``modules``, in definition order."""
    specs = []
    for module in modules:
        for obj in vars(module).values():
            spec = getattr(obj, "nca_spec", None)
            defined_here = getattr(obj, "__module__", "") == module.__name__
            if isinstance(spec, ParameterSpec) and defined_here:
                specs.append(spec)
    return tuple(specs)


#: Registry of every parameter defined in blinapk.nca.{params, auc, lambda_z}.
DEFAULT_REGISTRY: Registry = Registry(default_specs())
