"""Read models rebuilt from the event log (see docs/architecture.md)."""
