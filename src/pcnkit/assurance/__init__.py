"""Assurance: indicators computed from imported performance data and the registry's membership
at each period, with statistical process control, peer comparison and a watch-list."""
