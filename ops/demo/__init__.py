"""``xbot demo``: the whole system against a fresh sandbox for a simulated period, with a live display and a
report in ``reports/<run>/`` (docs/demo.md)."""
