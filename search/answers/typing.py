"""Arabic as people type it in Latin letters: on the Latin keyboard layout by mistake, or in Arabizi.

A query such as ``phlgm hg'hzvhj`` is ``حاملة الطائرات`` typed with the keyboard left on the Latin layout
(the keys of the Arabic 101 layout, shifted ones included); ``7amlet el ta2erat`` is the same words in
Arabizi, the chat alphabet whose digits stand for the letters Latin lacks. Neither reading is taken from the
letters alone: a Latin query is read as Arabic only when the index's own vocabulary
(:mod:`jisr.index.vocabulary`) knows the Arabic reading's words and knows fewer of the words as typed, so an
English query ("French aircraft carrier") is searched as it is. The other way round, ``افثشفاثق هى يشةشسعوس``
is ``weather in damascus`` typed with the keyboard left on the Arabic layout: it is read as English when most
of its words are unknown to the vocabulary and the keys pressed spell common English words
(:mod:`jisr.answers.english`). :func:`reading` is the one way to ask.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

from jisr import arabic
from jisr.answers import english, spelling
from jisr.index.vocabulary import Vocabulary

# The Arabic 101 layout: the Latin key pressed -> the Arabic it types (b and the shifted T, G, B: two letters).
LAYOUT = {
    **dict(zip("`qwertyuiop[]", "ذضصثقفغعهخحجد")),
    **dict(zip("asdfghjkl;'", "شسيبلاتنمكط")),
    **dict(zip("zxcvnm,./", "ئءؤرىةوزظ")),
    "b": "لا",
    **dict(zip("QWERYUIOP{}", "\u064e\u064b\u064f\u064cإ‘÷×؛<>")),
    **dict(zip('ASDFHJKL:"', '\u0650\u064d][أـ،/:"')),
    **dict(zip("ZXCVNM<>?", "~\u0652}{آ’,.؟")),
    "T": "لإ",
    "G": "لأ",
    "B": "لآ",
    "~": "\u0651",
}
MIN_KNOWN = 0.5  # the share of a reading's words the vocabulary must know for the reading to be searched
# An Arabic query is read as English typed on the Arabic layout only when at least this share of the keys'
# words are common English (and the vocabulary knows less than MIN_KNOWN of the Arabic): a margin above what
# correctly typed Arabic questions spell by chance (short keys such as "lh", "td").
MIN_ENGLISH = 0.6
_ENGLISH_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")
# Arabizi: each Latin spelling -> the folded Arabic letters it may stand for ("" : a vowel left unwritten).
# Folded as the index folds (jisr.arabic): أ إ آ -> ا, ة -> ه, ى and ئ -> ي, ؤ -> و.
ARABIZI = {
    "2": ("ا", "ء", "ي", "و", "ق"),
    "3": ("ع",),
    "3'": ("غ",),
    "5": ("خ",),
    "6": ("ط",),
    "6'": ("ظ",),
    "7": ("ح",),
    "7'": ("خ",),
    "8": ("غ", "ق"),
    "9": ("ق", "ص"),
    "9'": ("ض",),
    "sh": ("ش",),
    "ch": ("ش",),
    "kh": ("خ",),
    "gh": ("غ",),
    "th": ("ث", "ذ"),
    "dh": ("ذ", "ض"),
    "ou": ("و",),
    "ee": ("ي",),
    "oo": ("و",),
    "aa": ("ا",),
    "a": ("ا", ""),
    "e": ("", "ي", "ا"),
    "i": ("ي", ""),
    "o": ("و", ""),
    "u": ("و", ""),
    "b": ("ب",),
    "p": ("ب",),
    "t": ("ت", "ط"),
    "g": ("ج", "غ"),
    "j": ("ج",),
    "h": ("ه", "ح"),
    "d": ("د", "ض"),
    "r": ("ر",),
    "z": ("ز", "ظ"),
    "s": ("س", "ص"),
    "f": ("ف",),
    "v": ("ف",),
    "q": ("ق",),
    "k": ("ك",),
    "c": ("ك", "س"),
    "l": ("ل",),
    "m": ("م",),
    "n": ("ن",),
    "w": ("و",),
    "y": ("ي",),
    "x": ("كس",),
}
_SPELLINGS = sorted(ARABIZI, key=len, reverse=True)  # the longest spelling at a place is read first
_ENDINGS = ("ah", "eh", "at", "et", "a", "e")  # a word's last letters that may spell ta marbuta (folded: ه)
_ARTICLES = frozenset({"el", "al", "il", "l"})  # the article written apart: joined to the word after it
# letters and at least one digit letter, not an ordinal (3rd, 2nd)
_ARABIZI_WORD = re.compile(r"^(?!\d+(st|nd|rd|th)$)(?=.*[a-z])(?=.*[2356789])[a-z2356789']+$")
_LATIN_WORD = re.compile(r"^[a-z2356789']+$")
MAX_CANDIDATES = 4096  # readings of one word kept while it is read: the vocabulary prunes most long before


@dataclass(frozen=True)
class Reading:
    """What a query was searched as (``searched_as``), and how it was read: "layout" (Arabic typed on the
    Latin layout), "english" (English typed on the Arabic layout) or "arabizi"."""

    searched_as: str
    how: str


def from_layout(text: str) -> str:
    """``text`` as the Arabic 101 layout types it: each key's Arabic, anything else as it is."""
    return "".join(LAYOUT.get(c, c) for c in text)


_KEYS = {typed: key for key, typed in LAYOUT.items()}  # the key that types each Arabic letter (or lam-alef)


def to_layout(text: str) -> str:
    """``text`` as typed with the keyboard left on the Latin layout (the inverse of :func:`from_layout`): what
    the tests and benchmarks/typing.py type for an Arabic query; a lam-alef pair is one key."""
    out, at = [], 0
    while at < len(text):
        pair = text[at : at + 2]
        if len(pair) == 2 and pair in _KEYS:
            out.append(_KEYS[pair])
            at += 2
        else:
            out.append(_KEYS.get(text[at], text[at]))
            at += 1
    return "".join(out)


def reading(query: str, vocabulary: Vocabulary | Callable[[], Vocabulary]) -> Reading | None:
    """The Arabic a Latin ``query`` was meant to be, when the index's ``vocabulary`` says so; else None.

    An Arabic ``query`` is read as English typed on the Arabic layout (:func:`english_reading`). Nothing is
    read when the vocabulary is empty (an index on Milvus). ``vocabulary`` may be a function that gives it
    (an index's ``vocabulary``): then it is asked for only when a reading is possible, so a query typed
    correctly in Arabic nearly never waits for a new commit's vocabulary to be merged."""
    if arabic.language(query) == "ar":
        return english_reading(query, vocabulary)
    if not re.search("[A-Za-z]", query):
        return None
    if callable(vocabulary):
        vocabulary = vocabulary()
    if not len(vocabulary):
        return None
    typed = _known(arabic.terms(query, stems=False), vocabulary)
    layout = from_layout(query)
    if _known(arabic.terms(layout, stems=False), vocabulary) >= max(MIN_KNOWN, typed + 1e-9):
        return Reading(layout, "layout")
    converted = arabizi(query, vocabulary)
    if converted is not None:
        words = arabic.terms(converted, stems=False)
        if _known(words, vocabulary) >= max(MIN_KNOWN, typed + 1e-9):
            return Reading(converted, "arabizi")
    return None


def english_reading(query: str, vocabulary: Vocabulary | Callable[[], Vocabulary]) -> Reading | None:
    """The English an Arabic ``query`` was meant to be, typed with the keyboard on the Arabic layout; else None.

    The keys pressed must spell common English words (:data:`MIN_ENGLISH` of their letters), checked first
    since it needs no vocabulary, and the index's vocabulary must know less than :data:`MIN_KNOWN` of the
    Arabic as typed: an Arabic word that happens to spell English keys (``ما`` is ``lh``) stays Arabic."""
    if re.search("[A-Za-z]", query):
        return None  # Latin letters already: typed with both layouts on purpose
    keys = re.sub(r"\S+", lambda word: _english_keys(word[0]), query)
    if any(_NOT_ENGLISH_KEYS.search(word.rstrip(_TRAILING)) for word in keys.split()):
        return None  # a word typed with keys no English word holds (د is "]", و is ","): Arabic as typed
    total = sum(map(len, _ENGLISH_WORD.findall(keys.lower())))
    if not total or _english_letters(keys) / total < MIN_ENGLISH:
        return None
    words = arabic.terms(query, stems=False)
    if _share(words, spelling.common) >= MIN_KNOWN:
        return None  # written Arabic uses these words: meant as Arabic, though this index lacks them
    if callable(vocabulary):
        vocabulary = vocabulary()
    if not len(vocabulary) or _known(words, vocabulary) >= MIN_KNOWN:
        return None
    return Reading(keys, "english")


# Keys of Arabic letters no English word holds: brackets and a backquote (ج, د, ذ) anywhere, a comma,
# semicolon or slash (و, ك, ظ) other than at its end; letters, digits, "'" (ط), "." (ز) and "-" may be in one.
_NOT_ENGLISH_KEYS = re.compile(r"[\[\]`]|[,;/](?=.)")
_TRAILING = ",.?!;:\"')"


def _share(words: list[str], holds: Callable[[str], bool]) -> float:
    """The share of ``words``' letters in words of more than one letter that ``holds`` is true of."""
    total = sum(map(len, words))
    return sum(len(w) for w in words if len(w) > 1 and holds(w)) / total if total else 0.0


# Lam-alef is one key (b, and shifted T, G, B) and also the two keys g and h (Y, H, N): an English word has
# either ("bring", "light"), so each is tried in a word that holds one.
_PAIRS = {pair: (_KEYS[pair], "g" + _KEYS[pair[1]]) for pair in ("لا", "لأ", "لإ", "لآ")}
_PAIR = re.compile("(" + "|".join(_PAIRS) + ")")


def _english_keys(word: str) -> str:
    """The keys that typed an Arabic ``word``, each lam-alef read as the keys that make the most English."""
    pieces = _PAIR.split(word)
    choices = [_PAIRS[p] if p in _PAIRS else (to_layout(p),) for p in pieces]
    candidates = ["".join(keys) for keys in itertools.islice(itertools.product(*choices), 16)]
    return max(candidates, key=_english_letters)  # on a tie the first: every lam-alef as its own key


def _english_letters(keys: str) -> int:
    """How many letters of ``keys`` are in words that are common English."""
    return sum(len(w) for w in _ENGLISH_WORD.findall(keys.lower()) if english.is_common(w))


def _known(words: list[str], vocabulary: Vocabulary) -> float:
    """The share of ``words``' letters in words the vocabulary knows (a word of one letter never counts as
    known): by letters, since a short string of letters is far more often a word by chance than a long one."""
    return _share(words, vocabulary.__contains__)


def arabizi(query: str, vocabulary: Vocabulary) -> str | None:
    """``query`` in Arabic letters, each Arabizi word as the most frequent of its readings the vocabulary
    knows (a word it knows no reading of stays as typed); None unless some word has a digit letter."""
    words = query.lower().split()
    if not any(_ARABIZI_WORD.match(w) for w in words):
        return None
    out: list[str] = []
    article = ""
    for word in words:
        if word in _ARTICLES:
            article = "ال"
            continue
        if word.startswith(("el-", "al-")):
            article, word = "ال", word[3:]
        found = _best(article, word, vocabulary) if _LATIN_WORD.match(word) else None
        out.append(found if found is not None else (("al " if article else "") + word))
        article = ""
    if article:
        out.append("al")
    return " ".join(out)


def _best(article: str, word: str, vocabulary: Vocabulary) -> str | None:
    """The most frequent reading of one Arabizi ``word`` (after ``article``) that the vocabulary knows."""
    known = [c for c in _readings(article, word, vocabulary) if len(c) > 1 and c in vocabulary]
    return max(known, key=lambda c: (vocabulary.count(c), c)) if known else None


def _readings(article: str, word: str, vocabulary: Vocabulary) -> set[str]:
    """Every reading of ``word``, built letter by letter and kept only while some term begins with it."""
    partial = {(article, 0)}
    done: set[str] = set()
    while partial:
        grown: set[tuple[str, int]] = set()
        for text, at in partial:
            if at == len(word):
                done.add(text)
                continue
            if word[at:] in _ENDINGS and text:
                done.add(text + "ه")
            for written in _SPELLINGS:
                if not word.startswith(written, at):
                    continue
                step = len(written)
                if at + step < len(word) and word[at + step] == word[at] and written.isalpha() and step == 1:
                    step += 1  # a doubled consonant is one letter under a shadda
                for letters in ARABIZI[written]:
                    longer = text + letters
                    if not letters or longer == text or vocabulary.has_prefix(longer):
                        grown.add((longer, at + step))
            if len(grown) > MAX_CANDIDATES:
                break
        partial = grown
    return done
