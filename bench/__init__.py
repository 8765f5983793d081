"""Tether's benchmarks: store speed, learning with simulated users, LSP latency, training.

Run with `python -m bench.run --quick|--full`; results land in `bench/results/`. Nothing
here is a test: the numbers are measured and reported, never asserted.
"""
