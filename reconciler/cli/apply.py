"""`bria apply` commands (placeholder: not built yet)."""

COMMANDS: list = []
