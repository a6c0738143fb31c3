"""The bad-input catalogue: one :class:`Case` per malformed dataset, model card or spec.

Not a test module: ``test_reliability_catalogue.py`` runs the table and
``docs/reliability.md`` documents it (a test keeps the two in step). Each case
says what is wrong, how to build it, what blinapk must answer (error class, or
warning class) and what the answer must name: the rule, the column and the
1-based source rows for a data error, the key for a model-spec error.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from blinapk.cards import load_card
from blinapk.data import read_dataset
from blinapk.errors import DataValidationError, DataWarning, ModelSpecError, UnitError

R = 28.0 / 24.0  # 28 ug/day as ug/h

#: A valid file: 2 subjects, one 24-h bag each, 2 samples each (data rows 1-6).
BASE_CSV = f"""ID,TIME,EVID,AMT,RATE,DV,MDV
1,0,1,28,{R!r},0,1
1,2,0,0,0,310,0
1,24,0,0,0,520,0
2,0,1,28,{R!r},0,1
2,6,0,0,0,400,0
2,24,0,0,0,30,0
"""


def base_frame() -> pd.DataFrame:
    """:data:`BASE_CSV` as a DataFrame."""
    return pd.DataFrame({
        "ID": [1, 1, 1, 2, 2, 2], "TIME": [0.0, 2, 24, 0, 6, 24], "EVID": [1, 0, 0, 1, 0, 0],
        "AMT": [28.0, 0, 0, 28, 0, 0], "RATE": [R, 0, 0, R, 0, 0],
        "DV": [0.0, 310, 520, 0, 400, 30], "MDV": [1, 0, 0, 1, 0, 0],
    })


@dataclass(frozen=True)
class Case:
    """One bad input and the answer blinapk owes.

    Parameters
    ----------
    name : str
        Unique case name (also the row label in docs/reliability.md).
    area : str
        ``data``, ``units``, ``card``, ``spec``, ``prior``, ``dosing`` or ``nca``.
    what : str
        What is wrong with the input, in words.
    call : callable
        ``call(tmp_path)`` builds the input and hands it to blinapk.
    expect : type
        Error class (raised) or warning class (emitted, data still processed).
    rule, column, rows : optional
        For a DataValidationError: the violation's rule, column and source rows.
    key : tuple of str
        Substrings the message must contain (the key path, the unit, the value).
    """

    name: str
    area: str
    what: str
    call: Callable[[Path], Any]
    expect: type
    rule: str | None = None
    column: str | None = None
    rows: tuple[int, ...] = ()
    key: tuple[str, ...] = ()


def _lines(text: str = BASE_CSV) -> list[str]:
    return text.splitlines()


def csv(text: str | bytes, **kwargs) -> Callable[[Path], Any]:
    """Write ``text`` as ``data.csv`` and read it.

    The call carries ``csv_bytes`` and ``kwargs``, so that the command-line test can hand the
    same file to ``blinapk validate`` and ``blinapk nca``.
    """
    raw = text.encode("utf-8") if isinstance(text, str) else text

    def call(tmp: Path):
        path = tmp / "data.csv"
        path.write_bytes(raw)
        return read_dataset(path, **kwargs)

    call.csv_bytes = raw
    call.kwargs = kwargs
    return call


def with_line(i: int, line: str) -> str:
    """:data:`BASE_CSV` with data row ``i`` (1-based) replaced by ``line``."""
    lines = _lines()
    lines[i] = line
    return "\n".join(lines) + "\n"


def plus(*lines: str) -> str:
    """:data:`BASE_CSV` with extra data rows appended (rows 7, 8, ...)."""
    return BASE_CSV + "".join(f"{x}\n" for x in lines)


def frame(mutate: Callable[[pd.DataFrame], pd.DataFrame], **kwargs) -> Callable[[Path], Any]:
    """Read ``mutate(base_frame())``."""
    return lambda tmp: read_dataset(mutate(base_frame()), **kwargs)


def _set(df: pd.DataFrame, row: int, col: str, value) -> pd.DataFrame:
    df = df.copy()
    df[col] = df[col].astype(object)
    df.loc[row - 1, col] = value
    return df


def E(name, what, call, rule, column, rows=(), key=()):  # noqa: N802 - table shorthand
    """A data case answered by DataValidationError."""
    return Case(name, "data", what, call, DataValidationError, rule, column, tuple(rows),
                tuple(key))


DATA_CASES: tuple[Case, ...] = (
    E("empty_file", "a 0-byte file", csv(""), "empty", None, key=("empty file",)),
    E("header_only", "a header and no data row", csv(_lines()[0] + "\n"), "empty", None,
      key=("header only",)),
    E("missing_column", "the DV column is absent", csv(BASE_CSV.replace(",DV,", ",CONC,")),
      "missing_column", "DV", key=("CONC",)),
    E("renamed_column", "TIME misspelt TIM", csv(BASE_CSV.replace("TIME", "TIM")),
      "missing_column", "TIME", key=("TIM",)),
    E("duplicate_column", "DV given twice (dv and DV)",
      frame(lambda d: d.assign(dv=d["DV"])), "duplicate_column", "DV"),
    E("text_in_time", "TIME holds 'abc'", csv(with_line(2, "1,abc,0,0,0,310,0")), "non_numeric",
      "TIME", (2,), ("'abc'",)),
    E("text_in_dv", "DV holds '<50' (a BLQ note instead of CENS)",
      csv(with_line(3, "1,24,0,0,0,<50,0")), "non_numeric", "DV", (3,), ("'<50'",)),
    E("decimal_comma", "TIME written 2,5 (decimal comma, quoted)",
      csv(with_line(2, '1,"2,5",0,0,0,310,0')), "non_numeric", "TIME", (2,), ("'2,5'",)),
    E("unit_in_cell", "TIME written '2h'", csv(with_line(2, "1,2h,0,0,0,310,0")), "non_numeric",
      "TIME", (2,), ("'2h'",)),
    E("datetime_time", "TIME given as clock times (datetime64)",
      frame(lambda d: d.assign(TIME=pd.Timestamp("2024-01-01") + pd.to_timedelta(d["TIME"],
                                                                                   unit="h"))),
      "non_numeric", "TIME", (1, 2, 3, 4, 5, 6)),
    E("timedelta_time", "TIME given as timedelta64 (would become nanoseconds)",
      frame(lambda d: d.assign(TIME=pd.to_timedelta(d["TIME"], unit="h"))), "non_numeric",
      "TIME", (1, 2, 3, 4, 5, 6)),
    E("complex_dv", "DV of complex dtype", frame(lambda d: d.assign(DV=d["DV"].astype(complex))),
      "non_numeric", "DV", (1, 2, 3, 4, 5, 6)),
    E("text_covariate", "WT holds 'seventy'",
      frame(lambda d: _set(d.assign(WT=70.0), 2, "WT", "seventy")), "non_numeric", "WT", (2,),
      ("'seventy'",)),
    E("missing_time", "blank TIME", csv(with_line(2, "1,,0,0,0,310,0")), "missing_value", "TIME",
      (2,)),
    E("nonmem_dot_time", "TIME '.' (NONMEM missing)", csv(with_line(5, "2,.,0,0,0,400,0")),
      "missing_value", "TIME", (5,)),
    E("missing_id", "blank ID", csv(with_line(3, ",24,0,0,0,520,0")), "missing_value", "ID",
      (3,)),
    E("missing_evid", "blank EVID", csv(with_line(2, "1,2,,0,0,310,0")), "missing_value", "EVID",
      (2,)),
    E("observed_dv_missing", "MDV 0 but DV blank", csv(with_line(6, "2,24,0,0,0,,0")),
      "missing_dv", "DV", (6,)),
    E("nan_dv_frame", "MDV 0 but DV NaN (DataFrame)", frame(lambda d: _set(d, 5, "DV", np.nan)),
      "missing_dv", "DV", (5,)),
    E("inf_dv", "DV = inf", csv(with_line(2, "1,2,0,0,0,inf,0")), "non_finite", "DV", (2,),
      ("inf",)),
    E("inf_amt", "AMT = -inf on a dose", frame(lambda d: _set(d, 4, "AMT", -math.inf)),
      "non_finite", "AMT", (4,)),
    E("negative_dv", "DV -3 on an observation", csv(with_line(2, "1,2,0,0,0,-3,0")), "negative",
      "DV", (2,), ("-3",)),
    E("negative_amt", "AMT -28 on a dose", csv(with_line(1, f"1,0,1,-28,{R!r},0,1")), "negative",
      "AMT", (1,)),
    E("negative_time", "TIME -2 (before the first dose)", csv(with_line(2, "1,-2,0,0,0,310,0")),
      "negative", "TIME", (2,)),
    E("nonmem_rate_minus_one", "RATE -1 (NONMEM modelled rate)",
      csv(with_line(4, "2,0,1,28,-1,0,1")), "negative", "RATE", (4,), ("-1/-2",)),
    E("negative_lloq", "LLOQ -50", frame(lambda d: d.assign(LLOQ=[50.0, -50, 50, 50, 50, 50])),
      "negative", "LLOQ", (2,)),
    E("negative_bsa", "BSA -1.7 for subject 2",
      frame(lambda d: d.assign(BSA=[1.9, 1.9, 1.9, -1.7, -1.7, -1.7])), "negative", "BSA",
      (4, 5, 6)),
    E("unsorted_times", "TIME goes back within a subject (24 then 1)",
      csv(plus("1,1,0,0,0,200,0")), "time_decreasing", "TIME", (7,), ("TIME 1 after 24",)),
    E("evid_out_of_range", "EVID 4 (reset-and-dose is not supported)",
      csv(with_line(2, "1,2,4,0,0,310,0")), "evid_values", "EVID", (2,)),
    E("evid_fraction", "EVID 0.5", csv(with_line(2, "1,2,0.5,0,0,310,0")), "evid_values",
      "EVID", (2,)),
    E("mdv_out_of_range", "MDV 2", csv(with_line(3, "1,24,0,0,0,520,2")), "mdv_values", "MDV",
      (3,)),
    E("mdv0_on_dose", "MDV 0 on a dose row", csv(with_line(1, f"1,0,1,28,{R!r},0,0")),
      "mdv_non_observation", "MDV", (1,)),
    E("dose_without_amount", "EVID 1 with AMT 0", csv(with_line(4, f"2,0,1,0,{R!r},0,1")),
      "dose_amount", "AMT", (4,)),
    E("dose_without_rate", "EVID 1 with RATE blank", csv(with_line(1, "1,0,1,28,,0,1")),
      "dose_rate_missing", "RATE", (1,)),
    E("dose_coded_as_observation", "a dose written with EVID 0 (AMT 28, MDV 1)",
      csv(with_line(4, f"2,0,0,28,{R!r},0,1")), "dose_amount", "AMT", (4,), ("wrong EVID",)),
    E("duplicated_dose", "the same bag recorded twice (same ID, TIME, AMT, RATE)",
      frame(lambda d: pd.concat([d.iloc[:1].assign(BAG=2), d.assign(BAG=1)],
                                ignore_index=True)), "duplicate_dose", "AMT", (1, 2)),
    E("duplicated_row", "a sample row pasted twice", csv(plus("2,24,0,0,0,30,0")),
      "duplicate_row", None, (7,), ("row 7 = row 6",)),
    E("cens_out_of_range", "CENS 2", frame(lambda d: d.assign(CENS=[0, 0, 0, 0, 2, 0])),
      "cens_values", "CENS", (5,)),
    E("cens_on_dose", "CENS 1 on a dose row", frame(lambda d: d.assign(CENS=[1, 0, 0, 0, 0, 0])),
      "cens_values", "CENS", (1,), ("dose",)),
    E("censored_above_lloq", "CENS 1 but DV 310 > LLOQ 50",
      frame(lambda d: d.assign(CENS=[0, 1, 0, 0, 0, 0])), "cens_above_lloq", "DV", (2,),
      ("DV 310 > LLOQ 50",)),
    E("censored_above_own_lloq", "CENS 1, DV 40 above the row's own LLOQ 20",
      frame(lambda d: d.assign(DV=[0.0, 40, 520, 0, 400, 30], CENS=[0, 1, 0, 0, 0, 0],
                               LLOQ=[20.0] * 6)), "cens_above_lloq", "DV", (2,)),
    E("lod_above_lloq", "LOD 60 > LLOQ 50", frame(lambda d: d.assign(LLOQ=50.0,
                                                                    LOD=[3.0, 60, 3, 3, 3, 3])),
      "lod_above_lloq", "LOD", (2,)),
    E("unknown_dvid", "DVID 'CRP' not registered",
      frame(lambda d: d.assign(DVID=["BLIN", "BLIN", "CRP", "BLIN", "BLIN", "BLIN"])),
      "unknown_dvid", "DVID", (3,), ("CRP",)),
    E("blank_dvid_on_observation", "DVID blank on a sample",
      frame(lambda d: d.assign(DVID=["BLIN", "", "BLIN", "BLIN", "BLIN", "BLIN"])),
      "unknown_dvid", "DVID", (2,)),
    E("subject_without_dose", "subject 3 has samples but no dose",
      csv(plus("3,2,0,0,0,100,0", "3,6,0,0,0,90,0")), "obs_without_dose", "ID", (7, 8),
      ("3",)),
    E("too_many_fields", "a line with 8 fields under a 7-column header",
      csv(with_line(2, "1,2,0,0,0,310,0,99")), "csv_parse", None, key=("line 3",)),
    E("too_few_fields", "a line cut short (MDV and DV missing)", csv(with_line(5, "2,6,0,0,0")),
      "mdv_values", "MDV", (5,)),
    E("row_column_clash", "a user ROW column with a duplicate",
      frame(lambda d: d.assign(ROW=[1, 2, 3, 3, 5, 6])), "row_column", "ROW", (3, 4)),
    E("entirely_empty_column", "a WT column with no value",
      csv(BASE_CSV.replace("MDV\n", "MDV,WT\n").replace(",0\n", ",0,\n").replace(",1\n", ",1,\n")),
      "empty_column", "WT"),
    E("dvid_registry_lod_above_lloq", "registered analyte with lod > lloq",
      frame(lambda d: d, dvids={"CRP": {"lloq": 1.0, "lod": 5.0}}), "dvid_registry", "DVID",
      key=("CRP",)),
)


def _unit(name, what, call, key):
    return Case(name, "units", what, call, UnitError, key=tuple(key))


def _sidecar(text: str) -> Callable[[Path], Any]:
    def call(tmp: Path):
        (tmp / "data.units.toml").write_text(text, encoding="utf-8")
        return csv(BASE_CSV)(tmp)

    return call


UNIT_CASES: tuple[Case, ...] = (
    _unit("unknown_dv_unit", "DV declared in 'furlongs'", csv(BASE_CSV, units={"dv": "furlongs"}),
          ("dv", "furlongs")),
    _unit("unknown_unit_key", "units key 'dose' instead of 'amt'",
          csv(BASE_CSV, units={"dose": "mg"}), ("dose",)),
    _unit("malformed_sidecar", "units sidecar that is not TOML", _sidecar("dv = ng/mL\n"),
          ("data.units.toml",)),
    _unit("sidecar_unknown_unit", "sidecar declares time = 'fortnight'",
          _sidecar('time = "fortnight"\n'), ("fortnight",)),
)


def _warn(name, what, call, key):
    return Case(name, "data", what, call, DataWarning, key=tuple(key))


def _scale(col_factors: dict[str, float]):
    return frame(lambda d: d.assign(**{c: d[c] * f for c, f in col_factors.items()}))


WARNING_CASES: tuple[Case, ...] = (
    _warn("ng_per_ml_declared_pg", "concentrations written in ng/mL, declared pg/mL",
          _scale({"DV": 1e-3}), ("ng/mL",)),
    _warn("dv_1000_times_too_high", "DV 1000x too high (ng/L vs pg/mL slip the other way)",
          _scale({"DV": 1e3}), ("implied clearance",)),
    _warn("amt_in_mg_declared_ug", "AMT and RATE written in mg, declared ug",
          _scale({"AMT": 1e-3, "RATE": 1e-3}), ("implied clearance",)),
)


# ------------------------------------------------------------------ model cards

CARD_TOML = """\
schema_version = 1
name = "test_card"
structure = "1cmt"

[units]
CL = "L/h"
V = "L"

[sources.s]
citation = "Test source"

[typical.CL]
value = 2.22
source = "s"
published = true
flag = "V"

[typical.V]
value = 5.98
source = "s"
published = true
flag = "V"

[omega.CL]
value = 0.7
source = "s"
published = false
flag = "D"
note = "derived"

[residual.prop]
value = 0.25
source = "s"
published = false
flag = "assumed"

[residual.add]
value = 10.0
source = "s"
published = false
flag = "assumed"

[[covariates]]
param = "CL"
covariate = "BSA"
form = "power"
reference = { value = 1.88, source = "s", published = true, flag = "V" }
value = { value = 0.61, source = "s", published = false, flag = "D" }
"""


def card_text(old: str | None = None, new: str = "") -> str:
    """:data:`CARD_TOML` with one exact replacement (checked to apply)."""
    if old is None:
        return CARD_TOML
    assert old in CARD_TOML, old
    return CARD_TOML.replace(old, new, 1)


def _card(text: str) -> Callable[[Path], Any]:
    def call(tmp: Path):
        path = tmp / "card.toml"
        path.write_text(text, encoding="utf-8")
        return load_card(path)

    return call


def C(name, what, old, new, key):  # noqa: N802 - table shorthand
    """A model-card case answered by ModelSpecError naming ``key``."""
    return Case(name, "card", what, _card(card_text(old, new)), ModelSpecError, key=tuple(key))


_CL = '[typical.CL]\nvalue = 2.22'
CARD_CASES: tuple[Case, ...] = (
    C("card_not_toml", "unclosed string (not TOML)", 'name = "test_card"', 'name = "test_card',
      ("invalid TOML",)),
    C("card_empty", "an empty card file", CARD_TOML, "", ("'schema_version'", "missing")),
    C("card_missing_typical", "typical.V absent", '[typical.V]\nvalue = 5.98\nsource = "s"\n'
      'published = true\nflag = "V"\n', "", ("'typical.V'", "missing")),
    C("card_unknown_key", "misspelt optional key 'elimnation'", 'structure = "1cmt"',
      'structure = "1cmt"\nelimnation = "linear"', ("'elimnation'", "unknown key")),
    C("card_negative_omega", "omega.CL = -0.7", "value = 0.7", "value = -0.7",
      ("'omega.CL.value'", "> 0")),
    C("card_zero_typical", "typical CL = 0", _CL, "[typical.CL]\nvalue = 0.0",
      ("'typical.CL.value'", "> 0")),
    C("card_text_value", "typical CL = \"2.22\" (a string)", _CL,
      '[typical.CL]\nvalue = "2.22"', ("'typical.CL.value'", "expected a number")),
    C("card_nan_value", "typical CL = nan", _CL, "[typical.CL]\nvalue = nan",
      ("'typical.CL.value'", "finite")),
    C("card_bool_value", "typical CL = true", _CL, "[typical.CL]\nvalue = true",
      ("'typical.CL.value'", "expected a number")),
    C("card_unknown_structure", "structure '3cmt'", 'structure = "1cmt"', 'structure = "3cmt"',
      ("'structure'", "3cmt")),
    C("card_unknown_source", "a number citing an undefined source",
      '[typical.V]\nvalue = 5.98\nsource = "s"', '[typical.V]\nvalue = 5.98\nsource = "zhu"',
      ("'typical.V.source'", "zhu")),
    C("card_schema_version", "schema_version 2", "schema_version = 1", "schema_version = 2",
      ("'schema_version'",)),
    C("card_unknown_form", "covariate form 'sigmoid'", 'form = "power"', 'form = "sigmoid"',
      ("'covariates[0].form'", "sigmoid")),
    C("card_power_reference_zero", "power covariate with reference 0",
      "reference = { value = 1.88", "reference = { value = 0.0",
      ("'covariates[0].reference.value'",)),
    C("card_published_not_bool", "published = \"yes\"", "published = true\nflag = \"V\"\n\n"
      "[typical.V]", 'published = "yes"\nflag = "V"\n\n[typical.V]',
      ("'typical.CL.published'",)),
    C("card_unknown_flag", "flag 'X'", 'flag = "D"\nnote = "derived"', 'flag = "X"\nnote = "d"',
      ("'omega.CL.flag'", "'X'")),
    C("card_omega_unknown_param", "omega on Q in a 1-cmt card", "[omega.CL]", "[omega.Q]",
      ("'omega.Q'", "unknown parameter")),
    Case("card_unknown_name", "card", "a card name that does not exist",
         lambda tmp: load_card("blinatumomab_nobody2031"), ModelSpecError,
         key=("blinatumomab_nobody2031", "available")),
)
