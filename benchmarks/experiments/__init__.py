"""Benchmarks of levers whose decision is made (benchmarks/experiments/README.md says which and where the
figures are): kept runnable, as ``python -m benchmarks.experiments.NAME``, to measure them again on other hardware
or another model.
"""
