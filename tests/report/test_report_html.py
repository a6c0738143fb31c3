"""The HTML report: number formatting, units rows, sections present or absent, valid HTML."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from blinapk.cli import main
from blinapk.report import write_csv
from blinapk.report.html import (
    build_sections,
    format_number,
    html_table,
    read_table,
    render_html_report,
    write_html_report,
)
from blinapk.report.html.markdown import markdown_table


@pytest.mark.parametrize(("value", "text"), [
    (1234.5, "1230"), (999.96, "1000"), (0.012345, "0.0123"), (2.0, "2.00"), (1.5, "1.50"),
    (-0.3336, "-0.334"), (7, "7"), (np.int64(12), "12"), (1.5e-6, "1.5e-06"),
    (2.5e7, "2.5e+07"), (0.0, "0"), (float("nan"), "NA"), (None, "NA"), (pd.NA, "NA"),
    (float("inf"), "inf"), ("CR", "CR"), (True, "True"),
])
def test_format_number_three_significant_digits(value, text):
    assert format_number(value) == text


def test_table_whole_columns_as_integers_and_units():
    frame = pd.DataFrame({"DOSE": [9.0, 28.0], "N": [3.0, np.nan], "CSS": [235.31, 728.64],
                          "UNIT": ["pg/mL", np.nan]})
    frame.attrs["units"] = {"DOSE": "ug/day", "CSS": "pg/mL"}
    t = html_table(frame, "t")
    assert t.rows == (("9", "3", "235", "pg/mL"), ("28", "NA", "729", ""))
    assert t.units == ("ug/day", "", "pg/mL", "") and t.has_units
    assert t.numeric == (True, True, True, False)
    assert html_table(frame, "t", max_rows=1).n_more == 1


def test_read_table_finds_the_units_row_only_when_there_is_one(tmp_path):
    frame = pd.DataFrame({"ID": [1, 2], "TIME": [0.5, 1.0], "REASON": ["a", ""]})
    with_units = write_csv(frame, tmp_path / "u.csv", units={"TIME": "h"})
    without = write_csv(frame, tmp_path / "n.csv")
    a, b = read_table(with_units), read_table(without)
    assert a.attrs["units"] == {"TIME": "h"} and len(a) == 2 and a["TIME"].tolist() == [0.5, 1.0]
    assert b.attrs["units"] == {} and len(b) == 2 and b["ID"].tolist() == [1, 2]


def test_markdown_table_reads_numbers():
    t = markdown_table("| GATE | VALUE | PASSED |\n|---|---|---|\n| r_hat | 1.004 | True |\n")
    assert t["VALUE"].tolist() == [1.004] and t["GATE"].tolist() == ["r_hat"]
    assert markdown_table("no table") is None


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.imgs, self.links, self.stack = [], [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "img":
            self.imgs.append(a.get("src", ""))
        if tag in ("a", "link", "script"):
            self.links.append(a.get("href") or a.get("src") or "")
        if tag not in ("meta", "img", "br", "link"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()


def _parse(text):
    p = _Collect()
    p.feed(text)
    p.close()
    assert p.stack == [], p.stack
    return p


def test_report_sections_present_and_absent(results_dir):
    sections = {s.id: s for s in build_sections(results_dir)}
    assert list(sections) == ["data", "nca", "poppk", "qualification", "endpoints", "er",
                              "simulation"]  # no dose finding results: no section
    absent = [k for k, s in sections.items() if not s.present]
    assert absent == ["er"]
    assert "No exposure-response results" in sections["er"].blocks[0].text
    assert "blinapk er" in sections["er"].blocks[0].text
    for s in sections.values():
        assert s.blocks, s.id


def test_report_is_valid_self_contained_html(results_dir, tmp_path):
    path = write_html_report(results_dir, tmp_path / "r.html")
    text = path.read_text(encoding="utf-8")
    p = _parse(text)
    for anchor in ("data", "nca", "poppk", "qualification", "endpoints", "er", "simulation"):
        assert anchor in p.ids
        assert f'href="#{anchor}"' in text  # table of contents
    assert len(p.imgs) >= 5 and all(s.startswith("data:image/png;base64,") for s in p.imgs)
    assert all(link.startswith("#") for link in p.links), p.links
    assert "http://" not in text.replace("http://www.w3.org", "") and "https://" not in text
    assert "example_trial.csv" in text and "method=map" in text  # header from run.json


def test_report_numbers_match_the_csv_to_three_digits(results_dir):
    text = render_html_report(results_dir)
    summary = pd.read_csv(results_dir / "nca" / "summary.csv")
    for v in summary["MEAN"].dropna().head(4):
        assert f"<td class=\"num\">{format_number(v)}</td>" in text
    pop = pd.read_csv(results_dir / "fit" / "summary.csv")
    assert f">{format_number(pop['MEDIAN'].iloc[0])}<" in text
    # shrinkage.csv carries a units row: the % shows under its column name
    assert '<tr class="units"><th></th><th></th><th></th><th>%</th></tr>' in text


def test_empty_results_say_what_is_missing(tmp_path):
    sections = build_sections(tmp_path)
    assert all(not s.present for s in sections)
    commands = " ".join(s.blocks[0].text for s in sections)
    for cmd in ("blinapk nca", "blinapk fit", "blinapk diagnose", "blinapk endpoints",
                "blinapk er", "blinapk simulate"):
        assert cmd in commands
    _parse(render_html_report(tmp_path))


def test_cli_report(results_dir, tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main(["report", str(results_dir), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert str(out.resolve()) in printed and "Exposure-response" in printed
    assert main(["report", str(tmp_path / "nothing")]) == 2
    assert "not a directory of results" in capsys.readouterr().err
