"""The strict X12 layer against real documents (../shared/samples/edi) and crafted faults."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.x12 import Delimiters, X12Error, delimiters_of, parse, serialize

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples" / "edi" / "x12"
MALFORMED = {
    "malformed/ctrl-numbers-mismatch.edi": "SE02 '0002' does not match ST02 '0001'",
    "malformed/wrong-group-and-ts-count.edi": "GE01 says '2' transaction sets but there are 1",
    "malformed/multi-interchange-iea02-unpadded.edi": "IEA02 '3438' does not match ISA13",
    "850/850-edinet-bom-iea-mismatch.edi": "IEA02 '000000001' does not match ISA13 '000000055'",
    "810/810-edinet-a.edi": "the ISA header is not fixed-width",
}
GOOD = sorted(
    str(p.relative_to(SAMPLES))
    for p in SAMPLES.rglob("*")
    if p.is_file() and str(p.relative_to(SAMPLES)) not in MALFORMED
)


def envelope(ics):
    return [
        (
            (ic.sender_id, ic.receiver_id, ic.control_number, ic.version),
            [(g.functional_id, g.control_number, g.version) for g in ic.groups],
            [
                (t.code, t.control_number, [(s.tag, s.elements) for s in t.segments])
                for _, t in ic.transactions()
            ],
        )
        for ic in ics
    ]


def test_the_samples_are_there():
    assert len(GOOD) >= 18, f"../shared/samples/edi/x12 is missing or incomplete: {SAMPLES}"


@pytest.mark.parametrize("name", GOOD)
def test_real_documents_parse_and_survive_a_round_trip(name):
    interchanges = parse((SAMPLES / name).read_bytes())
    assert interchanges
    assert all(ic.groups for ic in interchanges)
    assert envelope(parse(serialize(interchanges))) == envelope(interchanges)
    assert envelope(parse(serialize(interchanges, newline=True))) == envelope(interchanges)


@pytest.mark.parametrize(("name", "reason"), sorted(MALFORMED.items()))
def test_malformed_documents_are_refused_with_the_reason(name, reason):
    with pytest.raises(X12Error, match=reason):
        parse((SAMPLES / name).read_bytes())


def test_delimiters_come_from_each_isa_even_non_printable_ones():
    (vics,) = parse((SAMPLES / "850/850-004010VICS-bots-01.x12").read_bytes())
    assert vics.delimiters == Delimiters(element="\x7f", component=">", segment="\x15")
    assert [t.code for _, t in vics.transactions()] == ["850"] * len(vics.groups[0].transactions)


def test_several_interchanges_in_one_file_each_keep_their_own_envelope():
    text = (SAMPLES / "malformed/multi-interchange-iea02-unpadded.edi").read_text()
    fixed = text.replace("IEA*2*3438", "IEA*2*000003438").replace("IEA*2*3439", "IEA*2*000003439")
    interchanges = parse(fixed)
    assert len(interchanges) == 2
    assert len({ic.control_number for ic in interchanges}) == 2


ISA = (
    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
    "*261123*1200*U*00401*000000101*0*P*>~"
)
BODY = "GS*PO*S*R*20261123*1200*7*X*004010~ST*850*0001~BEG*00*SA*PO1**20261123~SE*3*0001~GE*1*7~"
GOOD_DOC = ISA + BODY + "IEA*1*000000101~"


def test_a_well_formed_crafted_document_parses():
    (ic,) = parse(GOOD_DOC)
    assert (ic.sender_id, ic.receiver_id, ic.usage) == ("SENDER", "RECEIVER", "P")
    (group,) = ic.groups
    ((_, transaction),) = list(ic.transactions())
    assert transaction.segments[0].get(3) == "PO1"
    assert transaction.segments[0].get(9, "absent") == "absent"
    assert group.control_number == "7"


@pytest.mark.parametrize(
    "variant",
    [
        "\ufeff" + GOOD_DOC,  # a byte-order mark
        GOOD_DOC.replace("~", "~\r\n"),  # CR/LF after each segment
        GOOD_DOC[:-1],  # no final terminator
        GOOD_DOC + "\r\n  \r\n",  # trailing blank lines
    ],
)
def test_tolerated_variations_read_the_same(variant):
    assert envelope(parse(variant)) == envelope(parse(GOOD_DOC))


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ("", "no interchange"),
        ("hello", "expected an ISA header"),
        (ISA[:60], "106-character ISA header"),
        (ISA + BODY, "ends inside an open envelope"),
        (ISA + BODY.replace("SE*3*0001", "SE*4*0001") + "IEA*1*000000101~", "SE01 says '4'"),
        (ISA + BODY.replace("GE*1*7", "GE*1*8") + "IEA*1*000000101~", "GE02 '8' does not match"),
        (ISA + BODY + "IEA*2*000000101~", "IEA01 says '2' functional groups but there are 1"),
        (ISA + "ST*850*1~SE*2*1~IEA*0*000000101~", "ST outside a functional group"),
        (
            ISA + "GS*PO*S*R*1*1*7*X*004010~BEG*00~GE*0*7~IEA*1*000000101~",
            "BEG outside a transaction",
        ),
        (ISA.replace("000000101", "00000010A") + BODY + "IEA*1*00000010A~", "ISA13"),
        (GOOD_DOC + "GS*PO*S*R*1*1*8*X*004010~", "expected an ISA header"),
    ],
)
def test_broken_envelopes_are_refused_naming_the_segment(document, reason):
    with pytest.raises(X12Error, match=reason):
        parse(document)


def test_an_error_names_the_segment_position():
    broken = ISA + BODY.replace("SE*3*0001", "SE*3*0002") + "IEA*1*000000101~"
    with pytest.raises(X12Error) as refused:
        parse(broken)
    assert refused.value.position == 5  # ISA, GS, ST, BEG, SE
    assert str(refused.value).startswith("segment 5:")


def test_a_header_whose_delimiters_collide_is_refused():
    with pytest.raises(X12Error, match="three distinct separators"):
        delimiters_of(ISA[:104] + ">>")
