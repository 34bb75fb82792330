"""Follow-through: cadence nudges, deadline warnings, the receiving team's actions, the running log."""
