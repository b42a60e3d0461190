"""`bria validate` commands (placeholder: not built yet)."""

COMMANDS: list = []
