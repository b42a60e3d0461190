"""`bria state` commands (placeholder: not built yet)."""

COMMANDS: list = []
