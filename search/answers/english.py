"""Is a Latin word common English? What :mod:`jisr.answers.typing` asks of the keys an Arabic query was typed with.

The word counts are pyspellchecker's English list (MIT, inside its wheel, no download): 160k words with
their counts in a large corpus of subtitles, read once per process on the first question.
"""

from __future__ import annotations

import functools

COMMON = 50  # the count from which a word is taken as common English (rare names and typos fall below it)
_ONE_LETTER = frozenset("ai")  # the English words of one letter; another lone letter is no evidence


@functools.cache
def _counts():
    from spellchecker import SpellChecker  # imported on first use: an Arabic query typed right never needs it

    return SpellChecker(language="en", distance=1).word_frequency


def is_common(word: str) -> bool:
    """Whether ``word`` (lower case) is an English word at least :data:`COMMON` times in the list."""
    if len(word) == 1:
        return word in _ONE_LETTER
    return _counts()[word] >= COMMON
