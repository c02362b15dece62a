"""synack.wire."""
