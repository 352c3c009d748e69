"""``python -m reporting.app``, ``run_sim.py`` and the ``hospital-synth`` console script: the
command line, with Ctrl-C and SIGTERM handled from the first moment (the second of heavy
imports comes after)."""

import signal
import sys

from reporting.app.lifetime import exit_quietly_on_interrupt


def main() -> int:
    """Set up the signal handlers, then import and run the command line."""
    exit_quietly_on_interrupt()
    from reporting.app.cli import main as command_line

    status = command_line()
    for number in (signal.SIGINT, signal.SIGTERM):  # the run has reported how it ended
        signal.signal(number, signal.SIG_IGN)
    return status


if __name__ == "__main__":
    sys.exit(main())
