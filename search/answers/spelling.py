"""Did you mean: an Arabic query word the index does not know, and the frequent term it was likely meant to be.

A word typed with a slip (a neighbouring key on the Arabic 101 layout, a letter dropped or doubled, two
letters swapped) is one or two edits from the word meant. :func:`suggestion` tries the edits of each unknown
word of an Arabic query against the index's vocabulary (:mod:`jisr.index.vocabulary`, folded as BM25 folds:
the hamza forms, ta marbuta and alef maqsura are one letter there already) and keeps the cheapest candidate
the index holds often, the most frequent of those. The edits are made on the word as typed, so the suggestion
keeps the user's spelling of every letter the edit did not touch (ة stays ة). A word is left alone when the
index knows it in any form (stem, clitics, pronoun suffixes) or when written Arabic uses it often (wordfreq's
Arabic list): a question word or a verb form the index happens not to hold is no typo.

Candidates are generated per query rather than looked up in a per-commit index of deletes (symmetric delete,
as symspellpy does): such an index holds every term's one- and two-letter deletes, tens of entries per
term, rebuilt at every commit, while an unknown word in a query is rare and its edits are few hundred
look-ups (benchmarks/results/did_you_mean.md). A known word, a number, a Latin query: nothing is tried.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from jisr import arabic
from jisr.index.vocabulary import Vocabulary

# The folded Arabic letters an edit may insert or put in place of another.
LETTERS = "ءابتثجحخدذرزسشصضطظعغفقكلمنهوي"
# The letters a word most often loses when typed fast: the long vowels and the lam of the article.
DROPPED = "اويل"
# The Arabic 101 layout's letter keys, row by row as they lie (b types lam-alef: no one letter).
_ROWS = ("ضصثقفغعهخحجد", "شسيبلاتنمكط", "ئءؤر\0ىةوزظ")
SLIP = 1.0  # an edit a typist makes: a neighbouring key, a dropped, doubled or extra neighbouring letter, a swap
OTHER = 1.5  # any other letter put in, left out or in place of another
FAR_COUNT = 4  # an edit other than a slip, or two slips, reach many more terms: only a frequent one is meant
MIN_COUNT = 2  # passages that must hold a term for it to be suggested: a term seen once may be a typo itself
CLITICS = "وفبلك"  # letters written onto a word: and, so, with, for, like
PARTICLES = ("ما", "من", "في", "عن", "لا", "يا")  # short words typed onto the next with no space between
SUFFIXES = ("هما", "ها", "هم", "هن", "كم", "نا", "ه", "ك", "ي", "ا")  # pronouns, and the accusative's alef (folded)
# wordfreq's Zipf frequency (log10 of uses per billion words) at which a word is common: chosen on the tune
# halves (benchmarks/did_you_mean.py), where common typos ("الطائرت") stay below it.
COMMON_ZIPF = 1.5
MAX_TRIED = 4  # unknown words of one query whose edits are tried: a long query of names costs no more than this
MIN_LETTERS = 3  # shorter words are a letter or two from too many others to guess which was meant
_FOLD = arabic._FOLD  # the index's folding of one letter into another (hamza forms, ta marbuta, alef maqsura)
_WORD = re.compile("[\u0621-\u063a\u0641-\u064a\u0671\u064b-\u065f\u0670\u0640]+")  # Arabic letters and marks


def _neighbours() -> dict[str, str]:
    """Each folded letter's neighbouring keys: beside it in its row, and the two keys above and below it."""
    near: dict[str, set[str]] = {}
    for r, row in enumerate(_ROWS):
        for i, key in enumerate(row):
            around = [row[j] for j in (i - 1, i + 1) if 0 <= j < len(row)]
            if r > 0:
                around += [_ROWS[r - 1][j] for j in (i, i + 1) if j < len(_ROWS[r - 1])]
            if r + 1 < len(_ROWS):
                around += [_ROWS[r + 1][j] for j in (i - 1, i) if 0 <= j < len(_ROWS[r + 1])]
            folded = key.translate(_FOLD)
            near.setdefault(folded, set()).update(a.translate(_FOLD) for a in around if a != "\0")
    return {k: "".join(sorted(v - {k})) for k, v in near.items() if k != "\0"}


NEIGHBOURS = _neighbours()


def edits(word: str, slips_only: bool = False) -> Iterator[tuple[str, float]]:
    """Each string one edit from ``word``, with the edit's cost (:data:`SLIP` or :data:`OTHER`); with
    ``slips_only`` only the slips (the second edit of two slips), so that two edits stay a few thousand strings."""
    n = len(word)
    for i in range(n):  # a letter too many: doubled, or a neighbouring key pressed with it, is a slip
        c = word[i]
        near = NEIGHBOURS.get(c, "")
        slip = (i > 0 and (word[i - 1] == c or word[i - 1] in near)) or (
            i + 1 < n and (word[i + 1] == c or word[i + 1] in near)
        )
        if slip or not slips_only:
            yield word[:i] + word[i + 1 :], SLIP if slip else OTHER
    for i in range(n - 1):  # two letters swapped
        if word[i] != word[i + 1]:
            yield word[:i] + word[i + 1] + word[i] + word[i + 2 :], SLIP
    for i in range(n):  # a letter in place of another: a neighbouring key is a slip
        near = NEIGHBOURS.get(word[i], "")
        for c in near if slips_only else LETTERS:
            if c != word[i]:
                yield word[:i] + c + word[i + 1 :], SLIP if c in near else OTHER
    for i in range(n + 1):  # a letter left out: a long vowel or the article's lam is a slip
        for c in DROPPED if slips_only else LETTERS:
            yield word[:i] + c + word[i:], SLIP if c in DROPPED else OTHER


def known(word: str, vocabulary: Vocabulary) -> bool:
    """Whether ``word`` (folded) is a word: the index knows it as it is, by its stem, after a clitic written onto
    it (و ف ب ل ك), before a pronoun or the accusative alef on its end, or after a particle run into it with no
    space (ماسم: ما اسم, which no one edit mends). A correct form the index lacks is not corrected into another
    word."""
    forms = [word[: -len(end)] for end in SUFFIXES if word.endswith(end) and len(word) - len(end) >= MIN_LETTERS]
    if any(t in vocabulary for form in [word, *forms] for t in arabic.terms(form)):
        return True
    if word[0] in CLITICS and word[1:] in vocabulary:  # what the stemmer left on: لأبولو, والاحتراق
        return True
    rests = [word[len(p) :] for p in PARTICLES if word.startswith(p)]  # a space left out; ما+اسم is typed ماسم
    return any(rest in vocabulary or "ا" + rest in vocabulary for rest in rests)


def common(word: str) -> bool:
    """Whether written Arabic uses ``word`` (as typed) often (wordfreq's Arabic list): a question word, a
    verb form, a word the index happens not to hold, is no typo."""
    import wordfreq  # its Arabic list is read on first use

    return wordfreq.zipf_frequency(word, "ar") >= COMMON_ZIPF


def correction(word: str, vocabulary: Vocabulary) -> str | None:
    """The term ``word`` (Arabic letters, no marks) was likely meant to be, spelled as ``word`` spells the letters
    the edits kept; None when the index knows ``word`` or no frequent term is one edit or two slips from it."""
    folded = word.translate(_FOLD)
    return None if _is_word(word, folded, vocabulary) else _nearest(word, folded, vocabulary)


def _is_word(word: str, folded: str, vocabulary: Vocabulary) -> bool:
    """Whether ``word`` (``folded``) is left as typed: too short to guess at, known to the index, or common."""
    return len(folded) < MIN_LETTERS or known(folded, vocabulary) or common(word)


def _nearest(word: str, folded: str, vocabulary: Vocabulary) -> str | None:
    """:func:`correction`'s search, for a word that is not one."""
    best: tuple[float, int, str] | None = None  # (cost, -count, candidate): the least first
    count = vocabulary.count
    first = [(c, cost) for c, cost in edits(folded) if not _affixed(folded, c)]
    for candidate, cost in first:
        n = count(candidate)
        if n >= (MIN_COUNT if cost == SLIP else FAR_COUNT) and (best is None or (cost, -n, candidate) < best):
            best = (cost, -n, candidate)
    if best is None:  # two slips, the second from the first (any other pair of edits is too far)
        for once, cost in first:
            if cost == SLIP:
                for candidate, more in edits(once, slips_only=True):
                    n = count(candidate)
                    if (
                        n >= FAR_COUNT
                        and candidate != folded
                        and not _affixed(folded, candidate)
                        and (best is None or (cost + more, -n, candidate) < best)
                    ):
                        best = (cost + more, -n, candidate)
    return None if best is None else _spelled(word, folded, best[2])


def _affixed(word: str, candidate: str) -> bool:
    """Whether ``candidate`` is ``word`` with the article or a clitic put on or taken off its front: another
    form of the same word, not what a slip made of it (ميثوديين is not a typo of الميثوديين)."""
    short, long = sorted((word, candidate), key=len)
    return long.endswith(short) and len(long) > len(short) and long[: len(long) - len(short)] in _PREFIXES


_PREFIXES = frozenset({"ال", *CLITICS, *(c + "ال" for c in CLITICS), "لل"})


def _spelled(word: str, folded: str, candidate: str) -> str:
    """``candidate`` with the letters it shares with ``folded`` at its ends spelled as ``word`` spells them (the
    fold maps one letter to one, so ``word`` and ``folded`` align letter for letter)."""
    head = 0
    while head < min(len(folded), len(candidate)) and folded[head] == candidate[head]:
        head += 1
    tail = 0
    while tail < min(len(folded), len(candidate)) - head and folded[-1 - tail] == candidate[-1 - tail]:
        tail += 1
    typed = list(word[head : len(word) - tail])  # a letter the edits moved keeps its spelling too (حامةل -> حاملة)
    middle = []
    for letter in candidate[head : len(candidate) - tail]:
        same = next((c for c in typed if c.translate(_FOLD) == letter), letter)
        if same in typed:
            typed.remove(same)
        middle.append(same)
    return word[:head] + "".join(middle) + word[len(word) - tail :]


def suggestion(query: str, vocabulary: Vocabulary | Callable[[], Vocabulary]) -> str | None:
    """``query`` with each Arabic word the index does not know (the first :data:`MAX_TRIED` of them) replaced by
    :func:`correction`'s term, marks of the replaced words dropped and everything else as typed; None when no
    word was replaced, and for a query not in Arabic. ``vocabulary``: the index's, or a function that gives it
    (asked only for an Arabic query)."""
    if arabic.language(query) != "ar":
        return None
    if callable(vocabulary):
        vocabulary = vocabulary()
    if not len(vocabulary):
        return None
    out, at, changed, tried = [], 0, False, 0
    for found in _WORD.finditer(query):
        plain = arabic.strip_diacritics(found.group()).replace("\u0640", "")
        if not plain or (found.end() < len(query) and query[found.end()].isdigit()):
            continue  # a word run into digits is a number or a code, not a word to correct
        if found.start() > 0 and query[found.start() - 1].isdigit():
            continue
        folded = plain.translate(_FOLD)
        if _is_word(plain, folded, vocabulary):
            continue
        tried += 1
        if tried > MAX_TRIED:
            break
        better = _nearest(plain, folded, vocabulary)
        if better is not None:
            out += [query[at : found.start()], better]
            at, changed = found.end(), True
    return "".join([*out, query[at:]]) if changed else None
