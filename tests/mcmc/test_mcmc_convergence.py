"""Convergence gates (blinapk.mcmc.convergence) on synthetic draws with known defects."""

import arviz as az
import numpy as np
import pytest

from blinapk.errors import ConvergenceWarning
from blinapk.mcmc.convergence import (
    ConvergenceGates,
    check_convergence,
    warn_if_failed,
)


def _idata(posterior, diverging=None, energy=None):
    stats = {}
    if diverging is not None:
        stats["diverging"] = diverging
    if energy is not None:
        stats["energy"] = energy
    return az.from_dict(posterior=posterior, sample_stats=stats or None)


def _ar1(rng, shape, rho):
    x = np.empty(shape)
    x[:, 0] = rng.standard_normal(shape[0])
    for t in range(1, shape[1]):
        x[:, t] = rho * x[:, t - 1] + np.sqrt(1 - rho**2) * rng.standard_normal(shape[0])
    return x


def test_good_draws_pass():
    rng = np.random.default_rng(1)
    idata = _idata({"a": rng.normal(size=(4, 1000)), "b": rng.normal(size=(4, 1000, 3))},
                   diverging=np.zeros((4, 1000), bool), energy=rng.normal(size=(4, 1000)))
    report = check_convergence(idata)
    assert report.passed and report.message() == ""
    assert set(report.to_frame()["GATE"]) == {"rhat", "ess_bulk", "ess_tail", "divergences",
                                             "ebfmi"}


def test_shifted_chain_fails_rhat_and_names_variable():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(4, 1000))
    a[0] += 1.0
    report = check_convergence(_idata({"a": a, "b": rng.normal(size=(4, 1000))}))
    assert not report["rhat"].passed
    assert report["rhat"].worst == ("a",)
    assert "increase tune and draws" in report["rhat"].advice


def test_autocorrelated_draws_fail_ess():
    rng = np.random.default_rng(3)
    report = check_convergence(_idata({"a": _ar1(rng, (2, 400), 0.99)}))
    assert not report["ess_bulk"].passed and report["ess_bulk"].value < 200
    assert report["ess_bulk"].threshold == 200  # 100 per chain x 2 chains


def test_divergences_advice_names_centered_parameters():
    rng = np.random.default_rng(4)
    div = np.zeros((2, 500), bool)
    div[1, 10] = div[0, 3] = True
    report = check_convergence(_idata({"a": rng.normal(size=(2, 500))}, diverging=div),
                               parameterisation={"CL": "centered", "V": "noncentered"})
    d = report["divergences"]
    assert not d.passed and d.value == 2
    assert "target_accept to 0.95" in d.advice and "switch CL to non-centered" in d.advice
    # the advice steps up from the target the draws were made with
    idata = _idata({"a": rng.normal(size=(2, 500))}, diverging=div)
    for used, says in ((0.8, "to 0.95"), (0.95, "to 0.99"), (0.99, "already 0.99: double tune")):
        advice = check_convergence(idata, target_accept=used)["divergences"].advice
        assert says in advice, (used, advice)


def test_low_ebfmi_fails():
    rng = np.random.default_rng(5)
    energy = np.cumsum(rng.normal(size=(2, 1000)), axis=1)  # random walk: E-BFMI ~ 0
    report = check_convergence(_idata({"a": rng.normal(size=(2, 1000))}, energy=energy))
    assert not report["ebfmi"].passed and report["ebfmi"].value < 0.3


def test_single_chain_skips_rhat_and_custom_gates():
    rng = np.random.default_rng(6)
    idata = _idata({"a": rng.normal(size=(1, 300))})
    report = check_convergence(idata, gates=ConvergenceGates(ess_bulk_per_chain=1000))
    assert np.isnan(report["rhat"].value) and report["rhat"].passed
    assert not report["ess_bulk"].passed


def test_warning_emitted_with_advice():
    rng = np.random.default_rng(7)
    a = rng.normal(size=(4, 500))
    a[0] += 2
    report = check_convergence(_idata({"a": a}))
    with pytest.warns(ConvergenceWarning, match="rhat"):
        warn_if_failed(report)


def test_grouped_variables_gated_separately():
    rng = np.random.default_rng(8)
    post = {"pop": rng.normal(size=(2, 1000)), "phi": rng.normal(size=(2, 1000, 50))}
    post["phi"][0, :, 3] += 0.03  # small chain offset on one subject: R-hat ~1.02
    idata = az.from_dict(posterior=post, dims={"phi": ["subject"]})
    plain = check_convergence(idata)
    grouped = check_convergence(idata, group_dim="subject")
    assert set(grouped.to_frame()["GATE"]) >= {"rhat", "rhat_group"}
    assert grouped["rhat"].worst == () and grouped["rhat"].passed
    assert grouped["rhat_group"].threshold == 1.05
    assert plain["rhat"].value == pytest.approx(grouped["rhat_group"].value)
    post["phi"][1, :, 7] += 2.0  # one subject's chains disagree badly
    bad = check_convergence(az.from_dict(posterior=post, dims={"phi": ["subject"]}),
                            group_dim="subject")
    assert not bad["rhat_group"].passed and bad["rhat_group"].worst[0] == "phi[7]"
