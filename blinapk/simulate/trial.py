"""Simulate a realistic blinatumomab trial with known truth (:func:`simulate_trial`).

Pipeline (every generating number is recorded in ``SimulatedTrial.settings``):

1. virtual adults and children with correlated covariates
   (:mod:`blinapk.simulate.population`);
2. individual PK parameters from a parameter source
   (:class:`~blinapk.simulate.source.ParameterSource`): a literature model card
   (covariates + lognormal BSV, :meth:`blinapk.cards.ModelCard.individual_parameters`)
   or any other object with the same members;
3. label R/R regimen by body weight (``weight_based_rr`` preset: flat ug/day at
   >= 45 kg, ug/m2/day below) with simulated CRS interruptions in a subset
   (:mod:`blinapk.dosing`);
4. per-protocol sampling with clock-time jitter (:mod:`blinapk.simulate.sampling`);
5. true concentrations by :func:`blinapk.pk.predict_conc`, cytokines by the
   exposure-driven release model (:mod:`blinapk.simulate.cytokines`);
6. assay error (proportional + additive, from the parameter source) and censoring: a
   measured value below the LLOQ is reported with ``CENS = 1`` and ``DV = LLOQ``
   (``blq_dv="lloq"``, default) or, with ``blq_dv="measured"``, the measured value
   when it is at least the LOD and 0 below the LOD ("not detected");
7. clinical tables (subjects, response assessments, adverse events) from truths
   that depend on exposure and the cytokine peaks (:mod:`blinapk.simulate.clinical`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from blinapk._version import __version__
from blinapk.data import ClinicalData, read_clinical
from blinapk.dosing import (
    Interruption,
    choose_arm,
    dose_records,
    get_preset,
    rate_table,
    with_n_cycles,
)
from blinapk.errors import BlinapkError, ModelSpecError
from blinapk.pk import css_from_rate, dose_matrix, predict_conc
from blinapk.simulate.clinical import simulate_clinical
from blinapk.simulate.clinical_model import ClinicalModel, load_clinical_model
from blinapk.simulate.cytokines import (
    CytokineModel,
    cytokine_conc,
    event_amplitudes,
    event_cycles,
    load_cytokine_model,
    release_events,
)
from blinapk.simulate.population import POPULATION, simulate_population
from blinapk.simulate.sampling import PROTOCOL, sampling_schedule
from blinapk.simulate.source import (
    ParameterSource,
    draw_parameters,
    resolve_source,
    source_settings,
)

__all__ = ["DATA_COLUMNS", "INTERRUPTIONS", "SimulatedTrial", "simulate_trial"]

#: Columns of ``SimulatedTrial.data``, in order.
DATA_COLUMNS = ("ID", "TIME", "EVID", "AMT", "RATE", "DV", "DVID", "MDV", "LLOQ", "LOD", "CENS",
                "CYCLE", "DOSE_LEVEL", "NOMTIME", "STUDY", "BSA", "WT", "AGE", "CRCL", "SEX",
                "BLAST")
_COVARIATES = ("BSA", "WT", "AGE", "CRCL", "SEX", "BLAST")
#: Simulated CRS interruptions (recorded in settings["interruptions"]): start uniform in
#: hours [24, 240) of cycle 1, pause uniform in [12, 72) h, restart at the first-step dose
#: (label's CRS rule, flag U) for 7 days before the schedule resumes.
INTERRUPTIONS: Mapping[str, Any] = {
    "start_h": [24.0, 240.0],
    "duration_h": [12.0, 72.0],
    "restart": {"adult": [9.0, "ug/day", None], "paediatric": [5.0, "ug/m2/day", 9.0]},
    "restart_days": 7.0,
    "reason": "CRS (simulated)",
}
# New streams go at the end: spawned children depend on their index only, so the
# existing streams (and every trial simulated before) stay the same.
_STREAMS = ("population", "pk_eta", "design", "jitter", "residual", "cytokine", "clinical")


@dataclass(frozen=True)
class SimulatedTrial:
    """A simulated trial and the truth that generated it.

    Attributes
    ----------
    data : pandas.DataFrame
        The dataset in the contract format (columns :data:`DATA_COLUMNS`).
    truth : pandas.DataFrame
        One row per subject: ``ID``, ``GROUP``, regimen ``ARM`` and ``REGIMEN``
        (preset name), covariates (incl. ``HEIGHT``, ``SCR``), the columns of
        the parameter source (for a model card ``TV_CL, ETA_CL, CL, TV_V,
        ETA_V, V``), the CRS interruption (``INT_START``,
        ``INT_HOURS``; NaN when none), ``WASHOUT``,
        ``CSS_FIRST`` (Css at the first dose level, 1000 R0 / CL) and the
        cytokine random effects ``ETA_<analyte>``.
    observations : pandas.DataFrame
        One row per observation row of ``data`` (same order): ``ID, TIME,
        NOMTIME, DVID, SAMPLE, IPRED`` (noise-free truth), ``MEASURED`` (with
        assay error, before censoring and rounding; ``DV`` reports it rounded
        to 0.01 pg/mL), ``CENS``.
    events : pandas.DataFrame
        Cytokine release events per subject (``ID, TIME, KIND, CSS_BEFORE,
        CSS_AFTER, DRIVE, TOL_<a>, AMP_<a>``).
    settings : dict
        Every generating parameter, JSON-serialisable (seed included).
    subjects, assessments, adverse_events : pandas.DataFrame or None
        The clinical tables (docs/clinical_data.md); None with ``clinical=False``.
    clinical_truth : pandas.DataFrame or None
        One row per subject: the truth behind the clinical tables (true
        full-dose Css, remission and MRD probabilities and outcomes, true
        event days, CRS and neurologic probabilities; docs/simulate.md).
    assessment_truth : pandas.DataFrame or None
        One row per row of ``assessments``: ``ID, CYCLE, DAY, RESPONSE`` (true
        category), ``MRD_NEGATIVE``, ``MISSING`` (count left empty).
    """

    data: pd.DataFrame
    truth: pd.DataFrame
    observations: pd.DataFrame
    events: pd.DataFrame
    settings: dict = field(default_factory=dict)
    subjects: pd.DataFrame | None = None
    assessments: pd.DataFrame | None = None
    adverse_events: pd.DataFrame | None = None
    clinical_truth: pd.DataFrame | None = None
    assessment_truth: pd.DataFrame | None = None

    def settings_json(self) -> str:
        """Return the settings as canonical JSON (sorted keys, 2-space indent)."""
        return json.dumps(self.settings, indent=2, sort_keys=True) + "\n"

    @property
    def clinical(self) -> ClinicalData:
        """The clinical tables read and validated by :func:`blinapk.data.read_clinical`.

        Raises
        ------
        BlinapkError
            The trial was simulated with ``clinical=False``.
        """
        if self.subjects is None:
            raise BlinapkError("this trial was simulated with clinical=False")
        return read_clinical(self.subjects, self.assessments, self.adverse_events)

    @property
    def episodes(self) -> pd.DataFrame:
        """Dosing episodes ``ID, DAY, EPISODE, CYCLE`` (infusion starts, restarts, dose steps).

        The timeline :func:`blinapk.endpoints.derive_ae_episodes` reads, from
        :attr:`events`: ``EPISODE`` is ``start`` at a scheduled cycle start,
        ``restart`` after an interruption, ``step`` at a dose step. Of two
        episodes on one day (a pause and restart on the day of a step) the
        later is kept.
        """
        ev = self.events.merge(self.truth[["ID", "ARM"]], on="ID", how="left", sort=False)
        parts, starts = [], self.settings["cycle_starts"]
        for a, sub in ev.groupby("ARM", sort=False):
            cycle, episode = event_cycles(sub["TIME"], sub["KIND"], starts[a])
            parts.append(pd.DataFrame({"ID": sub["ID"], "DAY": sub["TIME"] // 24 + 1,
                                       "EPISODE": episode, "CYCLE": cycle}, index=sub.index))
        out = pd.concat(parts).sort_index()
        out["DAY"] = out["DAY"].astype(np.int64)
        return out.drop_duplicates(["ID", "DAY"], keep="last").reset_index(drop=True)


def simulate_trial(
    n: int,
    seed: int,
    *,
    card: str | Path | ParameterSource = "blinatumomab_zhu2020",
    paediatric_fraction: float = 0.2,
    n_cycles: int = 2,
    interruption_fraction: float = 0.15,
    washout_fraction: float = 0.2,
    cytokines: bool = True,
    residual: Mapping[str, float] | None = None,
    blq_dv: str = "lloq",
    lloq: float = 50.0,
    lod: float = 3.0,
    cytokine_lloq: float = 125.0,
    cytokine_lod: float = 20.0,
    study: str = "BLIN-SIM",
    regimen: str = "weight_based_rr",
    cytokine_model: CytokineModel | None = None,
    clinical: bool = True,
    clinical_model: ClinicalModel | None = None,
) -> SimulatedTrial:
    """Simulate a blinatumomab trial: adults and children on the label R/R regimen.

    Parameters
    ----------
    n : int
        Number of subjects (>= 1).
    seed : int
        Seed of :class:`numpy.random.SeedSequence`; independent child streams
        drive population, PK random effects, design (interruptions, wash-out),
        sampling jitter, residual error and cytokines.
    card : str, Path or ParameterSource, default "blinatumomab_zhu2020"
        Where individual PK parameters and the drug's residual error come
        from: a model card name or TOML path, a :class:`blinapk.cards.ModelCard`
        (1-cmt or 2-cmt: CL, V, covariates, BSV), or any
        :class:`~blinapk.simulate.source.ParameterSource`.
    paediatric_fraction : float, default 0.2
        Probability that a subject is a child (< 18 y).
    n_cycles : int, default 2
        Treatment cycles given (42-day cycles: 28 days on, 14 off).
    interruption_fraction : float, default 0.15
        Probability of a CRS interruption in cycle 1 (see :data:`INTERRUPTIONS`).
    washout_fraction : float, default 0.2
        Probability of wash-out samples 1, 2, 4, 8 h after the end of cycle 1.
    cytokines : bool, default True
        Include IL2, IL6, IL10, TNFA, IFNG rows.
    residual : Mapping, optional
        Override ``{"prop": ..., "add": ...}`` of the source (e.g. zeros for
        noise-free checks).
    blq_dv : {"lloq", "measured"}, default "lloq"
        What DV holds on a censored row (see module docstring).
    lloq, lod : float
        Blinatumomab assay limits (pg/mL); seed defaults 50 and 3.
    cytokine_lloq, cytokine_lod : float
        Cytokine assay limits (pg/mL); seed defaults 125 and 20.
    study : str
        Value of the ``STUDY`` column.
    regimen : str, default "weight_based_rr"
        A :data:`blinapk.dosing.PRESETS` name.
    cytokine_model : CytokineModel, optional
        Defaults to the shipped model (:func:`~blinapk.simulate.cytokines.load_cytokine_model`).
    clinical : bool, default True
        Simulate the clinical tables (subjects, assessments, adverse events)
        from their own random stream; False leaves every other output unchanged.
    clinical_model : ClinicalModel, optional
        Defaults to the shipped model
        (:func:`~blinapk.simulate.clinical_model.load_clinical_model`).

    Returns
    -------
    SimulatedTrial
        Data, truth, clinical tables and settings.

    Raises
    ------
    ValueError
        ``n < 1`` or an unknown ``blq_dv``.
    TypeError
        ``card`` is not a card name, path, ModelCard or ParameterSource.
    ModelSpecError
        The parameter source's output or residual error is unusable.

    Examples
    --------
    >>> trial = simulate_trial(5, seed=1)
    >>> sorted(set(trial.data["DVID"].dropna()))
    ['BLIN', 'IFNG', 'IL10', 'IL2', 'IL6', 'TNFA']
    >>> trial.settings["seed"]
    1
    >>> list(trial.clinical.tables)
    ['subjects', 'assessments', 'adverse_events']
    """
    if int(n) < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if blq_dv not in ("lloq", "measured"):
        raise ValueError(f"blq_dv must be 'lloq' or 'measured', got {blq_dv!r}")
    source = resolve_source(card)
    cyto = cytokine_model if cytokine_model is not None else load_cytokine_model()
    res = dict(source.residual) | dict(residual or {})
    if not {"prop", "add"} <= res.keys():
        raise ModelSpecError(f"residual needs 'prop' and 'add', got {sorted(res)}")
    rng = dict(zip(_STREAMS, (np.random.default_rng(s) for s in
                              np.random.SeedSequence(seed).spawn(len(_STREAMS))), strict=True))

    pop = simulate_population(int(n), rng["population"], paediatric_fraction=paediatric_fraction)
    params = draw_parameters(source, pop[["ID", *source.covariate_names]], rng["pk_eta"])
    reg = with_n_cycles(get_preset(regimen), n_cycles)
    arm = choose_arm(pop["WT"].to_numpy(), getattr(reg, "threshold_kg", 45.0))
    interrupted = rng["design"].random(len(pop)) < interruption_fraction
    washout = rng["design"].random(len(pop)) < washout_fraction
    int_start = np.round(rng["design"].uniform(*INTERRUPTIONS["start_h"], len(pop)))
    int_hours = np.round(rng["design"].uniform(*INTERRUPTIONS["duration_h"], len(pop)))
    pauses = {}
    for i in np.flatnonzero(interrupted):
        dose, unit, cap = INTERRUPTIONS["restart"][arm[i]]
        pauses[int(pop["ID"].iloc[i])] = Interruption(
            int_start[i], int_hours[i], restart_dose=dose, restart_unit=unit, restart_cap=cap,
            restart_days=INTERRUPTIONS["restart_days"], reason=INTERRUPTIONS["reason"])
    doses = dose_records(reg, pop[["ID", "BSA", "WT"]], interruptions=pauses or None)
    rates = rate_table(doses)
    arms = {"adult": getattr(reg, "adult", reg), "paediatric": getattr(reg, "paediatric", reg)}

    draws, event_parts = [], []
    etas = {a: rng["cytokine"].normal(0.0, cyto.omega, len(pop)) for a in cyto.analytes}
    seg_index = rates.groupby("ID", sort=False).indices
    seg_cols = [rates[c].to_numpy(float) for c in ("START", "END", "RATE")]
    for i, sid in enumerate(pop["ID"].to_numpy()):
        start, end, rate = (c[seg_index[sid]] for c in seg_cols)
        cl = float(params["CL"].iloc[i])
        ev = release_events(start, end, rate, cl)
        starts = arms[arm[i]].cycle_starts()
        c1_end = float(end[(rate > 0) & (start < (starts[1] if len(starts) > 1 else np.inf))]
                       .max())
        sched = sampling_schedule(
            ev["TIME"], _event_labels(ev, starts), np.r_[start, end], starts, rng["jitter"],
            washout_after=c1_end if washout[i] else None, cytokines=cytokines)
        draws.append(sched.assign(ID=sid))
        amp = event_amplitudes(cyto, ev, (start, end, rate), cl, {a: etas[a][i] for a in etas})
        event_parts.append(pd.DataFrame({"ID": sid, **amp}))
    draws_df = pd.concat(draws, ignore_index=True)
    events = pd.concat(event_parts, ignore_index=True)

    obs = _observations(draws_df, doses, pop, params, source, cyto, events, cytokines)
    obs = _measure(obs, rng["residual"], res, cyto, blq_dv,
                   {"BLIN": (lloq, lod)} | {a: (cytokine_lloq, cytokine_lod)
                                            for a in cyto.analytes})
    data = _assemble(doses, obs, pop, study)
    truth = _truth(pop, arm, params, interrupted, int_start, int_hours, washout, rates, etas)
    truth.insert(truth.columns.get_loc("ARM") + 1, "REGIMEN", [arms[a].name for a in arm])
    starts = {a: list(arms[a].cycle_starts()) for a in sorted(set(arm))}
    tables = None
    if clinical:
        cmodel = clinical_model if clinical_model is not None else load_clinical_model()
        tables = simulate_clinical(cmodel, rng["clinical"], truth, rates, events,
                                   [np.asarray(starts[a], float) for a in arm], study=study,
                                   il6_baseline=cyto.baseline["IL6"])
    settings = {
        "blinapk_version": __version__, "numpy_version": np.__version__,
        "n": int(n), "seed": int(seed), "study": study, **source_settings(source),
        "structure": source.structure, "residual": res,
        "paediatric_fraction": paediatric_fraction, "n_cycles": int(n_cycles),
        "interruption_fraction": interruption_fraction, "washout_fraction": washout_fraction,
        "interruptions": dict(INTERRUPTIONS), "regimen": reg.to_dict(),
        "cytokines": bool(cytokines), "cytokine_model": cyto.to_dict(), "blq_dv": blq_dv,
        "assay": {"BLIN": {"lloq": lloq, "lod": lod},
                  "cytokines": {"lloq": cytokine_lloq, "lod": cytokine_lod}},
        "protocol": dict(PROTOCOL), "population": dict(POPULATION),
        "random_streams": list(_STREAMS), "cycle_starts": starts, "clinical": bool(clinical),
    }
    if tables is not None:
        settings["clinical_model"] = cmodel.to_dict()
    clin = () if tables is None else (tables.subjects, tables.assessments, tables.adverse_events,
                                      tables.truth, tables.assessment_truth)
    return SimulatedTrial(data, truth, obs.drop(columns=["ROWKEY"]), events,
                          json.loads(json.dumps(settings)), *clin)


def _event_labels(ev: Mapping[str, np.ndarray], cycle_starts) -> list[str]:
    """``C<k>.start`` (scheduled cycle start), ``C<k>.restart`` (after a pause), ``C<k>.step``."""
    cycle, episode = event_cycles(ev["TIME"], ev["KIND"], cycle_starts)
    return [f"C{k}.{e}" for k, e in zip(cycle, episode, strict=True)]


def _observations(draws, doses, pop, params, source, cyto, events, cytokines) -> pd.DataFrame:
    """One row per (draw, analyte) with the true concentration IPRED."""
    analytes = ["BLIN"] + (list(cyto.analytes) if cytokines else [])
    parts = []
    for k, a in enumerate(analytes):
        sel = draws[draws["BLIN"]] if a == "BLIN" else draws[draws["CYTO"]]
        parts.append(sel.assign(DVID=a, _ORDER=k))
    obs = pd.concat(parts, ignore_index=True)
    ids = pop["ID"].to_numpy()
    subj = pd.Index(ids).get_indexer(obs["ID"])
    ipred = np.zeros(len(obs))
    pk = (obs["DVID"] == "BLIN").to_numpy()
    dm = dose_matrix(doses, subjects=tuple(ids))
    pk_params = {p: params[p].to_numpy() for p in source.params}
    ipred[pk] = np.asarray(predict_conc(obs["TIME"].to_numpy()[pk], subj[pk], dm, pk_params,
                                        model=source.structure), dtype=float)
    ev_index = events.groupby("ID", sort=False).indices
    ev_time = events["TIME"].to_numpy(float)
    for a in analytes[1:]:
        rows = obs.index[(obs["DVID"] == a).to_numpy()].to_numpy()
        times = obs["TIME"].to_numpy(float)[rows]
        for sid, pos in pd.Series(rows).groupby(obs["ID"].to_numpy()[rows]).indices.items():
            e = ev_index.get(sid, np.zeros(0, int))
            ipred[rows[pos]] = cytokine_conc(cyto, a, times[pos], ev_time[e],
                                             events[f"AMP_{a}"].to_numpy(float)[e])
    obs["IPRED"] = ipred
    obs = obs.sort_values(["ID", "TIME", "_ORDER"], kind="stable").reset_index(drop=True)
    obs["ROWKEY"] = np.arange(len(obs))
    return obs[["ROWKEY", "ID", "TIME", "NOMTIME", "CYCLE", "DVID", "SAMPLE", "IPRED"]]


def _measure(obs, rng, res, cyto, blq_dv, limits) -> pd.DataFrame:
    """Assay error, then censoring against the LLOQ of each analyte."""
    is_pk = (obs["DVID"] == "BLIN").to_numpy()
    prop = np.where(is_pk, res["prop"], cyto.residual_prop)
    add = np.where(is_pk, res["add"], cyto.residual_add)
    e = rng.standard_normal((len(obs), 2))
    ipred = obs["IPRED"].to_numpy()
    measured = ipred * (1.0 + prop * e[:, 0]) + add * e[:, 1]
    lloq = obs["DVID"].map({k: v[0] for k, v in limits.items()}).to_numpy(float)
    lod = obs["DVID"].map({k: v[1] for k, v in limits.items()}).to_numpy(float)
    cens = measured < lloq
    # reported values are rounded to 0.01 pg/mL; a value >= LLOQ stays >= LLOQ when rounded
    reported = np.round(measured, 2)
    if blq_dv == "lloq":
        dv = np.where(cens, lloq, reported)
    else:
        dv = np.where(cens, np.where(measured >= lod, np.minimum(reported, lloq), 0.0), reported)
    return obs.assign(MEASURED=measured, DV=dv, LLOQ=lloq, LOD=lod, CENS=cens.astype(int))


def _assemble(doses, obs, pop, study) -> pd.DataFrame:
    d = doses.assign(DVID=pd.NA, LLOQ=np.nan, LOD=np.nan, CENS=0, NOMTIME=doses["TIME"],
                     _K=0, _ORDER=0)
    o = obs.assign(EVID=0, AMT=0.0, RATE=0.0, MDV=0, _K=1, _ORDER=obs["ROWKEY"])
    frame = pd.concat([d, o], ignore_index=True)
    frame = frame.sort_values(["ID", "TIME", "_K", "_ORDER"], kind="stable")
    frame = frame.merge(pop[["ID", *_COVARIATES]], on="ID", how="left", sort=False)
    frame["STUDY"] = study
    frame["DVID"] = frame["DVID"].astype("string")
    for col in ("EVID", "MDV", "CENS", "CYCLE"):
        frame[col] = frame[col].astype(int)
    return frame[list(DATA_COLUMNS)].reset_index(drop=True)


def _truth(pop, arm, params, interrupted, int_start, int_hours, washout, rates, etas):
    first = rates[rates["RATE"] > 0].groupby("ID", sort=False)["RATE"].first()
    truth = pop.assign(ARM=arm).join(params.drop(columns="ID"))
    truth["INT_START"] = np.where(interrupted, int_start, np.nan)
    truth["INT_HOURS"] = np.where(interrupted, int_hours, np.nan)
    truth["WASHOUT"] = washout
    truth["RATE_FIRST"] = first.reindex(truth["ID"]).to_numpy()
    truth["CSS_FIRST"] = css_from_rate(truth["RATE_FIRST"].to_numpy(), truth["CL"].to_numpy())
    for a, e in etas.items():
        truth[f"ETA_{a}"] = e
    return truth
