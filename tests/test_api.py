"""The JSON API over real HTTP: `jisr serve` in its own process on 127.0.0.1."""

import json
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest


def call(url: str, method: str = "GET", body: bytes | None = None, content_type: str | None = None):
    req = urllib.request.Request(url, data=body, method=method)
    if content_type:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.headers, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, e.headers, json.loads(e.read())


def get(server, path, **params):
    return call(server + path + ("?" + urllib.parse.urlencode(params) if params else ""))


def test_get_search_english_and_arabic(server):
    status, _, body = get(server, "/api/search", q="Which French aircraft carrier sailed east?", k=3)
    assert status == 200
    assert set(body) >= {"query", "model", "took_ms", "results"}
    assert body["model"] == "multilingual-e5-small" and len(body["results"]) == 3
    assert "ديغول" in body["results"][0]["text"]
    status, _, body = get(server, "/api/search", q="مباحثات هاتفية بين بوتين والرئيس الفرنسي")
    assert status == 200 and "عبر الهاتف" in body["results"][0]["text"] and len(body["results"]) == 9


def test_arabic_typed_on_the_latin_layout_is_searched_as_meant(server):
    status, _, body = get(server, "/api/search", q="phlgm hg'hzvhj", k=2)
    assert status == 200
    assert body["searched_as"] == "حاملة الطائرات" and body["typed"] == "phlgm hg'hzvhj"
    assert body["query"] == "phlgm hg'hzvhj"
    assert all("حاملة الطائرات" in r["text"] for r in body["results"]) and body["match"] == "strong"
    _, _, meant = get(server, "/api/search", q="حاملة الطائرات", k=2)
    assert [r["text"] for r in body["results"]] == [r["text"] for r in meant["results"]]
    assert "searched_as" not in meant and "typed" not in meant
    status, _, as_typed = get(server, "/api/search", q="phlgm hg'hzvhj", k=2, as_typed=1)
    assert status == 200 and "searched_as" not in as_typed and as_typed["match"] != "strong"
    status, _, english = get(server, "/api/search", q="French aircraft carrier", k=2)
    assert status == 200 and "searched_as" not in english
    status, _, arabizi = get(server, "/api/search", q="7amlet el ta2erat", k=2)
    assert status == 200 and arabizi["searched_as"] == "حامله الطايرات" and arabizi["typed"] == "7amlet el ta2erat"
    assert "حاملة الطائرات" in arabizi["results"][0]["text"]


def test_an_arabic_word_the_index_does_not_know_gets_a_suggestion(server):
    status, _, body = get(server, "/api/search", q="حاملة الطائرت شارل ديغول", k=2)
    assert status == 200 and body["suggest"] == "حاملة الطائرات شارل ديغول"
    assert "searched_as" not in body and body["query"] == "حاملة الطائرت شارل ديغول"  # searched as typed: it matched
    _, _, meant = get(server, "/api/search", q="حاملة الطائرات شارل ديغول", k=2)
    assert "suggest" not in meant  # every word known
    _, _, alone = get(server, "/api/search", q="الطائرت", k=2)  # nothing matched as typed: the suggestion searched
    assert alone["searched_as"] == "الطائرات" and alone["typed"] == "الطائرت" and "suggest" not in alone
    assert alone["match"] == "strong" and "الطائرات" in alone["results"][0]["text"]
    _, _, as_typed = get(server, "/api/search", q="الطائرت", k=2, as_typed=1)
    assert "suggest" not in as_typed and "searched_as" not in as_typed and as_typed["match"] != "strong"
    for query in ("French aircraft carrier", "2020", "حاملة الطائرات"):
        status, _, plain = get(server, "/api/search", q=query, k=1)
        assert status == 200 and "suggest" not in plain and "searched_as" not in plain


def test_the_page_says_did_you_mean_in_both_languages(server):
    with urllib.request.urlopen(server + "/?" + urllib.parse.urlencode({"q": "حاملة الطائرت شارل ديغول"})) as r:
        page = r.read().decode()
    assert "هل تقصد:" in page and "Did you mean:" in page
    link = re.search(r'class="suggested" href="([^"]*)"[^>]*>([^<]*)</a>', page)
    assert link and link[2] == "حاملة الطائرات شارل ديغول"
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(link[1].replace("&amp;", "&")).query)["q"] == [link[2]]
    with urllib.request.urlopen(server + "/?" + urllib.parse.urlencode({"q": "حاملة الطائرات شارل ديغول"})) as r:
        assert "Did you mean" not in r.read().decode()


def test_arabizi_is_searched_beside_the_text_as_typed(server):
    _, _, both = get(server, "/api/search", q="7amlet el ta2erat", k=10, lang="any", group="none")
    _, _, typed = get(server, "/api/search", q="7amlet el ta2erat", k=10, lang="any", group="none", as_typed=1)
    _, _, reading = get(server, "/api/search", q="حامله الطايرات", k=10, lang="any", group="none")
    assert both["searched_as"] == "حامله الطايرات" and "searched_as" not in typed
    texts = [r["text"] for r in both["results"]]
    assert {r["text"] for r in typed["results"]} <= set(texts)  # nothing the text as typed finds is lost
    assert texts[0] == reading["results"][0]["text"] and "حاملة الطائرات" in texts[0]
    assert both["match"] == reading["match"] == "strong"


def test_english_typed_on_the_arabic_layout_is_searched_as_meant(server):
    typed = "بقثىؤا شهقؤقشبف ؤشققهثق"  # "french aircraft carrier" with the keyboard left on the Arabic layout
    status, _, body = get(server, "/api/search", q=typed, k=2)
    assert status == 200 and body["searched_as"] == "french aircraft carrier" and body["typed"] == typed
    _, _, meant = get(server, "/api/search", q="french aircraft carrier", k=2)
    assert [r["text"] for r in body["results"]] == [r["text"] for r in meant["results"]]
    assert "ديغول" in body["results"][0]["text"]
    status, _, as_typed = get(server, "/api/search", q=typed, k=2, as_typed=1)
    assert status == 200 and "searched_as" not in as_typed
    status, _, arabic = get(server, "/api/search", q="حاملة الطائرات الفرنسية", k=2)
    assert status == 200 and "searched_as" not in arabic


def test_the_page_says_what_was_searched_in_both_languages(server):
    with urllib.request.urlopen(server + "/?" + urllib.parse.urlencode({"q": "phlgm hg'hzvhj"}), timeout=60) as r:
        page = r.read().decode()
    assert "النتائج لـ «حاملة الطائرات»" in page and "Showing results for “حاملة الطائرات”" in page
    link = re.search(r'class="as-typed" href="([^"]*)"[^>]*>([^<]*)</a>', page)
    assert link and link[2] == "phlgm hg&#39;hzvhj" and "as_typed=1" in link[1] and "q=phlgm" in link[1]
    with urllib.request.urlopen(server + "/?" + urllib.parse.urlencode({"q": "phlgm hg'hzvhj", "as_typed": 1})) as r:
        assert "Showing results for" not in r.read().decode()


def test_post_returns_the_same_json_as_get(server):
    _, _, by_get = get(server, "/api/search", q="Hollande Washington", k=4, lang="any")
    status, _, by_post = call(
        server + "/api/search",
        "POST",
        json.dumps({"q": "Hollande Washington", "k": 4, "lang": "any"}).encode(),
        "application/json",
    )
    assert status == 200
    by_get.pop("took_ms"), by_post.pop("took_ms")
    by_get.pop("cached", None), by_post.pop("cached", None)  # the second may be the first's, from the cache
    assert by_get == by_post


@pytest.mark.parametrize(
    "params,fragment",
    [
        ({}, "empty"),
        ({"q": ""}, "empty"),
        ({"q": "   "}, "empty"),
        ({"q": "x" * 1001}, "1000"),
        ({"q": "a", "k": "ten"}, "whole number"),
        ({"q": "a", "k": "0"}, "1 to 100"),
        ({"q": "a", "k": "101"}, "1 to 100"),
        ({"q": "a", "k": "2.5"}, "whole number"),
        ({"q": "a", "lang": "fr"}, "lang"),
        ({"q": "a", "mode": "x"}, "mode"),
        ({"q": "a", "as_typed": "maybe"}, "as_typed"),
    ],
)
def test_get_errors_are_400_json(server, params, fragment):
    status, _, body = get(server, "/api/search", **params)
    assert status == 400 and body["error"] == "bad_request" and fragment in body["message"]


@pytest.mark.parametrize(
    "body,content_type,fragment",
    [
        (b'{"q": "a"', "application/json", "not valid JSON"),
        (b"q=a", "application/x-www-form-urlencoded", "Content-Type: application/json"),
        (b'{"q": "a"}', "text/plain", "Content-Type: application/json"),
        (b'["a"]', "application/json", "must be an object"),
        (b'{"k": 3}', "application/json", "empty"),
        (b'{"q": 42}', "application/json", "must be text, not int"),
        (b'{"q": ["a", "b"]}', "application/json", "must be text, not list"),
        (b'{"q": "a", "k": true}', "application/json", "whole number"),
        (b'{"q": "a", "k": 1000}', "application/json", "1 to 100"),
    ],
)
def test_post_errors_are_400_json(server, body, content_type, fragment):
    status, _, answer = call(server + "/api/search", "POST", body, content_type)
    assert status == 400 and fragment in answer["message"], answer


def test_unknown_paths_and_methods(server):
    status, _, body = get(server, "/api/nothing")
    assert status == 404 and body["error"] == "not_found" and "/openapi.json" in body["message"]
    status, headers, body = call(server + "/api/search", "DELETE")
    assert status == 405 and "GET" in headers["Allow"] and body["error"] == "method_not_allowed"
    status, _, body = call(server + "/healthz", "POST", b"{}", "application/json")
    assert status == 405


def test_healthz_and_openapi(server):
    status, _, body = get(server, "/healthz")
    assert status == 200 and body["passages"] == 10 and body["model"] == "multilingual-e5-small"
    status, _, spec = get(server, "/openapi.json")
    assert status == 200 and spec["openapi"].startswith("3.")
    assert {"get", "post"} <= set(spec["paths"]["/api/search"])


def test_concurrent_requests_from_several_threads(server):
    queries = ["French aircraft carrier", "مباحثات هاتفية", "Hollande Washington", "صواريخ كروز", "Shoigu bombers"] * 8
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda q: get(server, "/api/search", q=q, k=5), queries))
    assert all(status == 200 and len(body["results"]) == 5 for status, _, body in answers)
    tops = {}
    for q, (_, _, body) in zip(queries, answers):
        tops.setdefault(q, set()).add(body["results"][0]["ordinal"])
    assert all(len(v) == 1 for v in tops.values())  # same answer whatever the interleaving


def test_no_index_gives_503_with_instructions(tmp_path, default_model):
    from jisr.web import create_app
    from tests.conftest import serving

    app = create_app({"INDEX": str(tmp_path / "missing"), "MODEL": None})
    with serving(app) as base:
        status, _, body = get(base, "/api/search", q="test")
        assert status == 503 and body["error"] == "no_index" and "jisr build" in body["message"]
        status, _, body = get(base, "/healthz")
        assert status == 503
        status, _, body = get(base, "/api/doc/a.txt")
        assert status == 503 and body["error"] == "no_index"


@pytest.mark.parametrize(
    "body,fragment",
    [
        (b"[" * 20_000 + b"]" * 20_000, "nested too deeply"),  # under the body limit, far over any sane depth
        (b'{"q":' * 10_000, "nested too deeply"),  # unclosed objects
        (b'{"q": "\xff\xfe"}', "not valid JSON"),  # bytes that are not UTF-8
        (b'{"q": "\\ud800"}', "not valid text"),  # a lone surrogate
    ],
)
def test_hostile_json_bodies_are_400_json(server, body, fragment):
    status, _, answer = call(server + "/api/search", "POST", body, "application/json")
    assert status == 400 and fragment in answer["message"], answer


def test_an_oversized_body_is_413_json(server):
    status, _, answer = call(server + "/api/search", "POST", b'{"q": "' + b"a" * 200_000 + b'"}', "application/json")
    assert status == 413 and answer["error"] == "request_entity_too_large" and "bytes" in answer["message"]


def _raw(base: str, data: bytes, wait: float = 60.0) -> tuple[bytes, float]:
    """Send ``data`` on a fresh connection; return what the server sent until it closed, and after how long."""
    host, port = base.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=wait) as s:
        s.sendall(data)
        received = b""
        while chunk := s.recv(65536):
            received += chunk
    return received, time.monotonic() - started


INCOMPLETE = [
    b"",  # connected, sent nothing
    b'POST /api/search HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"q": "x',
    b"GET /api/search?q=carrier HTTP/1.1\r\nHost: a\r\n",  # headers never end
]


def test_incomplete_requests_are_closed_by_the_server(server):
    """A request that never completes is closed after the server's timeout (the request_timeout setting,
    10 s, checked every second), not held for waitress's default 120 s; the client here waits up to 60 s."""
    with ThreadPoolExecutor(len(INCOMPLETE)) as pool:
        for received, _ in pool.map(lambda data: _raw(server, data), INCOMPLETE):
            assert received == b"", received[:200]
    assert get(server, "/api/search", q="carrier")[0] == 200


def test_a_garbage_request_line_is_answered_and_the_server_goes_on(server):
    received, _ = _raw(server, b"\x16\x03\x01 GARBAGE \xff\r\n\r\n")
    assert received.startswith(b"HTTP/1.") and b" 400 " in received.split(b"\r\n")[0], received[:200]
    assert get(server, "/api/search", q="carrier")[0] == 200


def test_a_results_document_is_served_whole_and_an_unknown_one_is_404(server):
    status, _, answer = get(server, "/api/search", q="Hollande trip to Washington", k=1)
    top = answer["results"][0]
    status, _, doc = call(server + "/api/doc/" + urllib.parse.quote(top["doc_id"]))
    assert status == 200 and doc["doc_id"] == top["doc_id"] and doc["title"] == top["title"]
    assert [p["ordinal"] for p in doc["passages"]] == list(range(len(doc["passages"])))
    assert doc["passages"][top["ordinal"]]["text"] == top["text"]
    status, _, missing = call(server + "/api/doc/" + urllib.parse.quote("nothing/here.txt#7"))
    assert status == 404 and missing["error"] == "not_found" and "nothing/here.txt#7" in missing["message"]
