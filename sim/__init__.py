"""The simulation engine: scenario, reference data, places, random streams, world and
SimPy processes."""
