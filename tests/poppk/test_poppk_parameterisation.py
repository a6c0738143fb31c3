"""Fisher information, partial-centering weights and the parameterisation choice."""

import numpy as np
import pandas as pd
import pytest
from poppk_helpers import RICH_TIMES, infusion_frame

from blinapk.data import read_dataset
from blinapk.poppk.build import build_model, model_info
from blinapk.poppk.design import prepare_data
from blinapk.poppk.parameterisation import (
    FEW_INFORMED_SUBJECTS,
    OMEGA_LOW_SDS,
    TARGET_ACCEPT,
    TARGET_ACCEPT_FEW,
    auto_precision,
    auto_target_accept,
    centering_weights,
    choose_parameterisation,
    fisher_information,
    omega_floor,
)
from blinapk.poppk.spec import PopPKSpec


def _data(obs_times, n=5):
    f = infusion_frame(n, obs_times=obs_times, hours=400.0)
    return prepare_data(read_dataset(f), PopPKSpec())


def test_steady_state_information_hand_calculated():
    # At steady state C = 1000 R / CL: d log C / d log CL = -1 and d log C / d log V = 0, so
    # each sample adds 1 / sigma^2 to I_CL and nothing to I_V.
    data = _data((100.0, 200.0, 300.0))
    info = fisher_information(data, "1cmt", {"CL": 2.0, "V": 6.0}, "proportional", 0.25, 0.0)
    np.testing.assert_allclose(info["CL"], 3 / 0.25**2, rtol=1e-6)
    np.testing.assert_allclose(info["V"], 0.0, atol=1e-6)


def test_early_sample_information_on_v_hand_calculated():
    # During the rise C = Css (1 - exp(-k t)), k = CL/V:
    # d log C / d log V = -k t e^{-kt} / (1 - e^{-kt})
    data = _data((1.0,))
    k, t = 2.0 / 6.0, 1.0
    d = -k * t * np.exp(-k * t) / (1 - np.exp(-k * t))
    info = fisher_information(data, "1cmt", {"CL": 2.0, "V": 6.0}, "proportional", 0.2, 0.0)
    np.testing.assert_allclose(info["V"], d**2 / 0.04, rtol=1e-6)


def _floor_fixed_point(info, omega, n_sds=OMEGA_LOW_SDS):
    """The defining equation of the floor, evaluated at a candidate ``lo``."""
    def rhs(lo):
        w = centering_weights(np.asarray(info) * lo**2)
        return omega * np.exp(-n_sds / np.sqrt(2 * np.sum(w**2)))
    return rhs


def test_weights_follow_information():
    # 40 subjects, two steady-state samples each: I_CL = 2 / sigma^2 per subject
    data = _data((100.0, 200.0), n=40)
    spec = PopPKSpec()
    ch = choose_parameterisation(data, spec, {"CL": 2.0, "V": 6.0}, {"CL": 0.7, "V": 0.4},
                                 0.25, 0.0)
    assert ch["CL"].chosen == "partial" and ch["CL"].fraction_data_dominated == 1.0
    r_cl = 2 * 0.49 / 0.0625  # at the nominal omega
    assert ch["CL"].median_ratio == pytest.approx(r_cl, rel=1e-4)
    # weights at the floor: lo = 0.7 exp(-4 / sqrt(2 * 40 * w(lo)^2)), w(lo) = I lo^2 / (1 + .)
    lo = ch["CL"].omega_ref
    assert 0.3 < lo < 0.7
    assert lo == pytest.approx(_floor_fixed_point(np.full(40, 32.0), 0.7)(lo), rel=1e-5)
    np.testing.assert_allclose(ch["CL"].weights, 32 * lo**2 / (1 + 32 * lo**2), rtol=1e-4)
    assert ch["CL"].weights.min() > 0.8
    # no information on V: floor 0, every weight 0, reported non-centered
    assert ch["V"].chosen == "noncentered" and ch["V"].omega_ref == 0.0
    np.testing.assert_allclose(ch["V"].weights, 0.0, atol=1e-12)
    assert ch["CL"].to_dict()["median_weight"] == pytest.approx(float(np.median(
        ch["CL"].weights)), abs=1e-4)
    # very noisy data and a small omega: the floor falls to 0, CL non-centered too
    noisy = choose_parameterisation(data, spec, {"CL": 2.0, "V": 6.0}, {"CL": 0.1, "V": 0.4},
                                    1.0, 0.0)
    assert noisy["CL"].chosen == "noncentered" and noisy["CL"].median_weight == 0.0
    # rich early sampling with small error in every subject: V is data-dominated
    rich = choose_parameterisation(_data((0.5, 1.0, 2.0, 3.0, 4.0), n=40), spec,
                                   {"CL": 2.0, "V": 6.0}, {"CL": 0.7, "V": 0.7}, 0.05, 0.0)
    assert rich["V"].chosen == "partial" and rich["V"].median_weight > 0.9


def test_weights_at_the_floor_in_small_trials_at_the_nominal_omega_otherwise():
    spec = PopPKSpec()
    typical, omega = {"CL": 2.0, "V": 6.0}, {"CL": 0.7, "V": 0.4}
    # every subject informs CL and V (early samples, small error): not a small trial
    data = _data((0.5, 1.0, 2.0, 3.0, 4.0), n=40)
    big = choose_parameterisation(data, spec, typical, omega, 0.3, 0.0)
    info = fisher_information(data, spec.structure, typical, spec.residual, 0.3, 0.0)
    for p in ("CL", "V"):
        c = big[p]
        assert c.n_data_dominated >= FEW_INFORMED_SUBJECTS and c.chosen == "partial"
        assert c.omega_ref == pytest.approx(omega[p])
        assert c.omega_lo == pytest.approx(omega_floor(info[p].to_numpy(), omega[p]), rel=1e-5)
        assert 0 < c.omega_lo < omega[p]
        np.testing.assert_allclose(c.weights, centering_weights(info[p].to_numpy() * omega[p]**2))
        assert c.to_dict()["omega_lo"] == c.omega_lo
    assert auto_target_accept(big) == TARGET_ACCEPT
    # V informed by 10 subjects only: a small trial, every weight (CL's too) at its floor
    data = _mixed_data(10, 30)
    small = choose_parameterisation(data, spec, typical, omega, 0.3, 0.0)
    info = fisher_information(data, spec.structure, typical, spec.residual, 0.3, 0.0)
    cl = small["CL"]
    assert cl.chosen == "partial" and 0 < cl.omega_ref == cl.omega_lo < omega["CL"]
    np.testing.assert_allclose(cl.weights, centering_weights(info["CL"].to_numpy()
                                                             * cl.omega_lo**2), rtol=1e-4)
    assert auto_target_accept(small) == TARGET_ACCEPT_FEW


def test_omega_floor_hand_values():
    # no information: the floor is 0
    assert omega_floor(np.zeros(60), 0.7) == 0.0
    # every subject fully informative (w = 1): lo = omega exp(-n_sds / sqrt(2 n))
    assert omega_floor(np.full(5000, 1e12), 0.7) == pytest.approx(
        0.7 * np.exp(-OMEGA_LOW_SDS / 100), rel=1e-6)
    assert omega_floor(np.full(5000, 1e12), 0.7, n_sds=2) == pytest.approx(
        0.7 * np.exp(-2 / 100), rel=1e-6)
    # a moderate case satisfies the fixed-point equation; more subjects, higher floor
    info = np.full(100, 20.0)
    lo = omega_floor(info, 0.5)
    assert 0 < lo < 0.5 and lo == pytest.approx(_floor_fixed_point(info, 0.5)(lo), rel=1e-6)
    assert omega_floor(np.full(400, 20.0), 0.5) > lo
    # ten equally informative subjects do not pin omega down: floor 0
    assert omega_floor(np.full(10, 20.0), 0.5) == 0.0


def _mixed_data(n_rich, n_sparse):
    """``n_rich`` subjects with rise and wash-out samples, ``n_sparse`` at steady state only."""
    rich = infusion_frame(n_rich, obs_times=RICH_TIMES, hours=24.0, sigma=0.1)
    sparse = infusion_frame(n_sparse, obs_times=(100.0, 200.0), hours=400.0, sigma=0.1)
    sparse = sparse.assign(ID=sparse["ID"] + n_rich)
    return prepare_data(read_dataset(pd.concat([rich, sparse], ignore_index=True)), PopPKSpec())


def test_subjects_without_washout_get_v_noncentered_rich_ones_centered():
    # 30 rich + 30 steady-state-only subjects: V partial, weight ~1 for the rich, 0 for the rest
    data = _mixed_data(30, 30)
    ch = choose_parameterisation(data, PopPKSpec(), {"CL": 2.0, "V": 6.0},
                                 {"CL": 0.7, "V": 0.4}, 0.1, 0.0)
    w = ch["V"].weights
    assert ch["V"].chosen == "partial"
    assert w[:30].min() > 0.9
    np.testing.assert_allclose(w[30:], 0.0, atol=1e-12)
    # every subject has steady-state (or rise) information on CL
    assert ch["CL"].weights.min() > 0.5


def test_few_v_informative_subjects_give_v_noncentered():
    # 3 rich subjects among 40 at sigma 0.3 (I_V up to ~100): omega_V is not pinned down
    # (its posterior reaches 0), so even the rich subjects are non-centered (the funnel
    # of the N = 60 SBC trials)
    data = _mixed_data(3, 37)
    args = (data, PopPKSpec(), {"CL": 2.0, "V": 6.0}, {"CL": 0.7, "V": 0.4})
    ch = choose_parameterisation(*args, 0.3, 0.0)
    assert ch["V"].chosen == "noncentered" and ch["V"].omega_ref == 0.0
    assert ch["V"].fraction_data_dominated == pytest.approx(3 / 40)
    assert ch["CL"].chosen == "partial"
    # ten such subjects pin omega_V down enough for a floor above 0, but fewer than
    # FEW_INFORMED_SUBJECTS inform V: non-centered all the same (their funnel survives)
    ten = choose_parameterisation(_mixed_data(10, 30), *args[1:], 0.3, 0.0)["V"]
    assert ten.omega_ref > 0.0 and ten.n_data_dominated == 10 and ten.chosen == "noncentered"
    # three subjects with far richer data (sigma 0.1: I_V ~ 900): floor above 0, still few
    rich = choose_parameterisation(*args, 0.1, 0.0)["V"]
    assert 0.0 < rich.omega_ref < 0.2 and rich.chosen == "noncentered"
    # FEW_INFORMED_SUBJECTS informed subjects: partially centered, informed ones near 1
    enough = choose_parameterisation(_mixed_data(FEW_INFORMED_SUBJECTS, 20), *args[1:], 0.3,
                                     0.0)["V"]
    assert enough.n_data_dominated == FEW_INFORMED_SUBJECTS and enough.chosen == "partial"
    assert enough.weights[:FEW_INFORMED_SUBJECTS].min() > 0.5


def test_target_accept_rises_when_few_subjects_inform_an_effect():
    args = (PopPKSpec(), {"CL": 2.0, "V": 6.0}, {"CL": 0.7, "V": 0.4}, 0.3, 0.0)
    few = choose_parameterisation(_mixed_data(10, 30), *args)
    assert auto_target_accept(few) == TARGET_ACCEPT_FEW == 0.99
    many = choose_parameterisation(_mixed_data(FEW_INFORMED_SUBJECTS, 20), *args)
    assert auto_target_accept(many) == TARGET_ACCEPT == 0.8
    assert auto_target_accept({}) == TARGET_ACCEPT  # no random effects


def test_sampler_precision_is_double_exactly_where_target_accept_rises():
    args = (PopPKSpec(), {"CL": 2.0, "V": 6.0}, {"CL": 0.7, "V": 0.4}, 0.3, 0.0)
    few = choose_parameterisation(_mixed_data(10, 30), *args)
    many = choose_parameterisation(_mixed_data(FEW_INFORMED_SUBJECTS, 20), *args)
    assert auto_precision(few) == "float64" and auto_precision(many) == "float32"
    assert auto_precision({}) == "float32"


def test_centering_weights_hand_values():
    np.testing.assert_allclose(centering_weights(np.array([0.0, 1.0, 3.0, np.nan, np.inf])),
                               [0.0, 0.5, 0.75, 0.0, 1e12 / (1 + 1e12)])


def test_user_choice_and_correlated_block():
    data = _data((100.0, 200.0))
    spec = PopPKSpec(parameterisation={"CL": "noncentered"})
    ch = choose_parameterisation(data, spec, {"CL": 2.0, "V": 6.0}, {"CL": 0.7, "V": 0.4},
                                 0.25, 0.0)
    assert ch["CL"].requested == "noncentered" and ch["CL"].chosen == "noncentered"
    corr = choose_parameterisation(data, PopPKSpec(correlation=True), {"CL": 2.0, "V": 6.0},
                                   {"CL": 0.7, "V": 0.4}, 0.25, 0.0)
    assert {c.chosen for c in corr.values()} == {"noncentered"}


def test_build_reports_choice_and_variables():
    rich = build_model(read_dataset(infusion_frame(40, obs_times=RICH_TIMES, hours=24.0,
                                                   sigma=0.1)))
    assert model_info(rich).chosen == {"CL": "partial", "V": "partial"}
    names = {rv.name for rv in rich.free_RVs}
    assert {"psi_CL", "psi_V", "omega_CL", "omega_V", "log_CL", "log_V", "sigma_prop"} <= names
    # five subjects do not pin either omega down: both non-centered
    f = infusion_frame(5, obs_times=(50.0, 100.0), hours=400.0, sigma=0.1)
    model = build_model(read_dataset(f))
    info = model_info(model)
    assert info.chosen == {"CL": "noncentered", "V": "noncentered"}
    assert {"z_CL", "z_V"} <= {rv.name for rv in model.free_RVs}
    assert model.coords["obs"] == tuple(info.data.obs_row.tolist())
    forced = model_info(build_model(read_dataset(f), PopPKSpec(parameterisation="centered")))
    assert forced.chosen == {"CL": "centered", "V": "centered"}
    mixed = build_model(read_dataset(f), PopPKSpec(parameterisation={"CL": "centered",
                                                                     "V": "noncentered"}))
    assert {"phi_CL", "z_V"} <= {rv.name for rv in mixed.free_RVs}


@pytest.mark.parametrize("par", ["centered", "noncentered", "partial"])
def test_parameterisations_give_the_same_model(par):
    """Same log-density in the individual parameters, whatever the parameterisation.

    The three forms differ only by the Jacobian of the linear map between
    their latent variable and log P_i, which is a function of omega alone
    (and of w): with omega and the individual parameters fixed, the
    log-densities agree up to that constant. Checked at two points that differ
    in the individual parameters only.
    """
    f = infusion_frame(5, obs_times=(1.0, 50.0, 100.0), hours=400.0, sigma=0.1)
    ds = read_dataset(f)
    ref = build_model(ds, PopPKSpec(parameterisation="centered"))
    model = build_model(ds, PopPKSpec(parameterisation=par))
    info = model_info(model)
    rng = np.random.default_rng(4)
    diffs = []
    for shift in (0.0, 0.3):
        log_ind = {p: info.initvals[f"log_{p}"] + shift * rng.normal(size=5)
                   for p in ("CL", "V")}
        common = {k: v for k, v in info.initvals.items()
                  if not k.startswith(("phi_", "z_", "psi_"))}
        lp = []
        for m in (ref, model):
            mi = model_info(m)
            point = dict(common)
            for p in ("CL", "V"):
                mu = np.full(5, info.initvals[f"log_{p}"])
                omega = info.initvals[f"omega_{p}"]
                c = mi.chosen[p]
                if c == "centered":
                    point[f"phi_{p}"] = log_ind[p]
                elif c == "noncentered":
                    point[f"z_{p}"] = (log_ind[p] - mu) / omega
                else:
                    w = mi.parameterisation[p].weights
                    point[f"psi_{p}"] = w * mu + (log_ind[p] - mu) / omega ** (1 - w)
            ip = m.initial_point()
            vals = {}
            for v in m.value_vars:
                name = v.name.replace("_log__", "")
                val = point.get(name, ip[v.name])
                vals[v.name] = np.log(val) if v.name.endswith("_log__") else val
            fn = m.compile_logp(jacobian=False)
            lp.append(float(fn(vals)))
        diffs.append(lp[1] - lp[0])
    assert np.isfinite(diffs).all()
    assert diffs[0] == pytest.approx(diffs[1], abs=1e-8)


def test_partial_initvals_start_at_the_subject_estimates():
    """The partial start maps back to the same individual log CL as the centered start."""
    f = infusion_frame(5, obs_times=(50.0, 100.0), hours=400.0, sigma=0.1)
    ds = read_dataset(f)
    part = model_info(build_model(ds, PopPKSpec(parameterisation="partial")))
    cent = model_info(build_model(ds, PopPKSpec(parameterisation="centered")))
    w = part.parameterisation["CL"].weights
    mu = part.initvals["log_CL"]
    om = part.initvals["omega_CL"]
    back = mu + om ** (1 - w) * (part.initvals["psi_CL"] - w * mu)
    np.testing.assert_allclose(back, cent.initvals["phi_CL"], rtol=1e-12)


def test_partial_rejected_with_correlation():
    from blinapk.errors import ModelSpecError

    with pytest.raises(ModelSpecError, match="partial"):
        PopPKSpec(correlation=True, parameterisation="partial")
    with pytest.raises(ModelSpecError, match="partial"):
        PopPKSpec(correlation=True, parameterisation={"CL": "partial"})


@pytest.mark.slow
@pytest.mark.parametrize("spec", [
    PopPKSpec(correlation=True),
    PopPKSpec(correlation=True, parameterisation="centered"),
    PopPKSpec(covariates=("CL~SEX:categorical", "V~WT:exponential", "CL~AGE:linear")),
    PopPKSpec(covariates=("CL~WT:power",)),  # WT is time-varying in this frame
    PopPKSpec(structure="2cmt", bsv=("CL", "V", "Q"), residual="additive", blq="M1"),
], ids=["lkj-nc", "lkj-c", "cov-forms", "time-varying", "2cmt"])
def test_model_variants_have_finite_logp_and_gradient(spec):
    f = infusion_frame(6, obs_times=(1.0, 4.0, 24.0, 48.0), sigma=0.2, seed=3)
    f = f.assign(SEX=np.where(f["ID"] % 2 == 0, "F", "M"), AGE=30.0 + 5 * f["ID"],
                 WT=np.where(f["TIME"] >= 24.0, 72.0, 70.0) + f["ID"])
    model = build_model(read_dataset(f), spec)
    info = model_info(model)
    from pymc.initial_point import make_initial_point_fn

    point = make_initial_point_fn(model=model, overrides=dict(info.initvals),
                                  return_transformed=True, jitter_rvs=set())(0)
    assert np.isfinite(model.compile_logp()(point))
    assert np.all(np.isfinite(model.compile_dlogp()(point)))
    if spec.correlation:
        assert "corr_eta" in model.named_vars and len(set(info.chosen.values())) == 1
    if spec.covariates and spec.covariates[0].covariate == "WT":
        assert info.data.time_varying == ("WT",)
    if spec.covariates and spec.covariates[0].form == "categorical":
        # 3 F / 3 M: the tie goes to the first level seen (ID 1, "M"), the reference
        assert model.coords["level_CL_SEX"] == ("F",)


def test_folded_sigma_add_is_the_same_model(monkeypatch):
    """Combined error: sigma_add = |x|, x ~ N(0, s) is HalfNormal(s) on sigma_add.

    The folded normal density of x is the half-normal density of |x| divided
    by 2, so with every other value fixed the two log-densities differ by the
    constant log 2 at every sigma_add (checked at two values).
    """
    import blinapk.poppk.build as B

    f = infusion_frame(5, obs_times=(1.0, 50.0, 100.0), hours=400.0, sigma=0.1)
    ds = read_dataset(f)
    spec = PopPKSpec(residual="combined")
    folded = build_model(ds, spec)
    assert B.SIGMA_ADD_FOLDED in {rv.name for rv in folded.free_RVs}
    assert "sigma_add" in folded.named_vars and "sigma_add" in B.gated_variables(folded)
    assert B.SIGMA_ADD_FOLDED not in B.gated_variables(folded)
    assert B.SIGMA_ADD_FOLDED in model_info(folded).initvals
    monkeypatch.setattr(B, "folds_sigma_add", lambda spec, priors: False)
    plain = build_model(ds, spec)
    assert "sigma_add" in {rv.name for rv in plain.free_RVs}
    diffs = []
    for sa in (3.0, 25.0):
        lp = []
        for m, name in ((folded, B.SIGMA_ADD_FOLDED), (plain, "sigma_add_log__")):
            point = m.initial_point()
            point[name] = -sa if name == B.SIGMA_ADD_FOLDED else np.log(sa)
            lp.append(float(m.compile_logp(jacobian=False)(point)))
        diffs.append(lp[1] - lp[0])
    assert diffs[0] == pytest.approx(np.log(2.0), abs=1e-9)
    assert diffs[1] == pytest.approx(np.log(2.0), abs=1e-9)
    # the additive model keeps the usual log-transformed variable
    add = build_model(ds, PopPKSpec(residual="additive"))
    assert "sigma_add" in {rv.name for rv in add.free_RVs}


def test_a_floor_of_zero_outside_small_trials_keeps_the_effect_partial():
    """Robustness trial N = 200, seed 17: more than 20 subjects inform V, yet its floor is 0.
    Not a small trial, so V is partially centered with the weights at the nominal omega."""
    from blinapk.simulate import simulate_trial

    trial = simulate_trial(200, seed=17, cytokines=False)
    spec = PopPKSpec(covariates=("CL~BSA:power@1.88",), residual="combined")
    info = model_info(build_model(read_dataset(trial.data), spec))
    v = info.parameterisation["V"]
    assert v.omega_lo == 0.0 and v.n_data_dominated >= FEW_INFORMED_SUBJECTS
    assert v.chosen == "partial" and v.omega_ref == pytest.approx(info.init.omega["V"])
    assert v.weights.max() > 0.5 and "psi_V" in info.initvals
    assert auto_target_accept(info.parameterisation) == TARGET_ACCEPT
