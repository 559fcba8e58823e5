"""UN/EDIFACT syntax: interchanges read strictly and written, for every EDIFACT document
Tandem exchanges (sales and inventory reports, :mod:`domain.edi_reports`; orders and what
answers them, :mod:`domain.edi_orders`).

Pure. pydifact splits segments; this module adds what it lacks: UNA-per-interchange files,
UNG/UNE groups, and the checks that UNT/UNE/UNZ counts and references agree with what they
close. A file that is not well-formed raises :class:`~domain.ingest.FileError` naming the
segment's position (counted from 1, UNA counted).

Bytes are decoded by the first ``UNB``'s syntax identifier (``UNOA``/``UNOB``/``UNOC`` as
ISO 8859-1, ``UNOD``..``UNOK`` as the matching ISO 8859 part, ``UNOW``/``UNOY`` as UTF-8).
Without ``UNA`` the level A default separators ``:+.? '`` are assumed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any, NamedTuple

from pydifact.exceptions import EDISyntaxError, ValidationError
from pydifact.parser import Parser
from pydifact.segments import SegmentFactory

from domain import clock
from domain.ingest import FileError

# EDIFACT syntax identifiers -> Python codecs (UNOA/UNOB are subsets of ISO 8859-1).
CODECS = {
    "UNOA": "latin-1", "UNOB": "latin-1", "UNOC": "latin-1", "UNOD": "iso8859-2",
    "UNOE": "iso8859-5", "UNOF": "iso8859-7", "UNOG": "iso8859-3", "UNOH": "iso8859-4",
    "UNOI": "iso8859-6", "UNOJ": "iso8859-8", "UNOK": "iso8859-9", "UNOW": "utf-8",
    "UNOY": "utf-8",
}  # fmt: skip
DEFAULT_UNA = ":+.? '"  # ISO 9735 level A: component, element, decimal, release, reserved, end
BOM = "\ufeff"
BLANKS = " \t\r\n"


class Seg(NamedTuple):
    tag: str
    elements: tuple[Any, ...]  # each a str, or a list of component strs
    position: int


class Message(NamedTuple):
    kind: str
    segments: list[Seg]  # between UNH and UNT
    position: int  # UNH's
    reference: str = ""  # UNH's message reference (0062)
    interchange: Seg | None = None  # its UNB
    group: str = ""  # its UNG's reference, if in a group


class _RawFactory(SegmentFactory):
    """Hands pydifact's raw elements back untouched: no validation, no warnings."""

    @staticmethod
    def create_segment(name: str, *elements: Any, **_: Any) -> Any:
        return name, elements


def component(segment: Seg, index: int, part: int = 0) -> str:
    """Component ``part`` of element ``index`` (both 0-based), or ``""``."""
    if index >= len(segment.elements):
        return ""
    element = segment.elements[index]
    if isinstance(element, str):
        return element if part == 0 else ""
    return element[part] if part < len(element) else ""


def _escaped(text: str, at: int, release: str, start: int) -> bool:
    """Whether ``text[at]`` is preceded by an odd number of release characters."""
    count = 0
    while at - count - 1 >= start and text[at - count - 1] == release:
        count += 1
    return count % 2 == 1


def _syntax_of(raw: bytes) -> str:
    """The first UNB's syntax identifier, read from the bytes before decoding them."""
    text = raw.decode("latin-1")
    component, element = ":", "+"
    if text.startswith("UNA") and len(text) >= 9:
        component, element = text[3], text[4]
        text = text[9:].lstrip(BLANKS)
    if not text.startswith("UNB"):
        return ""
    return text[4:].split(element, 1)[0].split(component, 1)[0]


def text_of(data: bytes | str) -> tuple[str, str | None]:
    """The file as text, and the codec it was decoded with (``None`` if given text)."""
    if isinstance(data, str):
        return data.removeprefix(BOM), None
    raw = data.removeprefix(b"\xef\xbb\xbf").lstrip(BLANKS.encode())
    syntax = _syntax_of(raw)
    codec = CODECS.get(syntax)
    if codec is None:
        raise FileError(f"UNB syntax identifier {syntax!r} is not one this reader decodes")
    try:
        return raw.decode(codec), codec
    except UnicodeDecodeError as error:
        raise FileError(
            f"the bytes are not {codec} as UNB's {syntax} declares: {error.reason}"
        ) from None


def _edifact_segments(text: str) -> list[Seg]:
    """Every segment of every interchange, numbered from 1 (UNA counted)."""
    segments: list[Seg] = []
    offset, end = 0, len(text)
    while True:
        while offset < end and text[offset] in BLANKS:
            offset += 1
        if offset >= end:
            return segments
        position = len(segments)
        if text.startswith("UNA", offset):
            chars = text[offset + 3 : offset + 9]
            if len(chars) < 6 or len({chars[0], chars[1], chars[5]}) != 3:
                raise FileError("UNA does not declare three distinct separators", position + 1)
            segments.append(Seg("UNA", (chars,), position + 1))
            offset += 9
        else:
            chars = DEFAULT_UNA
        stop = _next_una(text, offset, chars)
        segments.extend(_parse_chunk(text[offset:stop].strip(BLANKS), chars, len(segments)))
        offset = stop


def _next_una(text: str, start: int, chars: str) -> int:
    """Where the next interchange's UNA starts (a UNA right after a terminator), or the end."""
    release, terminator = chars[3], chars[5]
    at = start
    while (found := text.find("UNA", at)) >= 0:
        before = found - 1
        while before >= start and text[before] in BLANKS:
            before -= 1
        at_terminator = before >= start and text[before] == terminator
        if at_terminator and (release == " " or not _escaped(text, before, release, start)):
            return found
        at = found + 1
    return len(text)


def _parse_chunk(body: str, chars: str, before: int) -> list[Seg]:
    """One interchange's segments through pydifact, numbered after ``before`` segments."""
    release, terminator = chars[3], chars[5]
    if release == " ":  # "no release character": give pydifact one that cannot occur
        chars = chars[:3] + "\x00" + chars[4:]
    if body and (body[-1] != terminator or _escaped(body, len(body) - 1, chars[3], 0)):
        body += terminator  # tolerate a missing final terminator, as the X12 layer does
    segments: list[Seg] = []
    try:
        parsed = Parser(factory=_RawFactory()).parse("UNA" + chars + body)
        next(parsed)  # the UNA we prepended, counted by the caller if it was in the file
        for tag, elements in parsed:
            position = before + len(segments) + 1
            if not (isinstance(tag, str) and len(tag) == 3 and tag.isalnum() and tag.isupper()):
                raise FileError(f"{tag!r} is not a segment tag", position)
            segments.append(Seg(tag, tuple(elements), position))
    except FileError:
        raise
    except (EDISyntaxError, ValidationError, IndexError, TypeError, ValueError) as error:
        # pydifact's own errors, and what its UNB handling raises on a malformed UNB
        raise FileError(f"not well-formed EDIFACT: {error}", before + len(segments) + 1) from None
    return segments


class _Open:
    """An open envelope (interchange, group or message) being checked."""

    def __init__(self, segment: Seg, reference: str) -> None:
        self.segment = segment
        self.reference = reference
        self.count = 0
        self.groups = 0
        self.body: list[Seg] = []


def messages(data: bytes | str, kinds: Collection[str] | None = None) -> list[Message]:
    """Every message of the file, envelopes checked strictly (counts and references,
    which pydifact does not check); with ``kinds``, every message must be one of them."""
    text, codec = text_of(data)
    found: list[Message] = []
    interchange = group = message = None
    for segment in _edifact_segments(text):
        tag, at = segment.tag, segment.position
        if tag == "UNA":
            if interchange is not None:
                raise FileError("UNA inside an open interchange (UNZ missing)", at)
        elif tag == "UNB":
            if interchange is not None:
                raise FileError("UNB inside an open interchange (UNZ missing)", at)
            syntax = component(segment, 0)
            if syntax not in CODECS:
                raise FileError(f"UNB syntax identifier {syntax!r} is unknown", at)
            if codec is not None and CODECS[syntax] != codec:
                raise FileError(f"UNB declares {syntax} but the file was decoded as {codec}", at)
            if not component(segment, 4):
                raise FileError("UNB has no interchange control reference (0020)", at)
            interchange = _Open(segment, component(segment, 4))
        elif interchange is None:
            raise FileError(f"{tag} outside an interchange (no UNB before it)", at)
        elif tag == "UNZ":
            if message is not None or group is not None:
                raise FileError(
                    f"UNZ closes an interchange whose {'message' if message else 'group'} is open",
                    at,
                )
            what, count = (
                ("groups", interchange.groups)
                if interchange.groups
                else ("messages", interchange.count)
            )
            _close_edifact(segment, "UNZ", count, what, interchange.reference, "UNB")
            interchange = None
        elif tag == "UNG":
            if message is not None or group is not None or interchange.count:
                raise FileError("UNG where a group cannot start", at)
            group = _Open(segment, component(segment, 4))
        elif tag == "UNE":
            if message is not None or group is None:
                raise FileError("UNE without an open group, or with a message open", at)
            _close_edifact(segment, "UNE", group.count, "messages", group.reference, "UNG")
            interchange.groups += 1
            group = None
        elif tag == "UNH":
            if message is not None:
                raise FileError("UNH inside an open message (UNT missing)", at)
            if interchange.groups and group is None:
                raise FileError("UNH outside a group in an interchange that uses groups", at)
            if not component(segment, 0) or not component(segment, 1):
                raise FileError("UNH needs a message reference and a message type", at)
            if kinds is not None and component(segment, 1) not in kinds:
                wanted = " or ".join(sorted(kinds))
                raise FileError(f"expected {wanted} messages, found {component(segment, 1)}", at)
            message = _Open(segment, component(segment, 0))
        elif message is None:
            raise FileError(f"{tag} outside a message (no UNH before it)", at)
        elif tag == "UNT":
            _close_edifact(
                segment, "UNT", len(message.body) + 2, "segments", message.reference, "UNH"
            )
            found.append(
                Message(
                    component(message.segment, 1),
                    message.body,
                    message.segment.position,
                    message.reference,
                    interchange.segment,
                    group.reference if group else "",
                )
            )
            (group or interchange).count += 1
            message = None
        else:
            message.body.append(segment)
    if interchange is not None:
        raise FileError("the file ends inside an open interchange (UNZ missing)")
    return found


def _close_edifact(
    trailer: Seg, tag: str, count: int, what: str, reference: str, header: str
) -> None:
    stated, given = component(trailer, 0), component(trailer, 1)
    if not (stated.isascii() and stated.isdigit()) or int(stated) != count:
        raise FileError(f"{tag} says {stated!r} {what} but there are {count}", trailer.position)
    if given != reference:
        raise FileError(
            f"{tag} reference {given!r} does not match {header}'s {reference!r}", trailer.position
        )


ESCAPES = str.maketrans({"?": "??", ":": "?:", "+": "?+", "'": "?'"})
WRITE_SYNTAXES = {
    "UNOB": ("latin-1", "3"),
    "UNOC": ("latin-1", "3"),
    "UNOW": ("utf-8", "4"),
    "UNOY": ("utf-8", "4"),
}


def write_segment(tag: str, *elements: str | tuple[str, ...]) -> str:
    """One EDIFACT segment with ``:+.? '`` separators, values escaped, empty tails dropped."""
    parts = []
    for element in elements:
        components = [element] if isinstance(element, str) else list(element)
        while components and not components[-1]:
            components.pop()
        parts.append(":".join(c.translate(ESCAPES) for c in components))
    while parts and not parts[-1]:
        parts.pop()
    return "+".join((tag, *parts)) + "'"


def is_gln(code: str) -> bool:
    return len(code) == 13 and code.isascii() and code.isdigit()


def _unb_party(code: str) -> tuple[str, str]:
    """An interchange party (S002/S003): qualifier 14 for a GLN, else ZZZ."""
    return (code, "14" if is_gln(code) else "ZZZ")


def document(
    messages: list[tuple[tuple[str, ...], list[str]]],
    *,
    sender: str,
    receiver: str,
    control: int,
    created: dt.datetime | None,
    syntax: str,
    newline: bool,
) -> str:
    """An interchange around ``(message identifier, body segments)`` (the identifier is
    UNH's S009, e.g. ``("ORDERS", "D", "96A", "UN", "EAN008")``), counts and references set."""
    if syntax not in WRITE_SYNTAXES:
        raise ValueError(f"syntax {syntax!r} is not one of {sorted(WRITE_SYNTAXES)}")
    if not 1 <= control <= 99_999_999_999_999:
        raise ValueError(f"control {control} is not an interchange control reference (an..14)")
    codec, version = WRITE_SYNTAXES[syntax]
    when = created or clock.now()
    date = when.strftime("%Y%m%d" if version == "4" else "%y%m%d")
    out = [
        "UNA" + DEFAULT_UNA,
        write_segment(
            "UNB", (syntax, version), _unb_party(sender), _unb_party(receiver),
            (date, when.strftime("%H%M")), str(control),
        ),
    ]  # fmt: skip
    for number, (identifier, body) in enumerate(messages, 1):
        out.append(write_segment("UNH", str(number), identifier))
        out.extend(body)
        out.append(write_segment("UNT", str(len(body) + 2), str(number)))
    out.append(write_segment("UNZ", str(len(messages)), str(control)))
    text = ("\n" if newline else "").join(out) + ("\n" if newline else "")
    try:
        text.encode(codec)
    except UnicodeEncodeError as error:
        raise ValueError(
            f"{error.object[error.start : error.end]!r} cannot be written in {syntax}"
        ) from None
    return text
