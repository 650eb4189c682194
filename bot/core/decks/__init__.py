"""Decks: a loader with a format registry (one module per file format), the parser, key-term matching."""
