"""jisr's own store: immutable segments in the index folder (Lucene's model)."""
