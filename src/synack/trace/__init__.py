"""synack.trace."""
