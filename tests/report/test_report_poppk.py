"""The population-PK writer: every file with its columns, the Markdown page and the text report."""

import dataclasses
import warnings

import pandas as pd
import pytest

from blinapk.data import read_dataset
from blinapk.datasets import load_example
from blinapk.plotting.poppk import population_var_names
from blinapk.poppk import PopPKSpec, fit, load_fit
from blinapk.report import (
    fit_text,
    population_markdown,
    read_csv,
    write_fit,
    write_fit_figures,
)

POPULATION_COLUMNS = ["PARAMETER", "LABEL", "UNIT", "MEAN", "SD", "MEDIAN", "LOWER", "UPPER",
                      "ESS_BULK", "ESS_TAIL", "R_HAT"]


@pytest.fixture(scope="module")
def small_fit():
    """A short NUTS fit (2 x 60 draws) on eight subjects of the example study."""
    example = load_example()
    frame = example.frame
    ds = read_dataset(frame[frame["ID"].isin(example.subjects[:8])])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # too few draws for the convergence gates
        result = fit(ds, PopPKSpec(covariates=("CL~BSA:power",)), draws=60, tune=60, chains=2,
                     seed=1, progressbar=False)
    return ds, result


def test_write_fit_writes_every_file_with_its_columns(small_fit, tmp_path, monkeypatch):
    ds, result = small_fit
    summary = result.summary(ci=0.8)

    def no_second_summary(*args, **kwargs):
        raise AssertionError("the population summary was computed twice")

    monkeypatch.setattr(type(result), "summary", no_second_summary)
    paths = write_fit(result, tmp_path / "out", summary=summary, ci=0.8)
    files = {"summary": "summary.csv", "individual": "individual.csv", "css": "css_predicted.csv",
             "shrinkage": "shrinkage.csv", "summary_md": "summary.md", "ledger": "ledger.csv",
             "netcdf": "fit.nc", "trace": "trace.png", "rank": "rank.png", "pair": "pair.png"}
    assert paths == {key: tmp_path / "out" / name for key, name in files.items()}
    assert list(paths) == list(files)
    assert all(path.stat().st_size > 0 for path in paths.values())
    table = pd.read_csv(paths["summary"], keep_default_na=False, na_values=["NA", "nan"])
    assert list(table.columns) == POPULATION_COLUMNS
    assert table["PARAMETER"].tolist() == summary["PARAMETER"].tolist()
    individual = read_csv(paths["individual"])
    assert list(individual.columns[:5]) == ["ID", "CL_MEAN", "CL_MEDIAN", "CL_LOWER", "CL_UPPER"]
    assert {"ETA_CL_MEAN", "ETA_CL_SD", "V_MEAN"} <= set(individual.columns)
    assert len(individual) == 8
    assert individual.attrs["units"]["CL_MEAN"] == "L/h"
    css = read_csv(paths["css"])
    assert list(css.columns) == ["ID", "RATE", "DOSE_PER_DAY", "CSS_MEAN", "CSS_MEDIAN",
                                 "CSS_LOWER", "CSS_UPPER"]
    assert css.attrs["units"]["CSS_MEAN"] == "pg/mL"
    shrinkage = read_csv(paths["shrinkage"])
    assert list(shrinkage.columns) == ["PARAMETER", "OMEGA", "SD_ETA", "SHRINKAGE_PCT"]
    expected = result.shrinkage()["SHRINKAGE"].to_numpy() * 100
    assert shrinkage["SHRINKAGE_PCT"].to_numpy() == pytest.approx(expected)
    ledger = read_csv(paths["ledger"], keep_default_na=False)
    assert {"STATUS", "REASON"} <= set(ledger.columns)
    md = paths["summary_md"].read_text(encoding="utf-8")
    for heading in ("# Population-PK fit (1cmt, nuts, ", "## Population parameters (80 % "
                    "credible intervals)", "## Eta shrinkage", "## Convergence gates",
                    "## Rows", "## Timings (s)"):
        assert heading in md
    assert "| TV_CL | typical clearance | L/h |" in md
    reloaded = load_fit(paths["netcdf"], ds)
    assert reloaded.seed == result.seed


def test_individual_estimates_carry_covariates_and_doses_per_day_are_exact(small_fit,
                                                                          tmp_path):
    ds, result = small_fit
    paths = write_fit(result, tmp_path, figures=False, dataset=ds)
    individual = read_csv(paths["individual"])
    covs = ds.covariates(["BSA", "WT", "AGE", "SEX"])
    merged = individual.merge(covs, on="ID", suffixes=("", "_DATA"))
    assert len(merged) == 8
    for col in ("BSA", "WT", "AGE", "SEX"):
        assert (merged[col] == merged[f"{col}_DATA"]).all(), col
    assert individual.attrs["units"]["BSA"] == "m2"
    # rates are kept to 9 decimals: 24 x 0.177083333 would print as 4.249999992 ug/day
    per_day = read_csv(paths["css"])["DOSE_PER_DAY"]
    assert all(len(f"{v!r}") <= 8 for v in per_day), per_day.tolist()


def test_write_fit_refuses_a_summary_with_another_interval(small_fit, tmp_path):
    _, result = small_fit
    with pytest.raises(ValueError, match="ci"):
        write_fit(result, tmp_path, summary=result.summary(ci=0.5), ci=0.9)


def test_figures_follow_the_method_and_the_draws(small_fit, tmp_path):
    _, result = small_fit
    assert population_var_names(result) == ["typical", "omega_CL", "omega_V", "beta_CL_BSA",
                                            "sigma_prop"]
    laplace = dataclasses.replace(result, method="laplace")
    assert list(write_fit_figures(laplace, tmp_path)) == ["pair"]
    one_draw = dataclasses.replace(result, idata=result.idata.isel(draw=[0]))
    assert write_fit_figures(one_draw, tmp_path) == {}
    assert not any(p.suffix == ".png" for p in
                   write_fit(result, tmp_path / "nofig", figures=False).values())


def test_fit_text_and_population_markdown(small_fit):
    _, result = small_fit
    summary = result.summary()
    text = fit_text(result, summary, {"summary": "out/summary.csv"})
    lines = text.split("\n")
    n_obs = result.idata.observed_data["conc"].size
    assert lines[0].startswith(f"fitted 8 subjects, {n_obs} observations (nuts, ")
    assert lines[1].split()[0] == "TV_CL" and lines[1].endswith("L/h")
    assert lines[len(summary)].split()[0] == summary["PARAMETER"].iloc[-1]
    assert lines[-1] == "  summary: out/summary.csv"
    md = population_markdown(summary, blank_unit="-")
    assert "| OMEGA_CL | BSV of CL (log-scale SD) | - |" in md
    assert "| OMEGA_CL | BSV of CL (log-scale SD) |  |" in population_markdown(summary)


def test_fit_figures_hide_arviz_chatter_only(small_fit, tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    import blinapk.plotting
    from blinapk.errors import ConvergenceWarning

    _, result = small_fit

    def noisy_pair(fit):
        warnings.warn_explicit("layout chatter", UserWarning, "arviz/plots/pairplot.py", 1,
                               module="arviz.plots.pairplot")
        warnings.warn("R-hat above 1.01", ConvergenceWarning, stacklevel=1)
        return plt.figure()

    monkeypatch.setattr(blinapk.plotting, "plot_pair", noisy_pair)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        write_fit_figures(dataclasses.replace(result, method="laplace"), tmp_path)
    assert [str(w.message) for w in rec] == ["R-hat above 1.01"]
