"""Assurance importers (registry of modules: pcnkit.assurance.loading)."""
