"""Observed, time and dose-based NCA parameters (Cmax ... CL, Vz, Vss, MRT).

Times (tmax, tlast) are relative to the interval start, as in PKNCA.
Clearances and volumes need the dose given in the interval (``dose``); the
``volume_factor`` converts ``amount / concentration`` to litres (1000 for ug
and pg/mL: ``V [L] = 1000 A [ug] / C [pg/mL]``). For extravascular dosing they
are apparent values (CL/F, Vz/F) and carry the ``...F...`` CDISC codes.

Volume of distribution at steady state, ``Vss = MRTinf * CL``, is only
defined for intravascular dosing; MRT after an infusion is corrected by half
the infusion duration (``MRT = AUMC/AUC - duration/2``).
"""

from __future__ import annotations

import math

import numpy as np

from blinapk.nca.registry import nca_parameter, not_estimable

__all__ = [
    "c0",
    "cav",
    "cl_obs",
    "cl_pred",
    "clast",
    "cmax",
    "cmin",
    "ctrough",
    "mrt_inf_obs",
    "mrt_inf_pred",
    "mrt_last",
    "tlast",
    "tmax",
    "vss_obs",
    "vss_pred",
    "vz_obs",
    "vz_pred",
]

_IV = ("iv_bolus", "iv_infusion")


def _empty(conc) -> bool:
    return np.asarray(conc).size == 0


@nca_parameter(unit_kind="conc", label="Maximum observed concentration", pptestcd="CMAX")
def cmax(conc):
    """Largest observed concentration in the interval."""
    if _empty(conc):
        return not_estimable("no samples in the interval")
    return float(np.max(conc))


@nca_parameter(unit_kind="time", label="Time of Cmax", pptestcd="TMAX")
def tmax(time, conc):
    """Time of the first occurrence of Cmax."""
    if _empty(conc):
        return not_estimable("no samples in the interval")
    return float(time[int(np.argmax(conc))])


@nca_parameter(unit_kind="conc", label="Minimum observed concentration", pptestcd="CMIN")
def cmin(conc):
    """Smallest observed concentration in the interval."""
    if _empty(conc):
        return not_estimable("no samples in the interval")
    return float(np.min(conc))


@nca_parameter(unit_kind="conc", label="Last measurable concentration", pptestcd="CLST")
def clast(conc):
    """Last concentration > 0 in the interval."""
    pos = np.flatnonzero(np.asarray(conc) > 0)
    if pos.size == 0:
        return not_estimable("no concentration > 0 in the interval")
    return float(conc[pos[-1]])


@nca_parameter(unit_kind="time", label="Time of Clast", pptestcd="TLST")
def tlast(time, conc):
    """Time of the last concentration > 0."""
    pos = np.flatnonzero(np.asarray(conc) > 0)
    if pos.size == 0:
        return not_estimable("no concentration > 0 in the interval")
    return float(time[pos[-1]])


@nca_parameter(unit_kind="conc", label="Concentration at the interval start", pptestcd="C0")
def c0(time, conc, route, first_dose):
    """Observed at the start; else back-extrapolated (IV bolus) or 0 before a first dose.

    IV bolus without a sample at the dose time: log-linear back-extrapolation
    through the first two samples when they decrease and are > 0, otherwise the
    first sample (Phoenix WinNonlin's C0 rule). Extravascular or infusion: 0
    when no dose precedes the interval (nothing in the body yet).
    """
    t = np.asarray(time, dtype=float)
    c = np.asarray(conc, dtype=float)
    at0 = np.flatnonzero(t == 0)
    if at0.size:
        return float(c[at0[0]])
    if route == "iv_bolus":
        if t.size == 0:
            return not_estimable("no samples after the bolus")
        if t.size >= 2 and c[0] > c[1] > 0:
            slope = (math.log(c[1]) - math.log(c[0])) / (t[1] - t[0])
            return float(math.exp(math.log(c[0]) - slope * t[0]))
        return float(c[0])
    if first_dose:
        return 0.0
    return not_estimable("no sample at the interval start and a dose precedes it")


@nca_parameter(unit_kind="conc", label="Concentration at the end of the dosing interval",
               pptestcd="CTROUGH")
def ctrough(time_group, conc_group, tau):
    """Observed concentration at the interval end (no interpolation)."""
    if math.isinf(tau):
        return not_estimable("ctrough needs a finite interval end")
    hit = np.flatnonzero(np.asarray(time_group) == tau)
    if hit.size == 0:
        return not_estimable("no sample at the interval end")
    return float(conc_group[hit[0]])


@nca_parameter(unit_kind="conc", label="Average concentration over the interval",
               pptestcd="CAVG")
def cav(auctau, tau):
    """``AUCtau / tau``."""
    return auctau / tau


def _mrt(aumc, auc, route, duration):
    if auc == 0:
        return not_estimable("AUC is 0")
    if route == "iv_infusion":
        return aumc / auc - duration / 2.0
    return aumc / auc


_MRT_CODES = {"extravascular": "MRTEV{}", "iv_bolus": "MRTIV{}", "iv_infusion": "MRTIV{}"}


def _codes(template: dict[str, str], suffix: str) -> dict[str, str]:
    return {k: v.format(suffix) for k, v in template.items()}


@nca_parameter(unit_kind="time", label="Mean residence time to tlast",
               pptestcd=_codes(_MRT_CODES, "LST"))
def mrt_last(aumclast, auclast, route, duration):
    """``AUMClast / AUClast`` (minus half the infusion duration for an infusion)."""
    return _mrt(aumclast, auclast, route, duration)


@nca_parameter(unit_kind="time", label="Mean residence time to infinity (observed)",
               pptestcd=_codes(_MRT_CODES, "IFO"))
def mrt_inf_obs(aumcinf_obs, aucinf_obs, route, duration):
    """``AUMCinf,obs / AUCinf,obs`` (minus half the infusion duration for an infusion)."""
    return _mrt(aumcinf_obs, aucinf_obs, route, duration)


@nca_parameter(unit_kind="time", label="Mean residence time to infinity (predicted)",
               pptestcd=_codes(_MRT_CODES, "IFP"))
def mrt_inf_pred(aumcinf_pred, aucinf_pred, route, duration):
    """``AUMCinf,pred / AUCinf,pred`` (minus half the infusion duration for an infusion)."""
    return _mrt(aumcinf_pred, aucinf_pred, route, duration)


def _need_dose(dose):
    if dose is None or not np.isfinite(dose):
        return not_estimable("no dose in the interval")
    return None


_CL_CODES = {"extravascular": "CLF{}", "iv_bolus": "CL{}", "iv_infusion": "CL{}"}
_VZ_CODES = {"extravascular": "VZF{}", "iv_bolus": "VZ{}", "iv_infusion": "VZ{}"}


@nca_parameter(unit_kind="clearance", label="Clearance (observed; CL/F if extravascular)",
               pptestcd=_codes(_CL_CODES, "O"))
def cl_obs(dose, aucinf_obs, volume_factor):
    """``dose / AUCinf,obs`` in L per time unit."""
    return _need_dose(dose) or volume_factor * dose / aucinf_obs


@nca_parameter(unit_kind="clearance", label="Clearance (predicted; CL/F if extravascular)",
               pptestcd=_codes(_CL_CODES, "P"))
def cl_pred(dose, aucinf_pred, volume_factor):
    """``dose / AUCinf,pred`` in L per time unit."""
    return _need_dose(dose) or volume_factor * dose / aucinf_pred


@nca_parameter(unit_kind="volume", label="Terminal volume (observed; Vz/F if extravascular)",
               pptestcd=_codes(_VZ_CODES, "O"))
def vz_obs(dose, aucinf_obs, lambda_z, volume_factor):
    """``dose / (lambda_z AUCinf,obs)`` in L."""
    return _need_dose(dose) or volume_factor * dose / (lambda_z * aucinf_obs)


@nca_parameter(unit_kind="volume", label="Terminal volume (predicted; Vz/F if extravascular)",
               pptestcd=_codes(_VZ_CODES, "P"))
def vz_pred(dose, aucinf_pred, lambda_z, volume_factor):
    """``dose / (lambda_z AUCinf,pred)`` in L."""
    return _need_dose(dose) or volume_factor * dose / (lambda_z * aucinf_pred)


def _vss(mrt, cl, route):
    if route not in _IV:
        return not_estimable("Vss is defined for intravascular dosing only")
    return mrt * cl


@nca_parameter(unit_kind="volume", label="Volume at steady state (observed)", pptestcd="VSSO")
def vss_obs(mrt_inf_obs, cl_obs, route):
    """``MRTinf,obs * CL,obs`` (intravascular only)."""
    return _vss(mrt_inf_obs, cl_obs, route)


@nca_parameter(unit_kind="volume", label="Volume at steady state (predicted)", pptestcd="VSSP")
def vss_pred(mrt_inf_pred, cl_pred, route):
    """``MRTinf,pred * CL,pred`` (intravascular only)."""
    return _vss(mrt_inf_pred, cl_pred, route)
