"""Allow ``python -m blinapk``."""

import sys

from blinapk.cli import main

sys.exit(main())
