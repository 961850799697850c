"""Arabic text helpers for lexical matching and highlighting (never for what we store or show).

Arabic spelling varies in ways that do not change meaning: optional diacritics,
tatweel (kashida) stretching, the hamza forms of alef, ta marbuta written as ha,
alef maqsura written as ya. Matching on a normalized form finds "أحمد" for "احمد".
"""

from __future__ import annotations

import re
import threading
import unicodedata

_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_TATWEEL = "\u0640"
_FOLD = str.maketrans(
    {
        "\u0622": "\u0627",
        "\u0623": "\u0627",
        "\u0625": "\u0627",
        "\u0671": "\u0627",  # آ أ إ ٱ -> ا
        "\u0629": "\u0647",  # ة -> ه
        "\u0649": "\u064a",  # ى -> ي
        "\u0624": "\u0648",  # ؤ -> و
        "\u0626": "\u064a",  # ئ -> ي
    }
)
_FOLD_PAIRS = tuple((chr(a), b) for a, b in _FOLD.items())


def _fold(text: str) -> str:
    """``text.translate(_FOLD)``, by one replace a letter: faster on Arabic text, since translate looks up a
    table entry a character, and a build folds every word it indexes (benchmarks/results/decisions.md)."""
    for letter, folded in _FOLD_PAIRS:
        text = text.replace(letter, folded)
    return text


_ARABIC_LETTER = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
_LATIN_LETTER = re.compile("[A-Za-z\u00c0-\u024f]")
_ARABIC_RUN, _LATIN_RUN = (re.compile(letter.pattern + "+") for letter in (_ARABIC_LETTER, _LATIN_LETTER))
_WORD = re.compile(r"\w+", re.UNICODE)


def strip_diacritics(text: str) -> str:
    return _DIACRITICS.sub("", text)


def normalize(text: str) -> str:
    """Fold the spelling variants above, plus case and compatibility forms, into one form."""
    text = unicodedata.normalize("NFKC", text)
    text = strip_diacritics(text).replace(_TATWEEL, "")
    return _fold(text).casefold()


_STEMMERS = threading.local()  # a PyStemmer object is not safe to share between threads


def _stem_words(words: list[str]) -> list[str]:
    stemmer = getattr(_STEMMERS, "arabic", None)
    if stemmer is None:
        import Stemmer

        stemmer = _STEMMERS.arabic = Stemmer.Stemmer("arabic")
    return stemmer.stemWords(words)


def terms(text: str, stems: bool = True) -> list[str]:
    """What BM25 matches: each word's normalized form, plus its Snowball stem when that differs.

    The stem lets "المكتبات" meet "مكتبة"; keeping the word itself keeps exact phrases (names, which
    the stemmer also cuts) ranking first. On the tune halves this beat both words alone and stems
    alone, averaged over XQuAD and the hadith set (see README). Snowball's Arabic stemmer expects the
    letters unfolded, so it stems before the folding.
    """
    # marks go first: \w does not match them, so they would cut a vocalized word into letters
    plain = _WORD.findall(strip_diacritics(unicodedata.normalize("NFKC", text)).replace(_TATWEEL, ""))
    folded = _folded(plain)
    if not stems:
        return folded
    return folded + [s for s, f in zip(_folded(_stem_words(plain)), folded) if s != f]


def _folded(words: list[str]) -> list[str]:
    """Each word folded, in a few string calls rather than a few a word (a build folds some 10^8 words):
    the fold and casefold never make or take a newline, and a word has none, so the words come back one each."""
    return _fold("\n".join(words)).casefold().split("\n") if words else []


def language(text: str) -> str:
    """'ar' when Arabic letters outnumber Latin ones, else 'en' (the only two the corpus holds)."""
    arabic = sum(map(len, _ARABIC_RUN.findall(text)))  # runs, not letters: fewer Python steps, the same count
    latin = sum(map(len, _LATIN_RUN.findall(text)))
    return "ar" if arabic >= latin and arabic > 0 else "en"


_MARKED_WORD = re.compile(r"[\w\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]+")  # a word with its marks
# Words nearly every passage has (particles, pronouns, question words), folded: marked, they would mark
# nothing. They still count in BM25, where their IDF weighs them down.
_COMMON = frozenset(
    _fold(w)
    for w in """
في من على الى عن ان او ام ثم و ف ب ل ما ماذا لا لم لن قد هل كيف متي اين لماذا من كم اي هذا هذه ذلك تلك هولاء
التي الذي الذين اللذين اللتين اللواتي هو هي هم هن انت انا نحن كان كانت يكون مع بين كل بعض بعد قبل عند حتي اذا
ايضا غير دون لدي منذ حيث لكن بل وفي ومن وعلي والي وعن وان فان بان لان كما مما عما فيه فيها منه منها عليه عليها
the a an of in on at to for from by with and or is are was were be been what who whom whose which when where why
how did does do has have had it its this that these those as
""".split()
)


def matching_words(text: str, query: str) -> list[tuple[int, int]]:
    """Where in ``text`` the words are that match ``query`` as BM25 reads them (marks, alef forms, case
    folded; a word or its stem equal to a query word or its stem), as (start, end) offsets; common
    words (:data:`_COMMON`) are not marked."""
    wanted = set(terms(query)) - _COMMON
    if not wanted:
        return []
    spans = [(m.start(), m.end()) for m in _MARKED_WORD.finditer(text)]
    plain = [strip_diacritics(unicodedata.normalize("NFKC", text[a:b])).replace(_TATWEEL, "") for a, b in spans]
    kept = [(span, word) for span, word in zip(spans, plain) if word]
    if not kept:
        return []
    folded = _folded([w for _, w in kept])
    stems = _folded(_stem_words([w for _, w in kept]))
    return [span for (span, _), f, s in zip(kept, folded, stems) if f not in _COMMON and (f in wanted or s in wanted)]
