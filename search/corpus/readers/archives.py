"""Compressed files (a .docx is a zip archive) are measured before a reader inflates them.

A zip bomb is a small file that inflates to gigabytes: a .docx of a few hundred kilobytes whose document.xml
is a billion repeated bytes. python-docx reads each part of the package whole into memory, so such a file sent
to the document API or dropped in a corpus folder took the server's memory with it. Before a reader opens an
archive, :func:`check` inflates every member as a stream, a chunk at a time, keeping nothing: it stops at
the first member that grows past ``max_inflation_ratio`` times its compressed size (once past a grace size,
as Apache POI's ZipSecureFile does, so a small run of blanks is not refused) or when the members together
pass ``max_inflated_bytes``. A file that passes has a known inflated size, which is all the reader can then
hold; one that fails is :class:`TooInflated`, named with the limit and the figures (a build skips it, the
document API answers 413).
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass

from jisr import settings
from jisr.corpus.readers import Unreadable

ARCHIVES = (".docx",)  # the suffixes whose readers open a zip archive
CHUNK = 2**16  # bytes inflated at a time: what the check holds of a member
GRACE = 2**20  # inflated bytes of a member before its ratio counts


@dataclass(frozen=True)
class InflationLimits:
    """How far an archive may inflate: in all (bytes) and any member against its compressed size."""

    max_bytes: int = settings.default("max_inflated_bytes")
    max_ratio: int = settings.default("max_inflation_ratio")

    @classmethod
    def of(cls, chosen: settings.Settings | None = None) -> InflationLimits:
        """The limits ``chosen`` sets (default: this process's settings, :func:`jisr.settings.current`)."""
        build = (chosen or settings.current()).build
        return cls(build.max_inflated_bytes, build.max_inflation_ratio)


class TooInflated(Unreadable):
    """An archive inflates past a limit; the message names the member, the limit's setting and the figures."""


def check(name: str, raw: bytes, limits: InflationLimits | None = None) -> None:
    """Nothing if ``raw`` (the bytes of the file ``name``) is no archive or inflates within ``limits``
    (default: the settings'); else TooInflated, or Unreadable for an archive that cannot be read."""
    if not name.lower().endswith(ARCHIVES):
        return
    limits = limits or InflationLimits.of()
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            total = 0
            for member in archive.infolist():
                total = _inflate(archive, member, total, limits, len(raw))
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,
        RuntimeError,
        EOFError,
        zlib.error,
    ) as exc:  # damaged, an unknown compression, encrypted
        raise Unreadable(f"not a readable {name[name.rfind('.') :].lower()} file ({type(exc).__name__})") from None


def _inflate(archive: zipfile.ZipFile, member: zipfile.ZipInfo, total: int, limits: InflationLimits, size: int) -> int:
    """``total`` plus the bytes ``member`` inflates to, read a chunk at a time; TooInflated past a limit."""
    grown = 0
    with archive.open(member) as stream:
        while chunk := stream.read(CHUNK):
            grown += len(chunk)
            if total + grown > limits.max_bytes:
                raise TooInflated(
                    f"inflates past {limits.max_bytes} bytes, the max_inflated_bytes setting "
                    f"({member.filename} reached {grown} bytes; the file has {size})"
                )
            if grown > GRACE and grown > limits.max_ratio * max(member.compress_size, 1):
                raise TooInflated(
                    f"{member.filename} inflates past {limits.max_ratio} times its "
                    f"{member.compress_size} compressed bytes, the max_inflation_ratio setting "
                    f"(it reached {grown} bytes)"
                )
    return total + grown
