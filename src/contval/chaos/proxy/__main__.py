"""`python -m contval.chaos.proxy`: the standing fault proxy."""

import sys

from contval.chaos.proxy.cli import main

sys.exit(main())
