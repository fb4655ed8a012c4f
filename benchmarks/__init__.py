"""Benchmarks (`make bench`) and the synthetic logs they and the scale tests use."""
