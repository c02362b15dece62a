"""synack.tcp."""
