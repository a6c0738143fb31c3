"""Regenerate the shipped example trial: ``python -m blinapk.datasets [--out DIR]``."""

from blinapk.datasets.example import main

raise SystemExit(main())
