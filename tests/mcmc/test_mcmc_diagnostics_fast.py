"""Vectorised R-hat / bulk and tail ESS (blinapk.mcmc.diagnostics_fast) equal ArviZ's."""

import warnings
import zlib

import arviz as az
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import rankdata

from blinapk.mcmc import diagnostics_fast as fast
from blinapk.mcmc.convergence import (
    ConvergenceGates,
    ConvergenceReport,
    GateResult,
    check_convergence,
)

RTOL = 1e-10


def _arviz(x):
    """ArviZ's rank R-hat, bulk ESS and tail ESS of a (chain, draw, k) array."""
    ds = az.convert_to_dataset(np.asarray(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return (az.rhat(ds, method="rank")["x"].values, az.ess(ds, method="bulk")["x"].values,
                az.ess(ds, method="tail")["x"].values)


def _assert_same(actual, expected):
    expected = np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=0)


def _assert_all_same(x):
    rhat, bulk, tail = _arviz(x)
    _assert_same(fast.rhat_rank(x), rhat)
    _assert_same(fast.ess_bulk(x), bulk)
    _assert_same(fast.ess_tail(x), tail)
    for got, want in zip(fast.rank_diagnostics(x), (rhat, bulk, tail), strict=True):
        _assert_same(got, want)


def _ar1(rng, shape, phi):
    x = np.empty(shape)
    x[:, 0] = rng.standard_normal((shape[0], *shape[2:]))
    for t in range(1, shape[1]):
        x[:, t] = phi * x[:, t - 1] + np.sqrt(1 - phi**2) * rng.standard_normal(
            (shape[0], *shape[2:]))
    return x


def _case(name):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    if name == "normal":
        return rng.normal(size=(4, 400, 12))
    if name == "ar1":
        return _ar1(rng, (4, 500, 10), 0.95)
    if name == "ar1_two_chains_odd":
        return _ar1(rng, (2, 301, 8), 0.99)
    if name == "student_t2":
        return rng.standard_t(2, size=(2, 500, 10))
    if name == "different_means":
        return rng.normal(size=(4, 300, 10)) + np.linspace(0, 1.5, 4)[:, None, None] \
            * rng.uniform(0, 1, 10)
    if name == "odd_draws":
        return rng.normal(size=(3, 201, 6))
    if name == "one_chain":
        return _ar1(rng, (1, 400, 6), 0.5)
    if name == "four_chains":
        return rng.normal(size=(4, 100, 6))
    if name == "integer_ties":
        return rng.poisson(0.7, size=(4, 200, 10)).astype(float)
    if name == "integer_dtype":
        return rng.poisson(0.3, size=(2, 150, 6))
    if name == "constant_element":
        x = rng.normal(size=(2, 100, 4))
        x[:, :, 2] = 3.25
        return x
    if name == "stuck_chains":  # every chain constant at its own value
        x = np.repeat(np.array([0.0, 1.0, 2.0])[:, None, None], 60, axis=1) * np.ones(3)
        x[:, :, 1] *= 3.7
        return x
    if name == "minimum_draws":
        return rng.normal(size=(2, 4, 5))
    if name == "five_and_seven_draws":
        return rng.normal(size=(3, 7, 5))[:, :5]
    if name == "nan_and_inf":
        x = rng.normal(size=(2, 200, 5))
        x[1, 7, 0] = np.nan
        x[0, 3, 1] = np.inf
        x[:, :, 2] = -np.inf
        x[0, :100, 3] = np.inf
        return x
    if name == "float32":
        return rng.normal(size=(2, 300, 6)).astype(np.float32)
    raise KeyError(name)


CASES = ["normal", "ar1", "ar1_two_chains_odd", "student_t2", "different_means", "odd_draws",
         "one_chain", "four_chains", "integer_ties", "integer_dtype", "constant_element",
         "stuck_chains", "minimum_draws", "five_and_seven_draws", "nan_and_inf", "float32"]


@pytest.mark.parametrize("name", CASES)
def test_equals_arviz(name):
    _assert_all_same(_case(name))


@pytest.mark.parametrize("name", ["integer_ties", "stuck_chains", "ar1_two_chains_odd",
                                  "constant_element"])
def test_equals_arviz_without_numba(name, monkeypatch):
    # without numba ArviZ takes variances with numpy.var; so does the module
    monkeypatch.setattr(az.utils.Numba, "numba_flag", False)
    monkeypatch.setattr(fast, "_SEQUENTIAL_VARIANCE", False)
    _assert_all_same(_case(name))


def test_known_special_values():
    x = _case("constant_element")
    rhat, bulk, tail = fast.rank_diagnostics(x)
    assert np.isnan(rhat[2])
    assert bulk[2] == tail[2] == 2 * 100  # split draws of a constant element
    one = fast.rank_diagnostics(_case("one_chain"))
    assert np.isnan(one[0]).all() and np.isfinite(one[1]).all()
    short = fast.rank_diagnostics(np.zeros((2, 3, 2)) + np.arange(3)[:, None])
    assert all(np.isnan(v).all() for v in short)


def test_shapes_and_chunking(monkeypatch):
    x = np.random.default_rng(5).normal(size=(2, 120, 2, 3))
    full = fast.rank_diagnostics(x)
    assert all(v.shape == (2, 3) for v in full)
    assert fast.rhat_rank(x[..., 0, 0]).shape == ()
    np.testing.assert_array_equal(fast.ess_bulk(x[..., 1, 2]), full[1][1, 2])
    monkeypatch.setattr(fast, "_CHUNK_DRAWS", 500)  # two elements per chunk
    for a, b in zip(fast.rank_diagnostics(x), full, strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="chain, draw"):
        fast.rhat_rank(np.zeros(10))


def test_z_scale_uses_average_ranks_of_ties():
    rng = np.random.default_rng(6)
    a = rng.integers(0, 5, size=(3, 2, 40)).astype(float)
    from arviz.stats.diagnostics import _z_scale

    want = np.stack([_z_scale(row) for row in a])
    np.testing.assert_array_equal(fast._z_scale(a), want)
    s = np.sort(a.reshape(3, -1), axis=-1)
    np.testing.assert_array_equal(fast._tie_ranks(s) / 2 + 1,
                                  np.stack([rankdata(row) for row in s]))


@st.composite
def _draws(draw):
    n_chain = draw(st.integers(1, 4))
    n_draw = draw(st.integers(4, 160))
    k = draw(st.integers(1, 5))
    kind = draw(st.sampled_from(["normal", "ar", "ints", "t", "shifted"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = (n_chain, n_draw, k)
    if kind == "normal":
        return rng.normal(size=shape)
    if kind == "ar":
        return _ar1(rng, shape, draw(st.floats(0.0, 0.99)))
    if kind == "ints":
        return rng.poisson(draw(st.floats(0.05, 3.0)), size=shape).astype(float)
    if kind == "t":
        return rng.standard_t(2, size=shape)
    return rng.normal(size=shape) + rng.uniform(0, 2, size=(n_chain, 1, k))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_draws())
def test_property_equals_arviz(x):
    _assert_all_same(x)


# --------------------------------------------------------------------------------------
# check_convergence: the report equals the one computed from ArviZ's statistics


def _flatten(ds):
    out = {}
    for name, da in ds.data_vars.items():
        values = np.asarray(da.values, dtype=float)
        if values.ndim == 0:
            out[str(name)] = float(values)
            continue
        for idx, v in da.to_series().items():
            key = idx if isinstance(idx, tuple) else (idx,)
            out[f"{name}[{', '.join(str(k) for k in key)}]"] = float(v)
    return pd.Series(out, dtype=float)


def _worst(s, bad, ascending):
    return tuple(s[bad].sort_values(ascending=ascending).index[:5])


def _expected_gates(idata, var_names, gates, group_dim):
    """The R-hat and ESS gates from az.rhat / az.ess (what check_convergence did before)."""
    post = idata.posterior if var_names is None else idata.posterior[list(var_names)]
    n_chains = post.sizes["chain"]
    gdims = {group_dim} if isinstance(group_dim, str) else set(group_dim or ())
    grouped = [n for n, da in post.data_vars.items() if gdims & set(da.dims)]
    parts = [("rhat", [n for n in post.data_vars if n not in grouped], gates.rhat_max)]
    if grouped:
        parts.append(("rhat_group", grouped, gates.group_rhat_max))
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for gate, names, limit in parts:
            if n_chains < 2 or not names:
                out.append((gate, np.nan, limit, True, ()))
                continue
            rhat = _flatten(az.rhat(post[names], method="rank"))
            bad = rhat > limit
            out.append((gate, float(rhat.max()), limit, not bad.any(), _worst(rhat, bad, False)))
        for kind, per_chain in (("bulk", gates.ess_bulk_per_chain),
                                ("tail", gates.ess_tail_per_chain)):
            ess = _flatten(az.ess(post, method=kind))
            need = per_chain * n_chains
            bad = ess < need
            out.append((f"ess_{kind}", float(ess.min()), need, not bad.any(),
                        _worst(ess, bad, True)))
    return out


def _poppk_idata(n_chain=2, n_draw=300, seed=11):
    rng = np.random.default_rng(seed)
    n_subj = 40
    psi = rng.normal(size=(n_chain, n_draw, n_subj))
    psi[..., 3] = _ar1(rng, (n_chain, n_draw), 0.97)  # low ESS
    psi[..., 7] = _ar1(rng, (n_chain, n_draw), 0.9)
    if n_chain > 1:
        psi[0, :, 5] += 1.5  # chains disagree
        psi[0, :, 11] += 0.3
    psi[..., 13] = rng.poisson(0.2, size=(n_chain, n_draw))  # many ties
    posterior = {
        "CL": 2.0 + 0.1 * rng.normal(size=(n_chain, n_draw)),
        "omega": np.abs(rng.normal(size=(n_chain, n_draw, 2))),
        "psi_CL": psi,
        "psi_V": _ar1(rng, (n_chain, n_draw, n_subj), 0.3),
        "sigma": np.abs(rng.normal(size=(n_chain, n_draw))).astype(np.float32),
        "n_out": rng.poisson(2.0, size=(n_chain, n_draw)),
    }
    subjects = [f"S{i:03d}" for i in range(n_subj)]
    return az.from_dict(
        posterior=posterior,
        coords={"subject": subjects, "eta": ["CL", "V"]},
        dims={"psi_CL": ["subject"], "psi_V": ["subject"], "omega": ["eta"]},
        sample_stats={"diverging": rng.random((n_chain, n_draw)) < 0.002,
                      "energy": rng.normal(size=(n_chain, n_draw))},
    )


@pytest.mark.parametrize(("n_chain", "var_names", "group_dim"), [
    (2, None, "subject"),
    (2, None, None),
    (4, ["CL", "psi_CL", "sigma"], ("subject",)),
    (1, None, "subject"),
])
def test_check_convergence_report_as_with_arviz(n_chain, var_names, group_dim):
    idata = _poppk_idata(n_chain=n_chain)
    gates = ConvergenceGates()
    report = check_convergence(idata, var_names=var_names, gates=gates, group_dim=group_dim,
                               parameterisation={"CL": "centered"})
    assert isinstance(report, ConvergenceReport)
    expected = _expected_gates(idata, var_names, gates, group_dim)
    got = [r for r in report.results if r.gate.startswith(("rhat", "ess"))]
    assert [r.gate for r in got] == [e[0] for e in expected]
    for r, (gate, value, threshold, passed, worst) in zip(got, expected, strict=True):
        assert isinstance(r, GateResult)
        np.testing.assert_allclose(r.value, value, rtol=RTOL, equal_nan=True, err_msg=gate)
        assert (r.threshold, r.passed, r.worst) == (threshold, passed, worst), gate
    if n_chain == 2 and group_dim == "subject":  # the defects are found and named
        assert not report["rhat_group"].passed \
            and report["rhat_group"].worst[0] == "psi_CL[S005]"
        assert not report["ess_bulk"].passed and report["ess_bulk"].worst[0].startswith("psi_")
        assert report["rhat_group"].advice and report["ess_bulk"].advice
    assert report["divergences"].value == float(
        np.asarray(idata.sample_stats["diverging"]).sum())
    np.testing.assert_allclose(report["ebfmi"].value, float(np.min(az.bfmi(idata))))


def test_every_element_labelled_and_valued_as_arviz():
    from blinapk.mcmc import convergence

    idata = _poppk_idata(n_chain=3, n_draw=151)
    post = idata.posterior
    labels, _, blocks = convergence._elements(post)
    rhat, bulk, tail = convergence._diagnostics(blocks, len(labels))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = (_flatten(az.rhat(post, method="rank")), _flatten(az.ess(post, method="bulk")),
                    _flatten(az.ess(post, method="tail")))
    assert "psi_CL[S032]" in labels and "omega[V]" in labels and "sigma" in labels
    for values, want in zip((rhat, bulk, tail), expected, strict=True):
        got = convergence._series(labels, values)
        assert list(got.index) == list(want.index)
        _assert_same(got.to_numpy(), want.to_numpy())


# --------------------------------------------------------------------------------------
# E-BFMI: ArviZ's az.bfmi without its numba compilation


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4), st.integers(4, 300), st.integers(0, 2**32 - 1),
       st.floats(0.0, 0.99))
def test_ebfmi_equals_arviz(n_chain, n_draw, seed, phi):
    energy = _ar1(np.random.default_rng(seed), (n_chain, n_draw, 1), phi)[..., 0] * 30 + 500
    idata = az.from_dict(sample_stats={"energy": energy})
    np.testing.assert_array_equal(fast.ebfmi(energy), np.atleast_1d(az.bfmi(idata)))
    np.testing.assert_array_equal(fast.ebfmi(energy[0]), fast.ebfmi(energy[:1]))


def test_ebfmi_by_hand_and_without_numba(monkeypatch):
    # energies 1, 3, 2, 4: squared steps 4, 1, 4 (mean 3); variance (ddof 1) 5/3
    assert fast.ebfmi(np.array([[1.0, 3.0, 2.0, 4.0]]))[0] == pytest.approx(1.8, rel=1e-15)
    # a random walk has E-BFMI near 0, independent draws near 2
    rng = np.random.default_rng(1)
    assert fast.ebfmi(np.cumsum(rng.normal(size=(1, 4000)), axis=1))[0] < 0.05
    assert fast.ebfmi(rng.normal(size=(1, 4000)))[0] == pytest.approx(2.0, abs=0.1)
    monkeypatch.setattr(az.utils.Numba, "numba_flag", False)
    monkeypatch.setattr(fast, "_SEQUENTIAL_VARIANCE", False)
    energy = rng.normal(size=(3, 50))
    np.testing.assert_array_equal(fast.ebfmi(energy),
                                  az.bfmi(az.from_dict(sample_stats={"energy": energy})))
