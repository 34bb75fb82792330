"""One module per feature: what happens when a person (or the scheduler) does something."""
