"""Passages and their vectors -> an index folder: the commit that names what is live, the build that
writes it, and one store per backend behind one interface."""
