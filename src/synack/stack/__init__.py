"""synack.stack."""
