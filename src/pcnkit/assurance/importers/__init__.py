"""Assurance importers."""
