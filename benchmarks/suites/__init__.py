"""The suites of ``benchmarks/run.py``, one module each (``compat`` and ``variants`` share
``modes``)."""
