"""Reading saved .aep projects without After Effects (optional extra `stmpo-ae[aep]`)."""
