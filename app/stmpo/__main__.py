"""`python -m stmpo` is the `stmpo` command."""

import sys

from stmpo.entry import stmpo

sys.exit(stmpo())
