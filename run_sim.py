#!/usr/bin/env python3
"""Simulate a US-style hospital system and write synthetic patients, visits and billing tables.

    python run_sim.py --patients 1000 --seed 42 --outdir output

See README.md for every option; ``python run_sim.py --help`` lists them.
"""

import sys

from reporting.app.lifetime import exit_quietly_on_interrupt

if __name__ == "__main__":
    exit_quietly_on_interrupt()  # before the second it takes to import the rest
    from reporting.app.cli import main

    sys.exit(main())
