"""HTTP API, CLI and the shape checks of commands (the ledger's only entry points)."""
