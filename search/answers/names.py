"""Names across scripts: the Arabic spelling, in the index's own vocabulary, of a name an English query writes in Latin.

An English query's meaning is read by the encoder, but its names (Shoigu, Hollande, Abu Hurairah) are what
would match words, and the index holds them in Arabic script only (شويغو, هولاند), so BM25 finds nothing for
them. :func:`arabic_names` gives such words' Arabic candidates: a word that is no common English word (by
``wordfreq``'s English list, which ships inside its wheel), or a capitalized one that is not very common, is
reduced to a consonant skeleton (sh -> ش, kh -> خ; vowels, و, ي and ع left out, as Arabic script and Latin
spellings of names disagree most there), and the Arabic terms of the vocabulary with that skeleton, or one
edit from it for a longer skeleton, are its candidates, the most frequent first. Hybrid ranking adds their
BM25 with a weight of its own (``names`` in search/weights.json, fitted on the tune halves). A query in
Arabic is never read here.

We weighed a transliteration library: the maintained ones romanize Arabic (Buckwalter, ISO 233) or turn
Arabizi into Arabic, none spells a foreign name as Arabic newspapers do, and the vocabulary already holds
every spelling the index can match; a skeleton over it finds the spelling the index uses.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Callable

from jisr.arabic import language
from jisr.index.vocabulary import Vocabulary

# A Latin spelling -> its consonant class (the longest spellings are tried first); a letter not named is left out.
LATIN = {
    "sch": "x",
    "sh": "x",
    "ch": "x",
    "zh": "g",
    "kh": "k",
    "gh": "g",
    "th": "t",
    "dh": "d",
    "ph": "f",
    "ck": "k",
    "ts": "ts",
    "x": "ks",
    "b": "b",
    "p": "b",
    "t": "t",
    "d": "d",
    "j": "g",
    "g": "g",
    "h": "h",
    "k": "k",
    "q": "k",
    "c": "k",
    "s": "s",
    "z": "z",
    "f": "f",
    "v": "f",
    "l": "l",
    "m": "m",
    "n": "n",
    "r": "r",
}
_LATIN_SPELLING = re.compile("|".join(sorted(LATIN, key=len, reverse=True)))
# Arabic letters (folded as the index folds them: jisr.arabic) -> the same classes; ا و ي ع ء are left out.
ARABIC = {
    **dict.fromkeys("ب", "b"),
    **dict.fromkeys("تطث", "t"),
    **dict.fromkeys("دضذ", "d"),
    **dict.fromkeys("جغ", "g"),
    **dict.fromkeys("حه", "h"),
    **dict.fromkeys("كقخ", "k"),
    **dict.fromkeys("سص", "s"),
    **dict.fromkeys("زظ", "z"),
    "ش": "x",
    "ف": "f",
    "ل": "l",
    "م": "m",
    "ن": "n",
    "ر": "r",
}
_LATIN_WORD = re.compile(r"[A-Za-z]+")
_ARABIC_TERM = re.compile("[\u0621-\u064a]{3,}")
NOT_ENGLISH = 3.0  # a lower-case word rarer than this in English (wordfreq's Zipf scale) may be a name
CAPITALIZED = 4.0  # a capitalized one, rarer than this
MIN_SKELETON = 2  # consonant classes a word needs to be looked up at all
EDIT_FROM = 4  # skeletons this long or longer also match the vocabulary's one edit away
PER_WORD = 2  # candidates kept a word, the most frequent first
MAX_WORDS = 8  # Latin words of a query read for names


def latin_skeleton(word: str) -> str:
    """The consonant classes of a Latin word, doubled letters once; a final h (Fatimah, Fatima) left out."""
    word = word.lower()
    if word.endswith("h") and not word.endswith(("sh", "ch", "kh", "gh", "th", "dh", "ph")):
        word = word[:-1]
    c_soft = re.sub(r"c(?=[eiy])", "s", word)
    return _collapse("".join(LATIN[m] for m in _LATIN_SPELLING.findall(c_soft)))


def arabic_skeletons(term: str) -> set[str]:
    """The consonant classes of a folded Arabic term: as written, and without its article ال (الاسد: Assad);
    a final ه (ta marbuta, folded) left out."""
    forms = {term} | ({term[2:]} if term.startswith("ال") and len(term) > 4 else set())
    return {_collapse("".join(ARABIC.get(ch, "") for ch in f.removesuffix("ه"))) for f in forms}


def _collapse(classes: str) -> str:
    return "".join(c for i, c in enumerate(classes) if i == 0 or c != classes[i - 1])


CLASSES = "".join(sorted(set(ARABIC.values())))


def variants(skeleton: str) -> set[str]:
    """Every skeleton one insertion, deletion or substitution of a class from ``skeleton``: a few hundred
    dictionary reads at a query, where a map of the vocabulary's own variants would hold millions of keys."""
    cuts = [(skeleton[:i], skeleton[i:]) for i in range(len(skeleton) + 1)]
    out = {a + b[1:] for a, b in cuts if b}
    out.update(a + c + b[1:] for a, b in cuts if b for c in CLASSES)
    out.update(a + c + b for a, b in cuts for c in CLASSES)
    out.discard(skeleton)
    return out


class Skeletons:
    """The Arabic terms of one vocabulary by skeleton; a look-up one edit away reads the variants of the
    query's skeleton (:func:`variants`), so only the vocabulary's own skeletons are kept."""

    def __init__(self, vocabulary: Vocabulary):
        self.counts = vocabulary.counts
        self.exact: dict[str, list[str]] = {}
        for term in vocabulary.counts:
            if _ARABIC_TERM.fullmatch(term):
                for skeleton in arabic_skeletons(term):
                    if len(skeleton) >= MIN_SKELETON:
                        self.exact.setdefault(skeleton, []).append(term)

    def candidates(self, skeleton: str) -> list[str]:
        """The terms with ``skeleton``, the most frequent first; failing any, those one edit away."""
        found = set(self.exact.get(skeleton, ()))
        if not found and len(skeleton) >= EDIT_FROM:
            for other in variants(skeleton):
                if len(other) >= MIN_SKELETON:
                    found.update(self.exact.get(other, ()))
        return sorted(found, key=lambda t: (-self.counts.get(t, 0), t))


_built: weakref.WeakKeyDictionary[Vocabulary, Skeletons] = weakref.WeakKeyDictionary()
_building = threading.Lock()


def skeletons(vocabulary: Vocabulary) -> Skeletons:
    """The skeletons of ``vocabulary``'s Arabic terms, built at the first English query of its commit and kept
    while the commit is searched: an Arabic-only workload never pays for them."""
    found = _built.get(vocabulary)
    if found is None:
        with _building:
            found = _built.get(vocabulary)
            if found is None:
                found = _built[vocabulary] = Skeletons(vocabulary)
    return found


def _english(word: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en")


def may_be_name(word: str) -> bool:
    """Whether a Latin word is worth reading as a name: no common English word, or capitalized and not very
    common ("Hollande" is, "French" and "What" are not)."""
    return _english(word.lower()) < (CAPITALIZED if word[:1].isupper() else NOT_ENGLISH)


def arabic_names(query: str, vocabulary: Vocabulary | Callable[[], Vocabulary]) -> list[str]:
    """The Arabic terms of ``vocabulary`` that the names of a Latin-script ``query`` may be written as; none for
    an Arabic query or an index without a vocabulary (Milvus's). ``vocabulary`` may be a function that gives it
    (an index's ``vocabulary``), asked for only when the query has a word that may be a name."""
    if language(query) == "ar":
        return []
    words = [w for w in _LATIN_WORD.findall(query)[:MAX_WORDS] if may_be_name(w)]
    if callable(vocabulary) and words:
        vocabulary = vocabulary()
    if not words or not len(vocabulary):
        return []
    index = skeletons(vocabulary)
    found: dict[str, None] = {}
    for word in words:
        skeleton = latin_skeleton(word)
        if len(skeleton) >= MIN_SKELETON:
            found.update(dict.fromkeys(index.candidates(skeleton)[:PER_WORD]))
    return list(found)
