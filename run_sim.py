#!/usr/bin/env python3
"""Simulate a US-style hospital system and write synthetic patients, visits and billing tables.

    python run_sim.py --patients 1000 --seed 42 --outdir output

See README.md for every option; ``python run_sim.py --help`` lists them.
"""

import sys

from reporting.app.__main__ import main  # imports nothing heavy before it handles Ctrl-C

if __name__ == "__main__":
    sys.exit(main())
