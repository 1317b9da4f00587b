"""Population health: code lists, measures, cohorts and disclosure control of their outputs."""
