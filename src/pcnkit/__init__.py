"""pcnkit: primary care at scale for the English NHS."""

__version__ = "0.1.0"
