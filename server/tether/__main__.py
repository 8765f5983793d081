"""`python -m tether …` is the same as the `tether` command (editors start it this way)."""

import sys

from tether.cli.main import main

sys.exit(main())
