"""The same kernels under PyTensor and JAX: values equal numpy, gradients finite and right."""

import numpy as np
import pytest

from blinapk.pk import DoseMatrix, predict_conc

RNG = np.random.default_rng(11)
# Python-linker compilation keeps the suite fast on a fresh cache; the PyMC path
# (default C linker, dense 2-cmt) is exercised once with DEFAULT_MODE.
FAST = "FAST_COMPILE"
DEFAULT_MODE = None
# 3 subjects: step infusion with a gap + bolus; overlapping infusions; bolus only
DOSES = DoseMatrix(
    time=[[0.0, 24.0, 30.0, 48.0], [0.0, 2.0, 0.0, 0.0], [5.0, 0.0, 0.0, 0.0]],
    amt=[[9.0, 7.0, 2.0, 28.0], [12.0, 3.0, 0.0, 0.0], [4.0, 0.0, 0.0, 0.0]],
    duration=[[24.0, 6.0, 0.0, 24.0], [6.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]],
)
SUBJ = np.repeat([0, 1, 2], 12)
TIMES = np.concatenate(
    [
        [0.0, 1.0, 24.0, 29.5, 30.0, 31.0, 47.9, 48.0, 60.0, 72.0, 90.0, 500.0],
        [0.0, 1.0, 2.0, 2.5, 3.0, 5.0, 6.0, 7.0, 10.0, 20.0, 40.0, 300.0],
        [0.0, 4.99, 5.0, 5.5, 6.0, 8.0, 10.0, 12.0, 24.0, 48.0, 96.0, 1000.0],
    ]
)
PARAMS = {
    "1cmt": {"CL": np.array([2.22, 4.0, 0.7]), "V": np.array([5.98, 3.0, 9.0])},
    "2cmt": {
        "CL": np.array([2.22, 4.0, 0.7]),
        "V": np.array([5.98, 3.0, 9.0]),
        "Q": np.array([0.5, 3.0, 0.05]),
        "V2": np.array([3.0, 20.0, 1.0]),
    },
}
WEIGHTS = RNG.uniform(0.5, 1.5, TIMES.size)


def _loss_np(params, model):
    c = predict_conc(TIMES, SUBJ, DOSES, params, model, method="dense")
    return float(np.sum(WEIGHTS * np.log1p(c)))


def _fd_grad(params, model, h=1e-6):
    grads = {}
    for name, val in params.items():
        g = np.zeros_like(val)
        for i in range(val.size):
            up, dn = dict(params), dict(params)
            up[name] = val.copy()
            dn[name] = val.copy()
            up[name][i] *= 1 + h
            dn[name][i] *= 1 - h
            g[i] = (_loss_np(up, model) - _loss_np(dn, model)) / (2 * h * val[i])
        grads[name] = g
    return grads


@pytest.mark.parametrize("model", ["1cmt", "2cmt"])
@pytest.mark.parametrize("method", ["dense", "segments"])
def test_pytensor_values_and_gradients(model, method):
    pytensor = pytest.importorskip("pytensor")
    pt = pytensor.tensor
    names = list(PARAMS[model])
    sym = {n: pt.dvector(n) for n in names}
    conc = predict_conc(TIMES, SUBJ, DOSES, sym, model, xp=pt, method=method)
    loss = pt.sum(WEIGHTS * pt.log1p(conc))
    grads = pt.grad(loss, [sym[n] for n in names])
    mode = DEFAULT_MODE if (model, method) == ("2cmt", "dense") else FAST
    f = pytensor.function([sym[n] for n in names], [conc, *grads], mode=mode)
    out = f(*[PARAMS[model][n] for n in names])
    ref = predict_conc(TIMES, SUBJ, DOSES, PARAMS[model], model, method="dense")
    np.testing.assert_allclose(out[0], ref, rtol=1e-10, atol=1e-12)
    assert ref.max() > 100 and (ref == 0).any()  # covers pre-dose zeros and real levels
    fd = _fd_grad(PARAMS[model], model)
    for n, g in zip(names, out[1:], strict=True):
        assert np.all(np.isfinite(g))
        np.testing.assert_allclose(g, fd[n], rtol=1e-5, atol=1e-7, err_msg=n)


def test_pytensor_gradients_finite_at_extremes():
    """Huge/small rates, far-future and pre-dose times, both macro-constant branches."""
    pytensor = pytest.importorskip("pytensor")
    pt = pytensor.tensor
    dm = DoseMatrix(time=[[1e4, 0.0]] * 4, amt=[[10.0, 1.0]] * 4, duration=[[24.0, 0.0]] * 4)
    times = np.tile([0.0, 1e4, 1e4 + 1e-9, 2e4, 1e6], 4)
    subj = np.repeat(np.arange(4), 5)
    vals = {
        "CL": np.array([1e4, 1e-4, 2.0, 2.0]),
        "V": np.array([0.5, 500.0, 4.0, 4.0]),
        "Q": np.array([1e-8, 1e3, 1.0, 2.0]),
        "V2": np.array([1e3, 1e-2, 2.5, 4.0]),  # subject 3: k10+k12-k21 = 0 exactly
    }
    sym = {n: pt.dvector(n) for n in vals}
    for method in ("dense", "segments"):
        conc = predict_conc(times, subj, dm, sym, "2cmt", xp=pt, method=method)
        grads = pt.grad(pt.sum(conc), list(sym.values()))
        out = pytensor.function(list(sym.values()), [conc, *grads], mode=FAST)(*vals.values())
        for arr in out:
            assert np.all(np.isfinite(arr)), method


def test_pytensor_per_observation_params_match_subject_params():
    pytensor = pytest.importorskip("pytensor")
    pt = pytensor.tensor
    cl, v = pt.dvector("cl"), pt.dvector("v")
    conc = predict_conc(TIMES, SUBJ, DOSES, {"CL": cl, "V": v}, xp=pt, per_observation=True)
    f = pytensor.function([cl, v], conc, mode=FAST)
    p = PARAMS["1cmt"]
    np.testing.assert_allclose(
        f(p["CL"][SUBJ], p["V"][SUBJ]), predict_conc(TIMES, SUBJ, DOSES, p), rtol=1e-12
    )


@pytest.mark.parametrize("model", ["1cmt", "2cmt"])
@pytest.mark.parametrize("method", ["dense", "segments"])
def test_jax_values_and_grad(model, method):
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    names = list(PARAMS[model])
    ref = predict_conc(TIMES, SUBJ, DOSES, PARAMS[model], model, method="dense")
    fd = _fd_grad(PARAMS[model], model)
    with jax.enable_x64(True):

        def loss(p):
            c = predict_conc(TIMES, SUBJ, DOSES, p, model, xp=jnp, method=method)
            return jnp.sum(jnp.asarray(WEIGHTS) * jnp.log1p(c)), c

        p = {n: jnp.asarray(PARAMS[model][n]) for n in names}
        (val, conc), grads = jax.jit(jax.value_and_grad(loss, has_aux=True))(p)
        np.testing.assert_allclose(np.asarray(conc), ref, rtol=1e-10, atol=1e-12)
        for n in names:
            g = np.asarray(grads[n])
            assert np.all(np.isfinite(g))
            np.testing.assert_allclose(g, fd[n], rtol=1e-5, atol=1e-7, err_msg=n)
