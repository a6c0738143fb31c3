"""Catalogue cases for first contact: the files users actually have and the command line.

``FILE_CASES``: files that are not what the reader expects (missing, Excel, UTF-16,
another separator, decimal commas, clock times), NONMEM idioms (ADDL/II/SS, comment
records) and CDISC ADaM input; each is read with ``read_dataset`` (see
reliability_cases.py for :class:`Case`). ``CLI_CASES``: command-line mistakes, each a
:class:`CliCase` run through ``blinapk.cli.main``: exit code 2, one message naming the
problem, no traceback, nothing written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reliability_cases import BASE_CSV, Case, R, csv, plus, with_line
from reliability_cases_clinical import ASSESSMENTS_CSV, SUBJECTS_CSV

from blinapk.errors import DataValidationError, DataWarning


def _cols(extra: str, dose: str, obs: str, text: str = BASE_CSV) -> str:
    """:data:`BASE_CSV` with extra columns: ``dose`` cells on dose rows, ``obs`` elsewhere."""
    lines = text.splitlines()
    out = [lines[0] + "," + extra]
    for line in lines[1:]:
        out.append(line + "," + (dose if line.split(",")[2] == "1" else obs))
    return "\n".join(out) + "\n"


def _set_cell(text: str, row: int, column: str, value: str) -> str:
    lines = text.splitlines()
    fields = lines[row].split(",")
    fields[lines[0].split(",").index(column)] = value
    lines[row] = ",".join(fields)
    return "\n".join(lines) + "\n"


def _missing(name: str) -> Callable[[Path], Any]:
    def call(tmp: Path):
        from blinapk.data import read_dataset

        return read_dataset(tmp / name)

    return call


def _directory(tmp: Path):
    from blinapk.data import read_dataset

    return read_dataset(tmp)


ADDL = _cols("ADDL,II", "1,24", ".,.")
SS = _cols("SS,II", "1,24", "0,.")
ADAM = """\
STUDYID,USUBJID,AFRLT,AFRLTU,EVID,MDV,AMT,DOSEU,RATE,AVAL,AVALU,PARAMCD
S1,S1-001,0,HOURS,1,1,28,ug,{r},,,
S1,S1-001,2,HOURS,0,0,0,ug,0,0.31,ng/mL,BLIN
S1,S1-001,24,HOURS,0,0,0,ug,0,0.52,ng/mL,BLIN
S1,S1-002,0,HOURS,1,1,28,ug,{r},,,
S1,S1-002,6,HOURS,0,0,0,ug,0,0.40,ng/mL,BLIN
S1,S1-002,24,HOURS,0,0,0,ug,0,0.03,ng/mL,BLIN
""".format(r=repr(R))


def E(name, what, call, rule, column=None, rows=(), key=()):  # noqa: N802 - table shorthand
    """A file case answered by DataValidationError."""
    return Case(name, "files", what, call, DataValidationError, rule, column, tuple(rows),
                tuple(key))


def _scaled_subject(text: str, sid: str, factor: float) -> str:
    lines = text.splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        f = line.split(",")
        if f[0] == sid and f[2] == "0":
            f[5] = repr(float(f[5]) * factor)
        out.append(",".join(f))
    return "\n".join(out) + "\n"


THREE = plus(f"3,0,1,28,{R!r},0,1", "3,6,0,0,0,450,0", "3,24,0,0,0,480,0")

FILE_CASES: tuple[Case, ...] = (
    E("file_missing", "the data file does not exist", _missing("nope.csv"), "file_not_found",
      key=("nope.csv",)),
    E("file_is_directory", "a folder given instead of a file", _directory, "file_not_found",
      key=("directory",)),
    E("excel_xlsx_renamed_csv", "an Excel workbook (.xlsx) renamed .csv",
      csv(b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 200), "not_csv", key=("Save As",)),
    E("excel_xls_renamed_csv", "a legacy Excel workbook (.xls) renamed .csv",
      csv(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 200), "not_csv", key=(".xls",)),
    E("utf16_without_bom", "UTF-16 text without a byte-order mark",
      csv(BASE_CSV.encode("utf-16-le")), "not_csv", key=("encoding='utf-16-le'",)),
    E("binary_file", "an image saved as .csv", csv(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
      "not_csv", key=("NUL",)),
    E("latin1_file", "a Latin-1 file (Zürich in a text column)",
      csv(_cols("SITE", "Zürich", "Köln").encode("latin-1")), "csv_parse",
      key=("latin-1", "line 2")),
    E("semicolon_separated", "fields separated by ';'", csv(BASE_CSV.replace(",", ";")),
      "csv_separator", key=("sep=';'",)),
    E("tab_separated", "fields separated by tabs", csv(BASE_CSV.replace(",", "\t")),
      "csv_separator", key=("tab-separated",)),
    E("pipe_separated", "fields separated by '|'", csv(BASE_CSV.replace(",", "|")),
      "csv_separator", key=("pipe-separated",)),
    E("comma_file_read_with_semicolon", "sep=';' given for a comma-separated file",
      csv(BASE_CSV, sep=";"), "csv_separator", key=("comma-separated", "sep=','")),
    E("decimal_comma_with_semicolons", "';' separator given, decimal commas not declared",
      csv(BASE_CSV.replace(",", ";").replace("310", "310,5"), sep=";"), "non_numeric", "DV",
      (2,), ("decimal=','",)),
    E("decimal_comma_unquoted", "2,5 written in a comma-separated file",
      csv(with_line(2, "1,2,5,0,0,0,310,0")), "csv_parse", key=("decimal comma",)),
    E("unknown_encoding", "an encoding name that does not exist",
      csv(BASE_CSV, encoding="klingon"), "csv_parse", key=("klingon",)),
    E("clock_times", "TIME written as clock times 08:30",
      csv(with_line(2, "1,08:30,0,0,0,310,0").replace("1,24,0", "1,09:30,0")), "non_numeric",
      "TIME", (2, 3), ("hours since the subject's first dose",)),
    E("date_times", "TIME written as ISO date-times",
      csv(with_line(5, "2,2024-03-01T14:00,0,0,0,400,0")), "non_numeric", "TIME", (5,),
      ("clock times or dates",)),
    E("addl_without_ii", "ADDL 1 on the doses, II missing", csv(_cols("ADDL,II", "1,.", ".,.")),
      "addl_without_ii", "II", (1, 4), ("II > 0",)),
    E("addl_without_ii_column", "ADDL 1 on the doses, no II column",
      csv(_cols("ADDL", "1", ".")), "addl_without_ii", "II", (1, 4)),
    E("addl_fraction", "ADDL 1.5", csv(_set_cell(ADDL, 1, "ADDL", "1.5")), "addl_values",
      "ADDL", (1,), ("whole number",)),
    E("addl_negative", "ADDL -2", csv(_set_cell(ADDL, 4, "ADDL", "-2")), "addl_values", "ADDL",
      (4,)),
    E("addl_huge", "ADDL 1e9 (a typo that would write a billion doses)",
      csv(_set_cell(ADDL, 4, "ADDL", "1000000000")), "addl_values", "ADDL", (4,),
      ("100000",)),
    E("addl_on_observation", "ADDL 2 on a sample row", csv(_set_cell(ADDL, 2, "ADDL", "2")),
      "addl_values", "ADDL", (2,), ("not a dose",)),
    E("addl_text", "ADDL 'two'", csv(_set_cell(ADDL, 1, "ADDL", "two")), "non_numeric", "ADDL",
      (1,), ("'two'",)),
    E("ii_negative", "II -24", csv(_set_cell(ADDL, 1, "II", "-24")), "negative", "II", (1,)),
    E("steady_state_dose", "SS 1 (steady-state dose) on the doses", csv(SS), "steady_state",
      "SS", (1, 4), ("not supported",)),
    E("steady_state_infusion", "SS 1 with AMT 0 and a RATE (steady-state infusion)",
      csv(_set_cell(_set_cell(SS, 1, "AMT", "0"), 4, "SS", "0")), "steady_state", "SS", (1,),
      ("continuous infusion",)),
    E("steady_state_two", "SS 2 (steady state added to the history)",
      csv(_set_cell(_set_cell(SS, 1, "SS", "2"), 4, "SS", "0")), "steady_state", "SS", (1,)),
    E("comment_flag_unknown", "NONMEM comment column C holding 'X'",
      csv(_set_cell(_cols("C", ".", "."), 3, "C", "X")), "comment_flag", "C", (3,),
      ("C or #",)),
    E("comment_on_the_only_dose", "the only dose of subject 2 flagged as a comment (C)",
      csv(_set_cell(_cols("C", ".", "."), 4, "C", "C")), "obs_without_dose", "ID", (5, 6),
      ("2",)),
    E("hash_comment_on_the_only_dose", "the only dose of subject 2 commented out with #",
      csv(BASE_CSV.replace(f"\n2,0,1,28,{R!r},0,1", f"\n#2,0,1,28,{R!r},0,1")),
      "obs_without_dose", "ID", (5, 6)),
    E("only_comment_lines", "a file of comment lines only", csv("# study X\n# no data\n"),
      "empty", key=("no data rows",)),
    E("adam_only_reltm", "ADaM time since the last dose (ARELTM) but no AFRLT",
      csv(ADAM.replace("AFRLT,AFRLTU", "ARELTM,RRLTU")), "adam_mapping", "TIME",
      key=("ARELTM", "AFRLT")),
    E("adam_mixed_time_units", "ADaM AFRLTU in HOURS and DAYS",
      csv(ADAM.replace("24,HOURS,0,0,0,ug,0,0.52", "1,DAYS,0,0,0,ug,0,0.52")), "adam_mapping",
      "AFRLTU", key=("several units",)),
    E("adam_unknown_unit", "ADaM AVALU 'ng/dL'", csv(ADAM.replace("ng/mL", "ng/dL")),
      "adam_mapping", "AVALU", key=("ng/dL",)),
    E("adam_concentrations_only", "an ADPC file without dose records",
      csv("USUBJID,AFRLT,AVAL,AVALU,PARAMCD\nS-1,2,0.3,ng/mL,BLIN\nS-1,24,0.5,ng/mL,BLIN\n"),
      "obs_without_dose", "ID", (1, 2), ("no dose record",)),
    E("adam_dose_without_rate", "ADaM dose records without RATE",
      csv(ADAM.replace(",RATE,", ",RATEX,")), "missing_column", "RATE"),
    Case("one_subject_in_ng_per_ml", "files", "subject 3 written in ng/mL in a pg/mL file",
         csv(_scaled_subject(THREE, "3", 1e-3)), DataWarning,
         key=("1 subject(s)", "3 (", "ng/mL in a pg/mL file")),
)


@dataclass(frozen=True)
class CliCase:
    """A command-line mistake: ``argv(tmp)`` builds the files and returns the arguments.

    Parameters
    ----------
    name, what : str
        Case name and what is wrong.
    argv : callable
        ``argv(tmp_path) -> list of str`` (without the program name).
    key : tuple of str
        Substrings the error message must contain.
    out : str
        Output path (relative to ``tmp_path``) that must not exist afterwards ("" = none).
    """

    name: str
    what: str
    argv: Callable[[Path], list[str]]
    key: tuple[str, ...]
    out: str = "out"
    area: str = "cli"


def _data(tmp: Path, text: str = BASE_CSV, name: str = "data.csv") -> str:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _blocker(tmp: Path) -> str:
    path = tmp / "blocker"
    path.write_text("not a folder")
    return str(path)


def _xlsx(tmp: Path) -> str:
    path = tmp / "iv.xlsx"
    path.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    return str(path)


def _nca(*extra: str, text: str = BASE_CSV) -> Callable[[Path], list[str]]:
    return lambda tmp: ["nca", _data(tmp, text), "--out", str(tmp / "out"), *extra]


CLI_CASES: tuple[CliCase, ...] = (
    CliCase("cli_missing_data_file", "blinapk nca on a file that does not exist",
            lambda tmp: ["nca", str(tmp / "nope.csv"), "--out", str(tmp / "out")],
            ("[file_not_found]", "nope.csv")),
    CliCase("cli_out_is_a_file", "--out names an existing file",
            lambda tmp: ["nca", _data(tmp), "--out", _blocker(tmp)], ("is a file",), ""),
    CliCase("cli_out_below_a_file", "--out is a folder below an existing file",
            lambda tmp: ["nca", _data(tmp), "--out", _blocker(tmp) + "/res"], ("is a file",),
            ""),
    CliCase("cli_unknown_by_column", "--by a column that exists nowhere", _nca("--by", "SEXX"),
            ("SEXX", "nor in the dataset")),
    CliCase("cli_unknown_nca_parameter", "--params with a misspelt parameter",
            _nca("--params", "cmax,aucalst"), ("unknown NCA parameter 'aucalst'",)),
    CliCase("cli_interval_without_params", "--interval without --params",
            _nca("--interval", "0,24"), ("--interval needs --params",)),
    CliCase("cli_reversed_interval", "--interval 24,0", _nca("--params", "cmax", "--interval",
                                                              "24,0"), ("END > START",)),
    CliCase("cli_interval_not_numbers", "--interval day1,day2",
            _nca("--params", "cmax", "--interval", "day1,day2"), ("START,END in hours",)),
    CliCase("cli_intervals_and_params", "--intervals FILE together with --params",
            _nca("--intervals", "iv.csv", "--params", "cmax"), ("not both",)),
    CliCase("cli_intervals_file_missing", "--intervals names a file that does not exist",
            _nca("--intervals", "/nonexistent/iv.csv"), ("no such file",)),
    CliCase("cli_intervals_file_not_csv", "--intervals names an Excel workbook",
            lambda tmp: ["nca", _data(tmp), "--out", str(tmp / "out"), "--intervals",
                         _xlsx(tmp)], ("cannot read iv.xlsx as CSV",)),
    CliCase("cli_intervals_without_parameters", "--intervals table without a parameters column",
            lambda tmp: ["nca", _data(tmp), "--out", str(tmp / "out"), "--intervals",
                         _data(tmp, "start,end\n0,24\n", "iv.csv")], ("parameters",)),
    CliCase("cli_separator_two_characters", "--sep ';;'", _nca("--sep", ";;"),
            ("sep must be one character",)),
    CliCase("cli_sep_equals_decimal", "--decimal , with the default comma separator",
            _nca("--decimal", ","), ("sep and decimal are both ','",)),
    CliCase("cli_dose_unit_without_bsa", "--dose-unit ug/m2/h on data without BSA",
            _nca("--dose-unit", "ug/m2/h"), ("BSA",)),
    CliCase("cli_unknown_encoding", "--encoding klingon", _nca("--encoding", "klingon"),
            ("unknown encoding 'klingon'",)),
    CliCase("cli_wrong_separator", "--sep ';' on a comma-separated file", _nca("--sep", ";"),
            ("[csv_separator]", "comma-separated")),
    CliCase("cli_unknown_blq_rule", "--blq half", _nca("--blq", "half"), ("invalid choice",)),
    CliCase("cli_validate_bad_dvid_spec", "validate --dvid CRP (no limits)",
            lambda tmp: ["validate", _data(tmp), "--dvid", "CRP"], ("NAME:LLOQ[:LOD]",), ""),
    CliCase("cli_validate_unknown_unit", "validate --units-dv furlongs",
            lambda tmp: ["validate", _data(tmp), "--units-dv", "furlongs"], ("furlongs",), ""),
    CliCase("cli_fit_missing_data_file", "blinapk fit on a file that does not exist",
            lambda tmp: ["fit", str(tmp / "nope.csv"), "--out", str(tmp / "out"), "--map"],
            ("[file_not_found]",)),
    CliCase("cli_fit_bad_covariate", "blinapk fit --covariate CL~BSA:sigmoid",
            lambda tmp: ["fit", _data(tmp), "--out", str(tmp / "out"), "--covariate",
                         "CL~BSA:sigmoid"], ("sigmoid",)),
    CliCase("cli_fit_out_is_a_file", "blinapk fit --out an existing file",
            lambda tmp: ["fit", _data(tmp), "--out", _blocker(tmp), "--map"], ("is a file",),
            ""),
    CliCase("cli_simulate_unknown_card", "blinapk simulate --card that does not exist",
            lambda tmp: ["simulate", "--n", "2", "--seed", "1", "--card", "nobody2031",
                         "--out", str(tmp / "out" / "sim.csv")], ("nobody2031",)),
    CliCase("cli_endpoints_out_is_a_file", "blinapk endpoints --out an existing file",
            lambda tmp: ["endpoints", "--subjects", _data(tmp, SUBJECTS_CSV, "s.csv"),
                         "--assessments", _data(tmp, ASSESSMENTS_CSV, "a.csv"), "--out",
                         _blocker(tmp)], ("File exists",), ""),
    CliCase("cli_endpoints_missing_file", "blinapk endpoints on tables that do not exist",
            lambda tmp: ["endpoints", "--subjects", str(tmp / "s.csv"), "--assessments",
                         str(tmp / "a.csv"), "--out", str(tmp / "out")],
            ("[file_not_found]", "s.csv")),
)
