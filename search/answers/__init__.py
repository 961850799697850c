"""Query -> ranked passages: the query's vectors, one function per signal, and the modes that weigh them.

A search comes in as a :class:`~jisr.answers.request.SearchRequest` (checked once) and goes out as an
:class:`~jisr.answers.answer.Answer` (``to_json()``: the JSON API's answer)."""
