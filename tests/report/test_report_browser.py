"""The HTML report as a person sees it: rendered in headless Chromium.

Every image must load (``naturalWidth > 0``), every section must have
visible content and a screenshot must show a page that is not blank.
Skipped when Chromium is not installed (``.ci/run`` installs the Debian
``chromium`` package when it runs as root).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from blinapk.report.html import write_html_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which(
    "google-chrome")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--hide-scrollbars", "--window-size=1200,1600", "--virtual-time-budget=10000"]

#: Run after the page has loaded: what a reader would see, written into the DOM.
CHECK = """<script>
window.addEventListener("load", () => {
  const imgs = Array.from(document.images);
  const sections = Array.from(document.querySelectorAll("main > section"));
  const out = {
    images: imgs.length,
    broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt),
    sections: sections.map(s => ({id: s.id, height: s.getBoundingClientRect().height,
                                  text: s.innerText.trim().length,
                                  lines: s.innerText.trim().split("\\n").length}))
  };
  document.body.setAttribute("data-check", JSON.stringify(out));
});
</script>"""


def _chromium(*args, cwd):
    return subprocess.run([CHROMIUM, *FLAGS, *args], capture_output=True, text=True,
                          timeout=180, cwd=cwd)


def test_report_renders_in_chromium(results_dir, tmp_path):
    report = write_html_report(results_dir, tmp_path / "report.html")
    probe = tmp_path / "probe.html"
    probe.write_text(report.read_text(encoding="utf-8").replace("</body>", CHECK + "</body>"),
                     encoding="utf-8")
    dom = _chromium("--dump-dom", probe.as_uri(), cwd=tmp_path)
    found = re.search(r'data-check="([^"]*)"', dom.stdout)
    assert found, dom.stderr[-2000:]
    check = json.loads(html.unescape(found.group(1)))
    assert check["images"] >= 5 and check["broken"] == []
    ids = [s["id"] for s in check["sections"]]
    assert ids == ["data", "nca", "poppk", "qualification", "endpoints", "er", "simulation"]
    for s in check["sections"]:  # heading plus content, drawn with some height
        assert s["lines"] >= 2 and s["text"] > 40 and s["height"] > 50, s

    shot = tmp_path / "report.png"
    _chromium(f"--screenshot={shot}", report.as_uri(), cwd=tmp_path)
    import matplotlib.image as mpimg

    pixels = mpimg.imread(shot)
    assert pixels.shape[:2] == (1600, 1200)
    assert np.std(pixels[..., :3]) > 0.05  # text and tables, not a blank page
