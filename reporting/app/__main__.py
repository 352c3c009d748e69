"""``python -m reporting.app``: the command line."""

import sys

from reporting.app.lifetime import exit_quietly_on_interrupt

exit_quietly_on_interrupt()  # before the second it takes to import the rest
from reporting.app.cli import main  # noqa: E402

sys.exit(main())
