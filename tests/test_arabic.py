from jisr import arabic


def test_normalize_folds_spelling_variants():
    assert arabic.normalize("أَحْمَد") == arabic.normalize("احمد")
    assert arabic.normalize("إسلام") == arabic.normalize("اسلام") == arabic.normalize("آسلام".replace("آ", "ا"))
    assert arabic.normalize("مدرسة") == arabic.normalize("مدرسه")
    assert arabic.normalize("مستشفى") == arabic.normalize("مستشفي")
    assert arabic.normalize("جـــميل") == "جميل"  # tatweel
    assert arabic.normalize("Putin") == "putin"


def test_normalize_keeps_distinct_words_distinct():
    assert arabic.normalize("كتب") != arabic.normalize("كتاب")


def test_language_by_script():
    assert arabic.language("وجه الرئيس الروسي") == "ar"
    assert arabic.language("Russian President Vladimir Putin") == "en"
    assert arabic.language("بوتين Putin بوتين") == "ar"
    assert arabic.language("2015") == "en"


def test_terms_are_normalized_words_then_the_stems_that_differ():
    assert arabic.terms("الدولةُ الإسلامية، 2015!") == ["الدوله", "الاسلاميه", "2015", "دول", "اسلام"]
    assert arabic.terms("Putin") == ["putin"]
    assert arabic.terms("فَلاَ يَغْمِسْ يَدَهُ", stems=False) == ["فلا", "يغمس", "يده"]  # vocalized words stay whole
    # a plural and a singular meet on their stem, though the words differ
    assert set(arabic.terms("المكتبات")) & set(arabic.terms("مكتبة")) == {"مكتب"}
