"""synack.api."""
