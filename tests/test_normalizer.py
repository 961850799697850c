"""What the model reads: Arabic without its marks, for every model; what people see keeps them."""

import json
import shutil

import numpy as np
import pytest

from jisr.answers.searcher import Searcher
from jisr.embeddings import load_model, normalizer
from jisr.index import commit as commits
from jisr.index.build import build
from jisr.index.local import store
from tests.conftest import SEEDS

VOCALIZED = [
    "أَخْبَرَنَا قُتَيْبَةُ بْنُ سَعِيدٍ، قَالَ حَدَّثَنَا سُفْيَانُ، عَنِ الزُّهْرِيِّ",
    '\u200f"\u200f إِذَا اسْتَيْقَظَ أَحَدُكُمْ مِنْ نَوْمِهِ فَلاَ يَغْمِسْ يَدَهُ فِي وَضُوئِهِ \u200f"\u200f',
    "قُلْ هُوَ ٱللَّهُ أَحَدٌ ۝ ٱللَّهُ ٱلصَّمَدُ ۝",
    "إِنَّ هَٰذَا ٱلْقُرْءَانَ يَهْدِى لِلَّتِى هِىَ أَقْوَمُ",
]
PLAIN = [
    "أخبرنا قتيبة بن سعيد، قال حدثنا سفيان، عن الزهري",
    '" إذا استيقظ أحدكم من نومه فلا يغمس يده في وضوئه "',
    "قل هو الله أحد ۝ الله الصمد ۝",
    "إن هذا القرءان يهدى للتى هى أقوم",
]


def test_strip_marks_removes_marks_and_format_characters_only():
    assert [normalizer.strip_marks(t) for t in VOCALIZED] == PLAIN
    kept = "أإآ ة ى ؤ ئ ء ۝ 2015 café"  # letters (hamza forms, ta marbuta) and signs are not folded
    assert normalizer.strip_marks(kept) == kept
    assert normalizer.strip_marks("ٱلْكِتَابُ") == "الكتاب"  # alef wasla is an alef with a mark
    assert normalizer.strip_marks("كـــتـــاب\u200b\u202bنص\u202c\u2066\ufeff") == "كتابنص"


def test_every_model_reads_the_text_without_marks(tiny_model):
    assert tiny_model.normalizer == normalizer.NAME
    ids = lambda text: tiny_model.tokenizer(text)["input_ids"]  # noqa: E731
    assert [ids(t) for t in VOCALIZED] == [ids(t) for t in PLAIN]
    before = tiny_model.tokenizer.backend_tokenizer.normalizer.__getstate__()
    normalizer.apply(tiny_model)  # applying again changes nothing
    assert tiny_model.tokenizer.backend_tokenizer.normalizer.__getstate__() == before


@pytest.mark.slow
def test_the_default_model_reads_vocalized_text_as_plain_text_for_a_third_of_the_tokens(default_model):
    from tokenizers import Tokenizer

    vectors = default_model.encode_document(VOCALIZED + PLAIN)
    cos = (vectors[: len(PLAIN)] * vectors[len(PLAIN) :]).sum(1)
    assert cos.min() > 0.9999, cos
    raw = Tokenizer.from_str(default_model.tokenizer.backend_tokenizer.to_str())
    raw.normalizer = raw.normalizer[2]  # the tokenizer as it was, without the marks rule
    before = sum(len(raw.encode(t).ids) for t in VOCALIZED)
    after = sum(len(default_model.tokenizer(t)["input_ids"]) for t in VOCALIZED)
    assert after * 3 <= before, (before, after)


def test_passages_keep_their_marks_and_the_index_records_the_rule(tmp_path, tiny_model):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "hadith.txt").write_text("كتاب الطهارة\n" + "\n".join(VOCALIZED) + "\n", encoding="utf-8")
    build(corpus, tmp_path / "index", tiny_model)
    index = store.load(tmp_path / "index")
    assert index.manifest["model"]["normalizer"] == normalizer.NAME
    assert [p.text for p in index.passages(index.ids())] == [t.strip() for t in VOCALIZED]
    result = Searcher(index, tiny_model).search(PLAIN[1], k=1, lang="any").to_json()["results"][0]
    assert result["text"] == VOCALIZED[1].strip()  # what people see keeps its marks
    assert result["highlight"]["text"] in result["text"]


@pytest.mark.parametrize(
    "edit,message",
    [
        (lambda m: {**m, "model": {**m["model"], "normalizer": "none"}}, "rebuild the index"),
        (lambda m: {**m, "format": 1}, "format 1"),  # an index from before the rule
    ],
)
def test_an_index_read_through_another_rule_is_refused(tmp_path, tiny_model, edit, message):
    shutil.copytree(SEEDS, tmp_path / "corpus")
    build(tmp_path / "corpus", tmp_path / "index", tiny_model)
    path = commits.current_commit(tmp_path / "index")
    path.write_text(json.dumps(edit(json.loads(path.read_text()))))
    with pytest.raises(store.IndexUnavailable, match=message):
        Searcher.open(tmp_path / "index", tiny_model)


def test_hub_style_models_get_the_rule_too(tiny_model_path, tmp_path):
    """A model folder saved without jisr (no normalizer in its tokenizer file) reads through it once loaded."""
    model = load_model(str(tiny_model_path))
    saved = json.loads((tiny_model_path / "tokenizer.json").read_text())
    assert "\\u064b" not in json.dumps(saved["normalizer"]).lower()
    a, b = model.encode_document([VOCALIZED[0], PLAIN[0]])
    assert float(np.dot(a, b)) > 0.9999
