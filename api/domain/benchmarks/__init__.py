"""Benchmarks: comparison sets from stored surveys and uploaded norm tables."""
