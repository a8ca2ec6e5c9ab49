"""pilotwatch: which digital-health pilots are ready for production, and why."""

__version__ = "0.1.0"
