"""``blinapk fit`` and the demo's fit step write every promised file."""

import warnings

import pytest

from blinapk.cli import main
from blinapk.data import write_dataset

pytestmark = pytest.mark.slow


def test_cli_map_writes_outputs(tmp_path, capsys):
    from poppk_helpers import infusion_frame

    from blinapk.data import read_dataset

    data = write_dataset(read_dataset(infusion_frame(8, obs_times=(2.0, 24.0, 48.0), sigma=0.2)),
                         tmp_path / "data.csv")
    out = tmp_path / "out"
    code = main(["fit", str(data), "--model", "one-cmt", "--covariate", "CL~BSA:power",
                 "--out", str(out), "--map", "--seed", "3", "--quiet"])
    assert code == 0
    for name in ("summary.csv", "summary.md", "individual.csv", "css_predicted.csv",
                 "shrinkage.csv", "ledger.csv", "fit.nc", "predictions.csv", "npde_tests.csv",
                 "vpc.csv", "diagnostics.md", "gof.png", "vpc.png", "individual_fits.pdf"):
        assert (out / name).stat().st_size > 0, name
    assert not (out / "loo.csv").exists()  # a MAP fit has one draw: no LOO
    printed = capsys.readouterr().out
    assert "TV_CL" in printed and "NPDE: mean" in printed
    bare = tmp_path / "bare"
    assert main(["fit", str(data), "--out", str(bare), "--map", "--seed", "3", "--quiet",
                 "--no-diagnostics"]) == 0
    assert (bare / "fit.nc").exists() and not (bare / "predictions.csv").exists()
    assert main(["fit", str(data), "--out", str(out), "--covariate", "CL~BSA:cubic"]) == 2


def test_demo_fit_on_example_converges(tmp_path):
    """The shipped example with the demo settings: R-hat <= 1.01, no divergences."""
    from blinapk.commands.demo import fit_step
    from blinapk.datasets import load_example
    from blinapk.poppk import load_fit

    ds = load_example()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        files = fit_step(ds, tmp_path)
    for name in ("summary.csv", "summary.md", "individual.csv", "css_predicted.csv", "ledger.csv",
                 "fit.nc", "trace.png", "rank.png", "pair.png", "predictions.csv",
                 "npde_tests.csv", "loo.csv", "gof.png", "vpc.png", "individual_fits.pdf"):
        assert tmp_path / name in files and (tmp_path / name).exists(), name
    result = load_fit(tmp_path / "fit.nc", ds)
    report = result.convergence
    print("\n" + report.to_frame().to_string())
    print(result.summary()[["PARAMETER", "MEDIAN", "LOWER", "UPPER", "ESS_BULK",
                            "R_HAT"]].to_string())
    assert report["divergences"].value == 0
    assert report["rhat"].value <= 1.01  # population parameters
    assert report["rhat_group"].passed  # per-subject effects (<= 1.05, see ConvergenceGates)
    assert report["ess_bulk"].passed and report["ebfmi"].passed


def test_cli_precision_reaches_the_fit(tmp_path, monkeypatch):
    """``--precision`` is passed to ``fit``; anything but float32/float64 is a usage error."""
    from poppk_helpers import infusion_frame

    import blinapk.poppk as poppk
    from blinapk.data import read_dataset

    data = write_dataset(read_dataset(infusion_frame(4, obs_times=(2.0, 24.0), sigma=0.2)),
                         tmp_path / "data.csv")
    seen = {}

    class Stop(Exception):
        pass

    def fake_fit(*args, **kwargs):
        seen.update(kwargs)
        raise Stop

    monkeypatch.setattr(poppk, "fit", fake_fit)
    for argv, expected in (([], None), (["--precision", "float64"], "float64"),
                           (["--precision", "float32"], "float32")):
        with pytest.raises(Stop):
            main(["fit", str(data), "--out", str(tmp_path / "o"), "--quiet", *argv])
        assert seen["precision"] == expected
    with pytest.raises(SystemExit) as bad:
        main(["fit", str(data), "--out", str(tmp_path / "o"), "--precision", "float16"])
    assert bad.value.code == 2
