"""jisr's speed and quality benchmarks, a package so that each runs as ``python -m benchmarks.NAME`` from the
repository root and imports the helpers they share (``contention``, ``quick``, ``labeled``, ``scale``, ``load``)
by their package names: no script needs to be started from its own folder. Results go to benchmarks/results/;
experiments whose decision is made are under benchmarks/experiments/ (its README.md says what each decided).
"""
