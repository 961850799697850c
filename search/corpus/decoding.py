"""Bytes of a text file -> its text and the encoding it was in.

Much older Arabic text is stored in Windows-1256 or ISO-8859-6, and Windows tools write UTF-16 with
a byte-order mark; skipping those as "not UTF-8" loses the user's documents. A byte-order mark is
trusted first, then strict UTF-8 (by far the most common, and never a false positive on Arabic in an
8-bit code page), and only then charset-normalizer (MIT, maintained; it told cp1256, ISO-8859-6 and
BOM-less UTF-16 apart on the seed article, down to its first 80 bytes). Bytes that no encoding reads
as plausible text are binary: the caller skips them with the reason.
"""

from __future__ import annotations

import codecs

BOMS = (  # UTF-32 first: its little-endian mark begins with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class Undecodable(ValueError):
    """The bytes are not text in any encoding that could be told; the message says so for the skip list."""


def decode(raw: bytes) -> tuple[str, str]:
    """(text, encoding name). UTF-8 text keeps a leading BOM character, so offsets count it as before."""
    for bom, codec in BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(codec), codec
            except UnicodeDecodeError as exc:
                raise Undecodable(
                    f"starts with a {codec.upper()} byte-order mark but is not {codec.upper()} (byte {exc.start})"
                ) from None
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc.start
    from charset_normalizer import from_bytes  # only for the files that need it

    best = from_bytes(raw).best()
    if best is None:
        raise Undecodable(f"binary or in no known text encoding (not UTF-8 from byte {utf8_error})")
    return str(best), best.encoding
