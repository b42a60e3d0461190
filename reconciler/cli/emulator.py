"""`bria emulator` commands (placeholder: not built yet)."""

COMMANDS: list = []
