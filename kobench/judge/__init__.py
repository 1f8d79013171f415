"""LLM judges: byte-exact judge messages, verdict parsing, a judgement cache, and the judging pass that
runs after generation (or on its own: `kobench judge`)."""
