"""The ledger's write side: aggregates, events, rules and the `Ledger` application."""
