"""Types and helpers shared by every core module (no LSP, no heavy imports)."""
