"""A small, strict ANSI X12 reader and writer: envelopes, delimiters, counts, control numbers.

Pure: bytes in, interchanges out (and back). No Python X12 library is good enough
(``../shared/notes/edi.md``), so this is Tandem's own. It

- reads the delimiters from each ISA header (ISA is fixed-width: element separator at
  offset 3, component separator at 104, segment terminator at 105), so non-printable
  delimiters and newline terminators work;
- accepts several interchanges per file, a UTF-8 byte-order mark, line breaks between
  segments (or wrapping them, when the terminator is not itself a line break) and a
  missing final terminator;
- refuses, naming the segment's position, anything else wrong with the envelopes: a
  segment outside its envelope, a missing trailer, a count (SE01, GE01, IEA01) that
  disagrees with what it closes, or a control number (SE02, GE02, IEA02) that differs
  from its header's (exactly: IEA02 is 9 digits, so "3438" does not match "000003438").

What the transaction sets mean (850, 852, 846, ...) is for the readers built on this.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

ISA_LENGTH = 106
BOM = "\ufeff"
# Where the element separator stands in the fixed-width ISA (ISA01..ISA16 widths
# 2,10,2,10,2,15,2,15,6,4,1,5,9,1,1,1).
LINE_BREAKS = "\r\n"  # not X12 data unless they are the segment terminator
BETWEEN_INTERCHANGES = " \t\r\n"
ENVELOPE_TAGS = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})
ISA_SEPARATORS = (3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103)


class X12Error(ValueError):
    """A document that is not well-formed X12. ``position`` is the 1-based segment number
    in the file (0 for the file as a whole)."""

    def __init__(self, message: str, position: int = 0) -> None:
        self.position = position
        super().__init__(f"segment {position}: {message}" if position else message)


@dataclass(frozen=True)
class Delimiters:
    element: str = "*"
    component: str = ">"
    segment: str = "~"
    repetition: str | None = None


class Segment(NamedTuple):
    """A segment: its tag and its elements (``elements[0]`` is X12's element 01). A named
    tuple: a file holds hundreds of thousands, and a tuple is made fastest."""

    tag: str
    elements: tuple[str, ...]
    position: int = 0

    def get(self, number: int, default: str = "") -> str:
        """Element ``number`` (1-based, as X12 numbers them), or ``default`` if absent."""
        return self.elements[number - 1] if number <= len(self.elements) else default


@dataclass
class Transaction:
    """One transaction set (ST..SE): its code (e.g. "850") and the segments between."""

    code: str
    control_number: str
    segments: list[Segment] = field(default_factory=list)
    position: int = 0


@dataclass
class Group:
    """One functional group (GS..GE)."""

    functional_id: str
    sender: str
    receiver: str
    date: str
    time: str
    control_number: str
    version: str
    transactions: list[Transaction] = field(default_factory=list)


@dataclass
class Interchange:
    """One interchange (ISA..IEA) with its sender, receiver and control number."""

    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    date: str
    time: str
    version: str
    control_number: str
    usage: str
    delimiters: Delimiters
    groups: list[Group] = field(default_factory=list)

    def transactions(self) -> Iterator[tuple[Group, Transaction]]:
        for group in self.groups:
            for transaction in group.transactions:
                yield group, transaction


def digits(text: str) -> bool:
    """Whether the text is ASCII digits only (``str.isdigit`` also takes e.g. "³")."""
    return text.isascii() and text.isdigit()


def decode(data: bytes | str) -> str:
    """Text from a file's bytes: UTF-8 (ASCII is a subset), else ISO-8859-1, no BOM."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    else:
        text = data
    return text.removeprefix(BOM)


def delimiters_of(header: str, position: int = 1) -> Delimiters:
    """The delimiters an ISA header declares (it must be the full, fixed-width 106 chars)."""
    if not header.startswith("ISA") or len(header) < ISA_LENGTH:
        raise X12Error("an interchange must start with a 106-character ISA header", position)
    element, component, segment = header[3], header[104], header[105]
    widths_ok = all(header[i] == element for i in ISA_SEPARATORS)
    if not widths_ok or header.count(element, 0, ISA_LENGTH) != 16:
        raise X12Error(
            "the ISA header is not fixed-width: its 16 elements must be padded to size",
            position,
        )
    if len({element, component, segment}) != 3 or element.isalnum() or segment.isalnum():
        raise X12Error("the ISA header's delimiters are not three distinct separators", position)
    repetition = header[82]
    usable = repetition not in (element, component, segment) and not repetition.isalnum()
    return Delimiters(element, component, segment, repetition if usable else None)


def _interchanges(text: str) -> Iterator[tuple[Delimiters, list[str]]]:
    """Each interchange's delimiters and its segments' text, in order (empty ones and
    the line breaks and padding between segments dropped).

    An interchange spans from its ISA to the end of its IEA (found by one search from
    its start), and only that span is split, so a file of many interchanges is read in
    one pass; the next one is read from there with its own delimiters.
    """
    offset = 0
    count = 0
    while True:
        while offset < len(text) and text[offset] in BETWEEN_INTERCHANGES:
            offset += 1
        if offset >= len(text):
            return
        if not text.startswith("ISA", offset):
            raise X12Error("expected an ISA header between interchanges", count + 1)
        delimiters = delimiters_of(text[offset : offset + ISA_LENGTH], count + 1)
        terminator, separator = delimiters.segment, delimiters.element
        end, sep = re.escape(terminator), re.escape(separator)
        trailer = re.compile(f"{end}[ \t\r\n]*(IEA)(?:{sep}|{end}|$)")
        found = trailer.search(text, offset)
        stop = len(text)
        if found is not None:
            after = text.find(terminator, found.start(1))  # the IEA's own end
            stop = after if after >= 0 else len(text)
        span = text[offset:stop]
        # Mailboxes often wrap long lines; unless a line break is the terminator itself,
        # line breaks anywhere in a segment are not data.
        unwrap = terminator not in LINE_BREAKS
        segments = span.split(terminator)
        padded = f"{terminator} " in span or f"{terminator}\t" in span
        if not unwrap or padded or "\r" in span or "\n" in span:
            cleaned = []
            for raw in segments:
                if unwrap:
                    if "\r" in raw or "\n" in raw:
                        raw = raw.replace("\r", "").replace("\n", "")
                else:
                    raw = raw.strip(LINE_BREAKS)
                if raw and raw[0] in " \t":
                    raw = raw.lstrip(" \t")  # padding after a terminator; no tag starts blank
                if raw:
                    cleaned.append(raw)
            segments = cleaned
        elif terminator * 2 in span or not segments[-1]:
            segments = [raw for raw in segments if raw]
        count += len(segments)
        yield delimiters, segments
        offset = stop + len(terminator)


#: A segment made straight from its tuple (a named tuple's own constructor is Python code).
_make = tuple.__new__


def parse(data: bytes | str) -> list[Interchange]:
    """Every interchange in the file, with its envelopes checked. Raises :class:`X12Error`."""
    text = decode(data)
    interchanges: list[Interchange] = []
    interchange: Interchange | None = None
    group: Group | None = None
    transaction: Transaction | None = None
    position = 0
    for delimiters, raws in _interchanges(text):
        separator = delimiters.element
        for raw in raws:
            position += 1
            parts = raw.split(separator)
            tag = parts[0]
            segment = _make(Segment, (tag, tuple(parts[1:]), position))
            if transaction is not None and tag not in ENVELOPE_TAGS:
                transaction.segments.append(segment)  # the body of a set: most segments
                continue
            if tag == "ISA":
                if interchange is not None:
                    raise X12Error("ISA inside an open interchange (IEA missing)", position)
                interchange = _interchange(segment, delimiters)
            elif interchange is None:
                raise X12Error(f"{tag} outside an interchange", position)
            elif tag == "IEA":
                if group is not None:
                    raise X12Error("IEA closes an interchange whose group has no GE", position)
                _close("IEA", segment, len(interchange.groups), interchange.control_number)
                interchanges.append(interchange)
                interchange = None
            elif tag == "GS":
                if group is not None:
                    raise X12Error("GS inside an open group (GE missing)", position)
                group = Group(*(segment.get(n) for n in (1, 2, 3, 4, 5, 6, 8)))
                if not digits(group.control_number):
                    raise X12Error(f"GS06 {group.control_number!r} is not a number", position)
            elif group is None:
                raise X12Error(f"{tag} outside a functional group", position)
            elif tag == "GE":
                if transaction is not None:
                    raise X12Error("GE closes a group whose transaction set has no SE", position)
                _close("GE", segment, len(group.transactions), group.control_number)
                interchange.groups.append(group)
                group = None
            elif tag == "ST":
                if transaction is not None:
                    raise X12Error("ST inside an open transaction set (SE missing)", position)
                transaction = Transaction(segment.get(1), segment.get(2), [], position)
                if not transaction.code or not transaction.control_number:
                    raise X12Error("ST needs a transaction set code and control number", position)
            elif transaction is None:
                raise X12Error(f"{tag} outside a transaction set", position)
            elif tag == "SE":
                _close("SE", segment, len(transaction.segments) + 2, transaction.control_number)
                group.transactions.append(transaction)
                transaction = None
            else:
                transaction.segments.append(segment)
    if interchange is not None or group is not None or transaction is not None:
        raise X12Error("the file ends inside an open envelope")
    if not interchanges:
        raise X12Error("no interchange: an X12 file starts with ISA")
    return interchanges


def _interchange(segment: Segment, delimiters: Delimiters) -> Interchange:
    control = segment.get(13)
    if len(control) != 9 or not digits(control):
        raise X12Error(f"ISA13 {control!r} is not a 9-digit control number", segment.position)
    return Interchange(
        sender_qualifier=segment.get(5),
        sender_id=segment.get(6).strip(),
        receiver_qualifier=segment.get(7),
        receiver_id=segment.get(8).strip(),
        date=segment.get(9),
        time=segment.get(10),
        version=segment.get(12),
        control_number=control,
        usage=segment.get(15),
        delimiters=delimiters,
    )


def _close(tag: str, trailer: Segment, count: int, control: str) -> None:
    """Check a trailer's count (element 1) and control number (element 2)."""
    what = {"SE": "segments", "GE": "transaction sets", "IEA": "functional groups"}[tag]
    header = {"SE": "ST02", "GE": "GS06", "IEA": "ISA13"}[tag]
    stated, reference = trailer.get(1), trailer.get(2)
    if not digits(stated) or int(stated) != count:
        raise X12Error(f"{tag}01 says {stated!r} {what} but there are {count}", trailer.position)
    if reference != control:
        raise X12Error(
            f"{tag}02 {reference!r} does not match {header} {control!r}", trailer.position
        )


def serialize(interchanges: Sequence[Interchange], newline: bool = False) -> str:
    """The interchanges as X12 text, each with its own delimiters and recomputed trailers.
    A value that holds its interchange's element separator or segment terminator is a
    ValueError naming the element: X12 has no escape."""
    out: list[str] = []
    for ic in interchanges:
        d = ic.delimiters
        end = d.segment + ("\n" if newline else "")

        def line(tag: str, *elements: str, d: Delimiters = d, end: str = end) -> str:
            for number, value in enumerate(elements, 1):
                if d.element in value or d.segment in value:
                    # A value holding a delimiter would end its element or segment early:
                    # another segment could be injected through it.
                    raise ValueError(f"{tag}{number:02d} {value!r} holds an X12 delimiter")
            return d.element.join((tag, *elements)) + end

        out.append(
            line(
                "ISA",
                "00",
                " " * 10,
                "00",
                " " * 10,
                ic.sender_qualifier.ljust(2),
                ic.sender_id.ljust(15),
                ic.receiver_qualifier.ljust(2),
                ic.receiver_id.ljust(15),
                ic.date,
                ic.time,
                d.repetition or "U",
                ic.version,
                ic.control_number,
                "0",
                ic.usage,
                d.component,
            )
        )
        for g in ic.groups:
            out.append(
                line(
                    "GS",
                    g.functional_id,
                    g.sender,
                    g.receiver,
                    g.date,
                    g.time,
                    g.control_number,
                    "X",
                    g.version,
                )
            )
            for t in g.transactions:
                out.append(line("ST", t.code, t.control_number))
                out.extend(line(s.tag, *s.elements) for s in t.segments)
                out.append(line("SE", str(len(t.segments) + 2), t.control_number))
            out.append(line("GE", str(len(g.transactions)), g.control_number))
        out.append(line("IEA", str(len(ic.groups)), ic.control_number))
    return "".join(out)
