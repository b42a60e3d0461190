"""State: the format (`model`), the store interface (`store`) and its backends."""
