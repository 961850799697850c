"""A bulk load (POST /api/documents, one JSON document a line): its lines read, cut into parts, reported.

One commit of a whole load held the index's one writer for as long as the load took to embed: 20,000
short lines blocked every other write for over an hour, the request outlived the wait for its answer (a
503 that said nothing of which lines were kept), and a stop during it left them all stored and uncommitted.
So a load is committed in parts (:func:`jisr.web.documents.bulk` commits them one after another): at most
the ``bulk_commit_documents`` setting each, and each sized from the last one's pace (:class:`Pace`) to take
about ``bulk_commit_seconds``, so a write sent meanwhile waits for one part, not the load. Every line is
reported (:func:`report`): 201 created or 200 replaced with the commit that holds it, 400 when it is not a
document, or the status of the commit that failed; a part that fails, or a server stopping, ends the load.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from jisr.corpus import submitted

FIRST_PART = 50  # documents: a first guess at a part's size; each later one is sized from the last one's pace
GROWTH = 2  # a part is at most this many times the last one: a small part's fixed costs flatter its pace
ERRORS_SHOWN = 100  # lines that failed, listed under "errors" (every line is under "items")


@dataclass(frozen=True)
class Line:
    """A line that is a document: its number in the body, its id, its stored form, and whether a document of
    that id was there before (sent earlier, or on an earlier line)."""

    number: int
    id: str
    stored: dict
    existed: bool


def count(body: bytes) -> int:
    """Lines of ``body`` that hold something, counted before any is parsed (the bulk_max_lines setting)."""
    return sum(1 for line in body.split(b"\n") if line.strip())


def read(
    body: bytes, corpus_owned: Callable[[str], bool], held: Callable[[str], bool]
) -> tuple[list[Line], list[dict]]:
    """The documents of ``body`` and its other lines, each ``{"line", "status": 400, "message"}``: why it is
    not one. ``corpus_owned(id)``: the id is a file of the corpus folder's; ``held(id)``: it was sent before."""
    lines, bad, seen = [], [], set()
    for number, sent in enumerate(body.split(b"\n"), start=1):
        if not sent.strip():
            continue
        try:
            record = json.loads(sent.decode("utf-8"))  # strictly: bytes made U+FFFD would give another id
            if not isinstance(record, dict) or not isinstance(record.get("id"), str):
                raise ValueError('each line is a JSON object with an "id" string')
            doc_id = submitted.check_id(record.pop("id"))  # its NFC form: the one name of the document
            if corpus_owned(doc_id):
                raise ValueError(f"{doc_id!r} is a file of the corpus folder")
            lines.append(Line(number, doc_id, submitted.from_json(doc_id, record), doc_id in seen or held(doc_id)))
            seen.add(doc_id)
        except RecursionError:
            bad.append({"line": number, "status": 400, "message": "nested too deeply"})
        except UnicodeDecodeError as exc:
            bad.append(
                {
                    "line": number,
                    "status": 400,
                    "message": f"not valid UTF-8: the byte {sent[exc.start]:#04x} "
                    f"at column {exc.start + 1}; ids and text are sent as UTF-8",
                }
            )
        except ValueError as exc:
            bad.append(
                {
                    "line": number,
                    "status": 400,
                    "message": str(exc)
                    if not isinstance(exc, json.JSONDecodeError)
                    else f"not valid JSON ({exc.msg} at column {exc.colno})",
                }
            )
    return lines, bad


class Pace:
    """The size of a load's next part: what the last part's pace commits in ``seconds``, at most ``most``
    documents and ``GROWTH`` times the last part, at least one."""

    def __init__(self, most: int, seconds: float):
        self.most, self.seconds = most, seconds
        self.size = min(most, FIRST_PART)

    def parts(self, lines: list[Line]) -> Iterator[list[Line]]:
        """``lines`` in consecutive parts, each as large as :attr:`size` is when it is taken."""
        start = 0
        while start < len(lines):
            part = lines[start : start + self.size]
            start += len(part)
            yield part

    def took(self, documents: int, seconds: float) -> None:
        """A part of ``documents`` was committed in ``seconds``: size the next one from that pace."""
        paced = int(documents / max(seconds, 1e-3) * self.seconds)
        self.size = max(1, min(self.most, GROWTH * documents, paced))


def report(lines: list[Line], bad: list[dict], outcomes: dict[int, dict]) -> tuple[int, dict]:
    """The answer's status and body. ``outcomes``: by line number, ``{"generation"}`` once committed, else
    ``{"status", "error", "message"}`` of the failure (a line absent was never sent: the load ended before it).
    200 when every document was committed, 207 when some were, else the first failure's status."""
    items = list(bad)
    for line in lines:
        outcome = outcomes.get(
            line.number,
            {
                "status": 503,
                "error": "not_committed",
                "message": "the load ended before this line was committed; send it again",
            },
        )
        if "generation" in outcome:
            items.append(
                {
                    "line": line.number,
                    "id": line.id,
                    "status": 200 if line.existed else 201,
                    "result": "replaced" if line.existed else "created",
                    "generation": outcome["generation"],
                }
            )
        else:
            items.append({"line": line.number, "id": line.id, **outcome})
    items.sort(key=lambda item: item["line"])
    committed = [item for item in items if "generation" in item]
    failed = [item for item in items if "generation" not in item]
    body = {
        "loaded": len({item["id"] for item in committed}),
        "failed": len(failed),
        "not_committed": len(failed) - len(bad),
        "errors": [{"line": item["line"], "message": item["message"]} for item in failed[:ERRORS_SHOWN]],
        "generation": max((item["generation"] for item in committed), default=None),
        "commits": sorted({item["generation"] for item in committed}),
        "items": items,
    }
    if len(failed) == len(bad):
        return 200, body
    if committed:
        return 207, body
    first = next(item for item in failed if item["status"] != 400)
    return first["status"], {"error": first["error"], "message": first["message"], **body}
