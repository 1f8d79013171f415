"""Benchmarks kobench generates itself: deterministic from a seed, versioned, no download."""
