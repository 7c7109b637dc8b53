"""The sections of bench/run, one module each, and what they share (common)."""
