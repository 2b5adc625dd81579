"""Benchmarks: ``python -m bench [--quick]``. Each figure is a ratio against a baseline run in
the same process (these machines are noisy: absolute times mean little). Benchmarks are not tests.
"""
