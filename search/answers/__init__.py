"""Query -> ranked passages: the query's vectors, one function per signal, and the modes that weigh them."""
