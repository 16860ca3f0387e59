"""Benchmarks that measure the detectors and models on public and simulated data."""
