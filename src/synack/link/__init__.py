"""synack.link."""
