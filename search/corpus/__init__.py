"""Corpus folder -> documents: the folder walk, text decodings, and one reader per file type."""
