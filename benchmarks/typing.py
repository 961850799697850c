"""Queries typed another way: MRR@10 of XQuAD's held-out Arabic questions typed correctly, on the wrong keyboard
layout and in Arabizi, of its held-out English questions typed correctly and on the Arabic layout, and how often
a correctly typed question is searched as something else.

The wrong-layout questions are the Arabic questions typed key for key on the Latin layout
(:func:`jisr.answers.typing.to_layout`), the English ones key for key on the Arabic layout, capitals with Shift
(:func:`jisr.answers.typing.from_layout`). The Arabizi questions are this script's own deterministic conversion
of the Arabic questions (:func:`to_arabizi`): letter by letter, the usual digit letters (ع 3, ح 7, خ 5, ط 6,
ق 9, the hamza forms 2), long vowels as a/ee/oo, no short vowels added (the Arabic does not write them),
ta marbuta as a. Each is ranked as search ranks it (hybrid, lang any: :meth:`Searcher.as_read
<jisr.answers.searcher.Searcher.as_read>`, Arabizi beside the text as typed). Usage:
    python -m benchmarks.typing [--xquad ../shared/data/xquad] [--articles N] [--questions N] [--work DIR]
        [--model PATH] [--out FILE [--quick]]
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.contention import cpu
from benchmarks.labeled import QUICK, reciprocal_rank, set_arguments, write_set
from benchmarks.quick import RESULTS, model_argument, parse
from jisr import BuildOptions, Index, build
from jisr.answers import typing
from jisr.evaluate import as_searched

OUT = RESULTS / "typing.md"
ARABIZI = {
    **dict(zip("ابتثجحخدذرزسشصضطظعغفقكلمنهوي", "abtxg75dzrzsxsd6z3xf9klmnhwy")),
    "ث": "th",
    "ذ": "dh",
    "ش": "sh",
    "غ": "gh",
    "ض": "d",
    "ظ": "z",
    "ء": "2",
    "أ": "2",
    "إ": "2",
    "ئ": "2",
    "ؤ": "2",
    "آ": "2a",
    "ى": "a",
    "ة": "a",
    "ا": "a",
    "و": "o",
    "ي": "i",
}


def to_arabizi(text: str) -> str:
    """Arabic ``text`` in Arabizi, letter by letter (see the module's docstring); marks dropped, the rest kept."""
    text = re.sub("[\u064b-\u065f\u0670\u0640]", "", text)
    out = []
    for word in text.split():
        letters = []
        for i, c in enumerate(word):
            latin = ARABIZI.get(c, c)
            if c in "وي" and (i == 0 or word[i - 1] == "ا" or i + 1 < len(word) and word[i + 1] == "ا"):
                latin = "w" if c == "و" else "y"  # a consonant beside alef or first: w, y
            letters.append(latin)
        out.append("".join(letters).replace("؟", "?").replace("،", ","))
    return " ".join(out)


def ranked(searcher, questions: list, name: str, form) -> tuple[str, float, float]:
    """(``name``, MRR@10 of ``questions`` typed as ``form`` types them, the share search converted)."""
    found, converted = [], 0
    for q in questions:
        meant, _, _, (ids, _, _, _) = searcher.as_read(form(q.text), "hybrid", lang="any")
        converted += meant is not None
        found.append(reciprocal_rank(searcher, q, ids))
    return name, float(np.mean(found)), converted / len(questions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    set_arguments(parser, hadith=False)
    parser.add_argument("--work", default=None, help="where the XQuAD index is built (default: temp)")
    model_argument(parser)
    args = parse(parser, OUT, articles=QUICK["articles"], questions=QUICK["questions"])
    print(f"CPU: {cpu()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work or tmp)
        queries = write_set("xquad", work / "xquad" / "corpus", args)
        build(work / "xquad" / "corpus", work / "xquad" / "index", args.model, BuildOptions())
        with Index.open(work / "xquad" / "index", args.model) as index:
            searcher = index.searcher
            queries = as_searched(searcher, queries)
            vocabulary = searcher.index.vocabulary()
            held_out = [q for q in queries if q.lang == "ar" and q.split == "test"]
            held_out_en = [q for q in queries if q.lang == "en" and q.split == "test"]
            forms = {"typed correctly": lambda t: t, "wrong layout": typing.to_layout, "Arabizi": to_arabizi}
            rows = [ranked(searcher, held_out, name, form) for name, form in forms.items()]
            english = {"typed correctly": lambda t: t, "on the Arabic layout": typing.from_layout}
            rows_en = [ranked(searcher, held_out_en, name, form) for name, form in english.items()]
            correct = [q.text for q in queries]  # every question of both languages, both halves, typed correctly
            false = {
                lang: [t for t, q in zip(correct, queries) if q.lang == lang and typing.reading(t, vocabulary)]
                for lang in ("en", "ar")
            }
            spent = []
            for t in correct:
                started = time.perf_counter()
                typing.reading(t, vocabulary)
                spent.append((time.perf_counter() - started) * 1000)
    base, base_en = rows[0][1], rows_en[0][1]
    asked = {lang: sum(q.lang == lang for q in queries) for lang in ("en", "ar")}
    lines = [
        "# Queries typed with the wrong keyboard layout or in Arabizi (XQuAD, held-out questions)",
        "",
        f"CPU: {cpu()}; 2 cores shared with other work while it ran (a busy machine: times are upper bounds). "
        f"Written by `python -m benchmarks.typing`; {len(held_out)} held-out Arabic and {len(held_out_en)} "
        f"held-out English questions, {len(vocabulary)} terms in the index's vocabulary. Hybrid ranking, lang any, "
        "each query ranked as search ranks it (`Searcher.as_read`: Arabizi beside the text as typed).",
        "",
        "| Arabic questions | MRR@10 | x typed correctly | searched as converted |",
        "|---|---|---|---|",
        *(f"| {name} | {m:.4f} | {m / base if base else 0:.3f} | {share:.1%} |" for name, m, share in rows),
        "",
        "| English questions | MRR@10 | x typed correctly | searched as converted |",
        "|---|---|---|---|",
        *(f"| {name} | {m:.4f} | {m / base_en if base_en else 0:.3f} | {share:.1%} |" for name, m, share in rows_en),
        "",
        "| correctly typed questions | questions | searched as something else | share |",
        "|---|---|---|---|",
        *(f"| {lang} | {asked[lang]} | {len(false[lang])} | {len(false[lang]) / asked[lang]:.2%} |" for lang in false),
        "",
        f"Time to decide a correctly typed question needs no conversion: p50 {np.percentile(spent, 50):.3f} ms, "
        f"p99 {np.percentile(spent, 99):.3f} ms (the vocabulary merged beforehand, once per commit).",
        "",
        "The wrong-layout questions are the Arabic ones typed key for key on the Latin layout "
        "(`jisr.answers.typing.to_layout`). The Arabizi ones are this script's own deterministic conversion "
        "of the Arabic questions (`to_arabizi`): letter by letter, digit letters for ع ح خ ط ق and hamza, "
        "long vowels only, ta marbuta as a; real Arabizi varies more. The English questions on the Arabic "
        "layout are typed key for key as written, capitals with Shift (`jisr.answers.typing.from_layout`: "
        "`weather` is `صثشفاثق`, `W` is the shifted key's `ً`); a correctly typed Arabic question searched as "
        "English counts in the table of false conversions (row ar).",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
