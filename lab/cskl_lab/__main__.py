"""`python3 -m cskl_lab` (what lab/lab runs)."""

import sys

from .cli import main

sys.exit(main())
