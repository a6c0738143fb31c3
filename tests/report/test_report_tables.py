"""Tables to Markdown, HTML and CSV."""

import numpy as np
import pandas as pd

from blinapk.report import to_html, to_markdown, write_csv


def _table():
    return pd.DataFrame({"PARAMETER": ["TV_CL", "OMEGA_CL"], "UNIT": ["L/h", ""],
                         "N": [3, 4], "MEDIAN": [2.161494, np.nan], "UPPER": [np.inf, 1e-5]})


def test_markdown_has_header_rule_and_one_line_per_row():
    lines = to_markdown(_table()).split("\n")
    assert lines[0] == "| PARAMETER | UNIT | N | MEDIAN | UPPER |"
    assert lines[1] == "|---|---|---|---|---|"
    assert lines[2] == "| TV_CL | L/h | 3 | 2.161 | NA |"  # 4 significant digits; inf -> NA
    assert lines[3] == "| OMEGA_CL |  | 4 | NA | 1e-05 |"  # NaN -> NA
    assert lines[4:] == [""]  # ends with a newline


def test_markdown_digits():
    assert "| 2.16149 |" in to_markdown(pd.DataFrame({"X": [2.161494]}), digits=6)


def test_html_table_without_index():
    html = to_html(_table(), digits=3)
    assert html.startswith("<table") and "<td>2.16</td>" in html and "<td>NA</td>" in html
    assert "<th>PARAMETER</th>" in html and "<th></th>" not in html


def test_write_csv_no_index_unix_line_ends_exact_floats(tmp_path):
    table = _table()
    path = write_csv(table, tmp_path / "t.csv")
    assert path == tmp_path / "t.csv"
    raw = path.read_bytes()
    assert b"\r" not in raw and raw.startswith(b"PARAMETER,UNIT,N,MEDIAN,UPPER\n")
    back = pd.read_csv(path, keep_default_na=False, na_values=[""])
    assert list(back.columns) == list(table.columns)
    np.testing.assert_array_equal(back["MEDIAN"], table["MEDIAN"])
    assert back["UPPER"].tolist() == [np.inf, 1e-5]
