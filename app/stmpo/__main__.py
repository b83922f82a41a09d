"""`python -m stmpo` is the `stmpo` command."""

import sys

from stmpo.cli import main

sys.exit(main())
