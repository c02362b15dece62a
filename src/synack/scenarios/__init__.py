"""synack.scenarios."""
