"""Atom, RSS and JSON Feed builders over the change log (see docs/architecture.md)."""
