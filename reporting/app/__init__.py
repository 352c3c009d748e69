"""The application on top of the engine (``sim``) and the reporting layer: the command line,
the task pipeline that runs regions in worker processes, experiments, and the ``Simulation``
that returns tables. Nothing below this package imports it."""

from reporting.app.simulation import Simulation

__all__ = ["Simulation"]
