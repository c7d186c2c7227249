"""Benchmarks of digitcore; run each one with python -m benchmarks.<name>."""
