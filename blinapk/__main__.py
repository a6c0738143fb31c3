"""Allow ``python -m blinapk``."""

from blinapk.cli import run

run()
