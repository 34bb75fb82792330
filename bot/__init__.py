"""escalation-brief: the Slack app that turns a support escalation into a precise, quantified brief."""

__version__ = "0.1.0"
