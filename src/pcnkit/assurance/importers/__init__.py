"""Assurance importers: NHS publications read into observations (the lead lists them here)."""
