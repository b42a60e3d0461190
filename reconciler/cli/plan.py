"""`bria plan` commands (placeholder: not built yet)."""

COMMANDS: list = []
