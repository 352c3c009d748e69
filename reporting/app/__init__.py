"""The application on top of the engine (``sim``) and the reporting layer: the command line,
the task pipeline that runs regions in worker processes, experiments, and the ``Simulation``
that returns tables. Nothing below this package imports it.

``Simulation`` is imported on first use, so that the entry points can set up their signal
handlers (``lifetime``) before the heavy imports."""

__all__ = ["Simulation"]


def __getattr__(name: str):
    if name == "Simulation":
        from reporting.app.simulation import Simulation

        return Simulation
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
