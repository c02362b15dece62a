"""synack.sim."""
