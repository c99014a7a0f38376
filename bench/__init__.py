"""Benchmarks of the workbench (not part of the test run)."""
