"""Test helpers shared across test packages (on pytest's pythonpath: ``import public_reports``)."""
