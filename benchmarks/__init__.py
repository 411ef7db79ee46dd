"""BorderWatch benchmarks (``make bench``; not part of the test suite).

Each measurement is one function in ``benchmarks.measurements`` that can run alone
(``python -m benchmarks.run --only ingest``); ``benchmarks.run`` writes the figures to
``benchmarks/results/``.
"""
