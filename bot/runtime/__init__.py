"""Running the bot: the HTTP server or Socket Mode, the brief worker processes, the scheduler."""
