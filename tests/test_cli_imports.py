"""``blinapk nca`` loads the NCA stack only: no sampler, simulator, figures or scipy."""

import subprocess
import sys

HEAVY = ("blinapk.er", "blinapk.poppk", "blinapk.simulate", "blinapk.mcmc", "matplotlib",
         "pymc", "jax", "scipy", "xarray", "arviz")

CODE = f"""
import sys
from blinapk.cli import build_parser
args = build_parser("nca").parse_args(["nca", "study.csv", "--no-figures"])
import blinapk.data, blinapk.nca, blinapk.report  # what run() imports
print(args.data, args.no_figures, args.blq)
print(",".join(m for m in {HEAVY!r} if m in sys.modules))
"""


def test_nca_command_imports_no_heavy_package():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[0] == "study.csv True seed"
    assert out[1] == ""


def test_every_subcommand_is_listed_when_one_is_built():
    from blinapk.cli import COMMANDS, build_parser

    help_text = build_parser("nca").format_help()
    assert all(name in help_text for name in COMMANDS)
