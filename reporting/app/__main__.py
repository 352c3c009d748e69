"""``python -m reporting.app``: the command line."""

import sys

from reporting.app.cli import main

sys.exit(main())
