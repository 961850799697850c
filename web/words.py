"""Every word the pages say, in Arabic and English: one table, so that no string is left half translated.

A page is in Arabic unless its address says ``ui=en``; the switch is a link that keeps the rest of the
address. Messages for readers say what happened and what they can do; what an operator needs (paths,
commands) goes to the server's log instead. A count is said with its noun in the form the number takes:
English has two forms, Arabic six (zero, one, two, few, many, other), chosen by CLDR's plural rules through
Babel rather than by rules of our own.
"""

from __future__ import annotations

from babel import Locale

UIS = ("ar", "en")
DEFAULT_UI = "ar"

WORDS: dict[str, tuple[str, str]] = {  # key: (Arabic, English)
    "site": ("جسر", "jisr"),
    "tagline": (
        "اسأل بالعربية أو بالإنجليزية، واعثر على المقاطع العربية التي تجيب.",
        "Ask in Arabic or English; find the Arabic passages that answer.",
    ),
    "switch": ("English", "العربية"),
    "query": ("ابحث في المجموعة", "Search the collection"),
    "placeholder": ("مثال: ما اسم حاملة الطائرات الفرنسية؟", "e.g. Which French aircraft carrier sailed east?"),
    "search": ("ابحث", "Search"),
    "advanced": ("خيارات متقدمة", "More options"),
    "per_page": ("عدد النتائج", "Results per page"),
    "passages_in": ("لغة المقاطع", "Passages in"),
    "lang_ar": ("العربية فقط", "Arabic only"),
    "lang_any": ("أي لغة", "Any language"),
    "ranking": ("طريقة الترتيب", "Ranking"),
    "mode_hybrid": ("الأفضل (معنى وكلمات)", "Best (meaning and words)"),
    "mode_dense": ("المعنى العام للمقطع", "Meaning of the whole passage"),
    "mode_sentence": ("المعنى مع أقرب جملة", "Meaning, with the closest sentence"),
    "mode_lexical": ("الكلمات نفسها فقط", "The same words only"),
    "collection": ("المجموعة", "Collection"),
    "about": ("في المجموعة {documents}، وفيها {passages}.", "The collection holds {documents} in {passages}."),
    "examples": ("جرّب:", "Try:"),
    "results": ("النتائج", "Results"),
    "count_total": ("{shown}؛ {matches}", "{shown}; {matches}"),
    "count_from": ("النتائج من {first} إلى {last}", "Results {first} to {last}"),
    "none_found": (
        "لم يُعثر على أي مقطع. جرّب كلمات أخرى، أو اختر «أي لغة».",
        "No passages were found. Try other words, or choose “Any language”.",
    ),
    "no_match": (
        "لا يوجد مقطع يطابق هذا البحث جيدًا؛ هذه أقرب المقاطع.",
        "No passage matches this query well; these are the nearest.",
    ),
    "weak_match": ("لا توجد إلا مطابقات ضعيفة لهذا البحث.", "Only weak matches for this query."),
    "match_strong": ("مطابقة قوية", "strong match"),
    "match_weak": ("مطابقة ضعيفة", "weak match"),
    "match_none": ("لا تطابق جيدًا", "no good match"),
    "more": ("المزيد من هذه الوثيقة", "More from this document"),
    "collections": ("المجموعات", "Collections"),
    "all_collections": ("كل المجموعات", "All collections"),
    "all_values": ("الكل", "All"),
    "top_collection": ("خارج المجلدات", "Outside the folders"),
    "passage_n": ("المقطع {n}", "passage {n}"),
    "open": ("افتح الوثيقة عند هذا المقطع", "Open the document at this passage"),
    "next": ("النتائج التالية", "Next results"),
    "previous": ("النتائج السابقة", "Previous results"),
    "pages": ("صفحات النتائج", "Result pages"),
    "cut": ("البحث طويل؛ بُحث في أوله فقط: «{read}»", "The search is long; only its beginning was searched: “{read}”"),
    "showing_for": ("النتائج لـ «{searched}»", "Showing results for “{searched}”"),
    "search_instead": ("ابحث بدلًا من ذلك عن", "search instead for"),
    "did_you_mean": ("هل تقصد:", "Did you mean:"),
    "original": ("الملف الأصلي", "The original file"),
    "back": ("العودة إلى النتائج", "Back to the results"),
    "new_search": ("بحث جديد", "New search"),
    "api": ("واجهة JSON للبرامج", "JSON API for programs"),
    # errors, for readers
    "too_long": ("البحث أطول من {limit}؛ اختصره.", "The search is longer than {limit}; shorten it."),
    "bad_text": (
        "في البحث رموز لا يمكن قراءتها؛ اكتبه من جديد.",
        "The search holds characters that cannot be read; type it again.",
    ),
    "bad_request": (
        "لا يمكن إجراء هذا البحث بهذه الخيارات؛ جرّب الخيارات الافتراضية.",
        "This search cannot be run with these options; try the default ones.",
    ),
    "busy": ("الخادم مشغول الآن؛ أعد المحاولة بعد {seconds}.", "The server is busy; try again in {seconds}."),
    "not_ready": (
        "المجموعة قيد التحضير؛ أعد المحاولة بعد دقيقة.",
        "The collection is being prepared; try again in a minute.",
    ),
    "no_document": ("لا توجد وثيقة بهذا الاسم: «{doc_id}».", "There is no document named “{doc_id}”."),
    "no_page": ("لا توجد صفحة بهذا العنوان.", "There is no page at this address."),
    "wrong_method": ("لا يمكن استخدام هذه الصفحة بهذه الطريقة.", "This page cannot be used that way."),
}

# noun: (Arabic, English) forms of a count, by CLDR plural category; "{n}" is the number. An Arabic form is the
# case its one sentence needs: "seconds" and "characters" follow a preposition (genitive: the dual in -ين).
COUNTED: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "results": (
        {
            "zero": "لا نتائج",
            "one": "نتيجة واحدة",
            "two": "نتيجتان",
            "few": "{n} نتائج",
            "many": "{n} نتيجة",
            "other": "{n} نتيجة",
        },
        {"one": "{n} result", "other": "{n} results"},
    ),
    "documents": (
        {
            "zero": "لا وثائق",
            "one": "وثيقة واحدة",
            "two": "وثيقتان",
            "few": "{n} وثائق",
            "many": "{n} وثيقة",
            "other": "{n} وثيقة",
        },
        {"one": "{n} document", "other": "{n} documents"},
    ),
    "passages": (
        {
            "zero": "لا مقاطع",
            "one": "مقطع واحد",
            "two": "مقطعان",
            "few": "{n} مقاطع",
            "many": "{n} مقطعًا",
            "other": "{n} مقطع",
        },
        {"one": "{n} passage", "other": "{n} passages"},
    ),
    "matches": (
        {
            "zero": "لا مطابقات",
            "one": "مطابقة واحدة",
            "two": "مطابقتان",
            "few": "{n} مطابقات",
            "many": "{n} مطابقة",
            "other": "{n} مطابقة",
        },
        {"one": "{n} match", "other": "{n} matches"},
    ),
    "seconds": (
        {
            "zero": "{n} ثانية",
            "one": "ثانية واحدة",
            "two": "ثانيتين",
            "few": "{n} ثوانٍ",
            "many": "{n} ثانية",
            "other": "{n} ثانية",
        },
        {"one": "{n} second", "other": "{n} seconds"},
    ),
    "characters": (
        {
            "zero": "{n} حرف",
            "one": "حرف واحد",
            "two": "حرفين",
            "few": "{n} أحرف",
            "many": "{n} حرفًا",
            "other": "{n} حرف",
        },
        {"one": "{n} character", "other": "{n} characters"},
    ),
}
PLURAL_FORM = {ui: Locale.parse(ui).plural_form for ui in UIS}  # n -> "zero", "one", "two", "few", "many", "other"


def ui_of(args) -> str:
    """The language a page is shown in: ``ui`` of its address, else Arabic."""
    ui = args.get("ui")
    return ui if ui in UIS else DEFAULT_UI


class Words:
    """The table in one language: ``words.key``, or ``words("key", n=3)`` for a message with values."""

    def __init__(self, ui: str):
        self.ui = ui
        self.dir = "rtl" if ui == "ar" else "ltr"
        self.other = "en" if ui == "ar" else "ar"

    def __getattr__(self, key: str) -> str:
        if key not in WORDS:
            raise AttributeError(key)
        return WORDS[key][UIS.index(self.ui)]

    def __call__(self, key: str, **values) -> str:
        return WORDS[key][UIS.index(self.ui)].format(**values)

    def counted(self, noun: str, n: int) -> str:
        """``n`` and ``noun`` as this language says that many: "1 document", "وثيقتان" (two), "3 وثائق"."""
        return COUNTED[noun][UIS.index(self.ui)][PLURAL_FORM[self.ui](n)].format(n=n)
