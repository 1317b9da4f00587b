"""The organisation registry: practices, PCNs, places, ICSs, and how they relate over time."""
