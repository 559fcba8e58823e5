"""Order documents in EDI (domain.edi_orders): every real sample in ../shared/samples/edi
read into its document type and line count, or refused with a precise reason; every
document Tandem writes read back to the same data, in X12 and in EDIFACT; and mutated
documents refused only with the reader's own error."""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import string
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import x12
from domain.edi_orders import (
    Acknowledgement,
    Carton,
    DocumentError,
    Envelope,
    Fault,
    Invoice,
    InvoiceLine,
    Item,
    Order,
    OrderLine,
    OrderResponse,
    PackedLine,
    ResponseLine,
    SetAck,
    ShipNotice,
    read,
    write_edifact,
    write_x12,
)
from domain.edi_reports import read_slsrpt

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples" / "edi"
CREATED = dt.datetime(2026, 12, 31, 23, 59)  # a year's last minute
ENVELOPE = Envelope("TANDEMDIST", "TANDEMSUPP", 42, created=CREATED)

# file -> (code, lines) per document, in file order
READ = {
    "edifact/DESADV/desadv-d96a-ean005-bots.edi": [("DESADV", 2), ("DESADV", 4), ("DESADV", 1)],
    "edifact/DESADV/desadv-d96a-php.edi": [("DESADV", 2)],
    "edifact/INVOIC/invoic-bots-01.edi": [("INVOIC", 3), ("INVOIC", 3)],
    "edifact/INVOIC/invoic-d97b-staedi.edi": [("INVOIC", 2)],
    "edifact/ORDERS/orders-d01b-ean010-latin1-php.edi": [("ORDERS", 146)],
    "edifact/ORDERS/orders-d96a-ean008-bots-01.edi": [
        ("ORDERS", 1),
        ("ORDERS", 1),
        ("ORDERS", 4),
    ],
    # message 9 has no lines (read; applying it is refused), message 18 six
    "edifact/ORDERS/orders-d96a-ean008-bots-multi.edi": [
        ("ORDERS", n)
        for n in (3, 3, 3, 3, 3, 3, 3, 3, 0, 3, 3, 3, 1, 1, 3, 3, 3, 6, 3, 3, 3, 3, 3, 1)
    ],
    "x12/810/810-004010VICS-bots-01.x12": [("810", 4), ("810", 1)],
    "x12/810/810-850-staedi-dual.edi": [("810", 7), ("810", 2), ("850", 4)],
    "x12/810/810-bots-retailer-1.x12": [("810", 1)],
    "x12/850/850-004010-bots-02.x12": [("850", 1)] * 4,
    "x12/850/850-004010-bots-14.x12": [("850", 2), ("850", 4), ("850", 4)],
    "x12/850/850-004010VICS-bots-01.x12": [("850", 64), ("850", 58), ("850", 25), ("850", 22)],
    "x12/850/850-ediengine-ok.edi": [("850", 6)],
    "x12/850/850-node-x12.edi": [("850", 6)],
    "x12/850/850-x12types.edi": [("850", 7)],
    "x12/855/855-004010UCS-bots-01.x12": [
        ("855", 26),
        ("855", 1),
        ("855", 1),
        ("855", 17),
        ("855", 22),
        ("855", 1),
    ],
    "x12/855/855-node-x12.edi": [("855", 4)],
    "x12/856/856-004060-x12types.edi": [("856", 2)],
    "x12/856/856-bots-retailer-1.x12": [("856", 58)],
    "x12/856/856-bots-retailer-2.x12": [("856", 6), ("856", 2)],
    "x12/856/856-ediengine-crossdock.edi": [("856", 5)],
    "x12/856/856-node-x12.edi": [("856", 2)],
    "x12/997/997-004010VICS-bots.x12": [("997", 1)],
}
# file -> (segment position, what the reason says); SOURCES.txt's notes say why
REFUSED = {
    # QTY 1020A, PRI $1.179, a second UNS
    "edifact/INVOIC/invoic-d97b-staedi-BAD.edi": (
        11,
        "QTY+47: expected a quantity (found '1020A')",
    ),
    # DTM+137 declares format 102 (CCYYMMDD) but holds a time too
    "edifact/INVOIC/invoic-pydifact.edi": (4, "DTM+137: expected a date CCYYMMDD (format 102)"),
    # a fragment: no UNZ
    "edifact/ORDERS/orders-pydifact.edi": (0, "ends inside an open interchange (UNZ missing)"),
    "edifact/ORDERS/orders-staedi-with-UNG.edi": (20, "UNT says '21' segments but there are 18"),
    "edifact/ORDRSP/ordrsp-edinet.edi": (33, "UNT says '17' segments but there are 31"),
    # ISA02/ISA04 not padded to 10 characters
    "x12/810/810-edinet-a.edi": (1, "the ISA header is not fixed-width"),
    "x12/850/850-ediengine-syntaxnotes-ERR.edi": (15, "PO107: expected the product id paired"),
    "x12/850/850-edinet-bom-iea-mismatch.edi": (15, "IEA02 '000000001' does not match ISA13"),
    "x12/997/997-staedi-invalid.edi": (4, "AK101: expected a functional identifier code"),
    "x12/malformed/ctrl-numbers-mismatch.edi": (7, "SE02 '0002' does not match ST02 '0001'"),
    "x12/malformed/multi-interchange-iea02-unpadded.edi": (21, "IEA02 '3438' does not match"),
    "x12/malformed/wrong-group-and-ts-count.edi": (8, "GE01 says '2' transaction sets but"),
}
# Not order documents: read by their own readers (sales report; forecasts' 830 by the
# X12 layer until the planning issue reads it).
OTHERS = {"edifact/SLSRPT/slsrpt-d96a-ean004-bots.edi", "x12/830/830-004010UCS-bots-safeway.x12"}


def sample(relative: str) -> bytes:
    return (SAMPLES / relative).read_bytes()


def _lines(document: object) -> int:
    lines = getattr(document, "lines", None)
    return len(lines if lines is not None else document.sets)  # type: ignore[attr-defined]


def test_every_sample_is_listed_here():
    files = {str(p.relative_to(SAMPLES)) for p in SAMPLES.rglob("*") if p.is_file()}
    assert files - {"SOURCES.txt"} == set(READ) | set(REFUSED) | OTHERS


@pytest.mark.parametrize("relative", sorted(READ))
def test_a_good_sample_reads_into_its_documents_and_lines(relative):
    received = read(sample(relative))
    assert [(r.code, _lines(r.document)) for r in received] == READ[relative]
    for r in received:
        assert r.sender
        assert r.control


@pytest.mark.parametrize("relative", sorted(REFUSED))
def test_a_malformed_sample_is_refused_naming_where_and_why(relative):
    position, reason = REFUSED[relative]
    with pytest.raises(DocumentError) as refused:
        read(sample(relative))
    assert refused.value.position == position
    assert reason in str(refused.value)


def test_the_other_samples_are_not_order_documents_and_their_readers_take_them():
    assert len(list(read_slsrpt(sample("edifact/SLSRPT/slsrpt-d96a-ean004-bots.edi")))) > 0
    [interchange] = x12.parse(sample("x12/830/830-004010UCS-bots-safeway.x12"))
    assert {t.code for _g, t in interchange.transactions()} == {"830"}
    with pytest.raises(DocumentError, match="ST01: expected one of"):
        read(sample("x12/830/830-004010UCS-bots-safeway.x12"))


def test_what_a_real_850_says_is_read_exactly():
    [first, *_] = read(sample("x12/850/850-004010-bots-02.x12"))
    order = first.document
    assert isinstance(order, Order)
    assert order.number == "95018017"
    assert order.ordered_on == dt.date(2007, 9, 29)
    [line] = order.lines
    assert (line.line, line.quantity, line.unit, line.price) == ("001", 4, "EA", Decimal(330))
    assert line.item == Item(buyer="525", vendor="X357-W2")
    assert line.requested == dt.date(2007, 10, 1)  # SCH*4*EA***002*20071001


def test_a_real_invoice_prices_per_basis_exactly():
    [invoice] = [r.document for r in read(sample("edifact/INVOIC/invoic-d97b-staedi.edi"))]
    assert isinstance(invoice, Invoice)
    assert invoice.order == "521052"
    assert [(li.quantity, li.price, li.amount) for li in invoice.lines] == [
        (1020, Decimal("1.179"), Decimal("1202.580")),
        (20, Decimal("20.5"), Decimal("410.0")),
    ]
    assert invoice.total == Decimal("2137.58")  # MOA+39


def test_non_printable_delimiters_and_a_bom_are_read():
    vics = read(sample("x12/850/850-004010VICS-bots-01.x12"))  # 0x7F and 0x15
    assert sum(len(r.document.lines) for r in vics) == 169
    bom = b"\xef\xbb\xbf" + sample("x12/850/850-node-x12.edi")
    assert [r.code for r in read(bom)] == ["850"]


# --- round trips -----------------------------------------------------------------------
codes = st.text(string.ascii_uppercase + string.digits, min_size=1, max_size=12)
gtins = st.sampled_from([12, 13, 14]).flatmap(
    lambda n: st.text(string.digits, min_size=n, max_size=n)
)
items = st.builds(
    Item, gtin=gtins, buyer=st.one_of(st.just(""), codes), vendor=st.one_of(st.just(""), codes)
)
quantities = st.decimals(min_value=1, max_value=99_999, places=0)
prices = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("99999"), places=4)
days = st.dates(dt.date(2000, 1, 1), dt.date(2049, 12, 31))
lines_no = st.integers(1, 999).map(str)


@st.composite
def orders(draw: st.DrawFn, purposes: tuple[str, ...] = ("original", "change", "cancel")) -> Order:
    numbers = draw(st.lists(lines_no, min_size=1, max_size=5, unique=True))
    purpose = draw(st.sampled_from(purposes))
    actions = {
        "original": [""],
        "change": ["add", "change", "delete", "unchanged"],
        "cancel": ["delete"],
    }[purpose]  # what a reader gives back for each
    return Order(
        number=draw(codes), purpose=purpose,
        ordered_on=draw(days), requested=draw(st.none() | days),
        currency=draw(st.sampled_from(["USD", "EUR", ""])),
        buyer=draw(codes), seller=draw(codes), ship_to=draw(st.sampled_from(["", "S12",
                                                                              "5012345678900"])),
        lines=tuple(OrderLine(n, draw(items), draw(quantities), "EA", draw(st.none() | prices),
                              draw(st.none() | days), action=draw(st.sampled_from(actions)))
                    for n in numbers),
    )  # fmt: skip


@st.composite
def responses(draw: st.DrawFn, x12_codes: bool) -> OrderResponse:
    numbers = draw(st.lists(lines_no, min_size=1, max_size=5, unique=True))
    reasons = {"accepted": [""], "changed": ["IC", "IQ", "DR"], "rejected": ["IR", "R2"]}
    lines = []
    for n in numbers:
        status = draw(st.sampled_from(["accepted", "changed", "rejected"]))
        reason = (draw(st.sampled_from(reasons[status])) if x12_codes else
                  "" if status == "accepted" else draw(codes))  # fmt: skip
        lines.append(ResponseLine(n, draw(items), status, draw(quantities), draw(days), reason,
                                  draw(quantities)))  # fmt: skip
    return OrderResponse(draw(codes), draw(codes), draw(st.sampled_from(
        ["accepted", "changed", "rejected"])), draw(days), tuple(lines))  # fmt: skip


@st.composite
def ship_notices(draw: st.DrawFn) -> ShipNotice:
    order = draw(codes)
    ssccs = draw(st.lists(st.text(string.digits, min_size=18, max_size=18), min_size=1,
                          max_size=3, unique=True))  # fmt: skip
    cartons = tuple(
        Carton(sscc, tuple(PackedLine(n, draw(items), draw(quantities), "EA", order) for n in
                           draw(st.lists(lines_no, min_size=1, max_size=3, unique=True))))
        for sscc in ssccs
    )  # fmt: skip
    return ShipNotice(draw(codes), draw(days), draw(st.none() | days), cartons)


@st.composite
def invoices(draw: st.DrawFn) -> Invoice:
    numbers = draw(st.lists(lines_no, min_size=1, max_size=5, unique=True))
    total = draw(st.none() | st.decimals(min_value=0, max_value=10**7, places=2))
    return Invoice(draw(codes), draw(codes), draw(days), draw(st.sampled_from(["USD", "EUR"])),
                   tuple(InvoiceLine(n, draw(items), draw(quantities), draw(prices))
                         for n in numbers), total)  # fmt: skip


@st.composite
def x12_acks(draw: st.DrawFn) -> Acknowledgement:
    sets = []
    for n in range(draw(st.integers(1, 4))):
        faults = []
        if draw(st.booleans()):
            segment, position = (
                draw(st.sampled_from(["PO1", "BEG", "N1"])),
                draw(st.integers(1, 99)),
            )
            faults.append(Fault(draw(st.sampled_from(["1", "2", "8"])), segment, position))
            faults += [Fault(draw(st.sampled_from(["1", "6", "7"])), segment, position, element)
                       for element in draw(st.lists(st.integers(1, 20), max_size=2))]  # fmt: skip
        faults += [Fault(c) for c in draw(st.lists(st.sampled_from(["1", "5"]), max_size=2))]
        sets.append(SetAck("850", f"{n + 1:04d}", not faults, tuple(faults)))
    accepted = sum(s.accepted for s in sets)
    status = "accepted" if accepted == len(sets) else "rejected" if not accepted else "partially"
    return Acknowledgement("PO", str(draw(st.integers(1, 10**9))), status, tuple(sets))


@st.composite
def edifact_acks(draw: st.DrawFn) -> Acknowledgement:
    kind = draw(st.sampled_from(["ORDERS", "DESADV", "INVOIC"]))
    sets = []
    for n in range(draw(st.integers(1, 4))):
        code = draw(st.sampled_from(["", "13", "18", "23"]))
        sets.append(SetAck(kind, str(n + 1), not code, (Fault(code),) if code else ()))
    accepted = sum(s.accepted for s in sets)
    status = "accepted" if accepted == len(sets) else "rejected" if not accepted else "partially"
    return Acknowledgement(kind, draw(codes), status, tuple(sets))


documents = st.one_of(orders(), responses(x12_codes=False), ship_notices(), invoices())


def _round_trip(text: str) -> list[object]:
    return [r.document for r in read(text.encode("utf-8"))]


#: An X12 interchange holds one functional group: documents of one kind.
x12_batches = st.sampled_from([
    orders(purposes=("original",)), orders(purposes=("change", "cancel")),
    responses(x12_codes=True), ship_notices(), invoices(), x12_acks(),
]).flatmap(lambda kind: st.lists(kind, min_size=1, max_size=4))  # fmt: skip


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(x12_batches)
def test_every_x12_document_tandem_writes_reads_back_the_same(written):
    assert _round_trip(write_x12(written, ENVELOPE)) == written


def test_an_x12_interchange_holds_one_functional_group():
    order = Order("PO-1", lines=(OrderLine("1", Item("012345678905"), Decimal(1)),))
    answer = OrderResponse("PO-1", "A-1", "accepted", dt.date(2026, 1, 2))
    with pytest.raises(
        ValueError, match=r"one functional group per interchange, not \['PO', 'PR'\]"
    ):
        write_x12([order, answer], ENVELOPE)
    [received] = read(write_x12([order], ENVELOPE))
    assert received.group == received.interchange.lstrip("0") == "42"


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(documents, edifact_acks()), min_size=1, max_size=4))
def test_every_edifact_document_tandem_writes_reads_back_the_same(written):
    assert _round_trip(write_edifact(written, ENVELOPE)) == written


def test_an_interchange_carries_its_envelope():
    order = Order("PO-1", ordered_on=dt.date(2026, 12, 31),
                  lines=(OrderLine("1", Item(gtin="05012345678900"), Decimal(3)),))  # fmt: skip
    for text in (write_x12([order], ENVELOPE), write_edifact([order], ENVELOPE)):
        [received] = read(text)
        assert (received.sender, received.receiver) == ("TANDEMDIST", "TANDEMSUPP")
        assert int(received.interchange) == 42
    assert "*261231*2359*" in write_x12([order], ENVELOPE)  # ISA09/10: the created minute


def test_a_total_that_is_not_whole_cents_is_not_written_as_one():
    invoice = Invoice("I-1", "PO-1", total=Decimal("10.005"))
    with pytest.raises(ValueError, match="whole cents"):
        write_x12([invoice], ENVELOPE)


# --- bad input -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not an EDI file"),
        (bytes(range(256)) * 4, "not an EDI file"),
        (b"\x00\x01ISA*00", "not an EDI file"),
        (b"ISA*00*          *00*   ", "106-character ISA header"),
        (b"UNB+UNOC:3+A+B+261231:2359+1'UNH+1+ORDERS:D:96A:UN'BGM+220+X+9'", "UNZ missing"),
        (b"UNA:+.? 'UNB+UNOC:3+A+B+261231:2359+1'UNZ+0+2'", "UNZ reference '2' does not match"),
    ],
)
def test_garbage_and_truncated_interchanges_are_refused_with_a_reason(data, reason):
    with pytest.raises(DocumentError, match=reason):
        read(data)


def test_a_bad_value_names_its_element_and_what_was_expected():
    order = Order("PO-1", lines=(OrderLine("1", Item(gtin="012345678905"), Decimal(3)),))
    text = write_x12([order], ENVELOPE).replace("PO1*1*3*EA", "PO1*1*three*EA")
    with pytest.raises(DocumentError) as refused:
        read(text)
    error = refused.value
    assert (error.element, error.found) == ("PO102", "three")
    assert "expected a quantity" in str(error)
    assert error.position == 5  # ISA, GS, ST, BEG, PO1


def test_a_decimal_comma_is_edifacts_and_never_guessed_in_x12():
    order = Order("PO-1", currency="EUR", lines=(
        OrderLine("1", Item(gtin="012345678905"), Decimal(3), price=Decimal("1.25")),))  # fmt: skip
    x12_text = write_x12([order], ENVELOPE)
    assert "*1.25" in x12_text
    with pytest.raises(DocumentError) as refused:
        read(x12_text.replace("*1.25", "*1,25"))
    assert (refused.value.element, refused.value.found) == ("PO104", "1,25")
    edifact_text = write_edifact([order], ENVELOPE)
    assert ":1.25" in edifact_text
    # ISO 9735 takes a comma or a full stop as the decimal mark.
    (comma,) = read(edifact_text.replace(":1.25", ":1,25"))
    assert comma.document.lines[0].price == Decimal("1.25")


# --- fuzz --------------------------------------------------------------------------------
def _mutants(seed: bytes, rng: random.Random, count: int) -> list[bytes]:
    out = []
    for _ in range(count):
        data = bytearray(seed)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(data) + 1)
            choice = rng.random()
            if choice < 0.4 and data:
                data[min(at, len(data) - 1)] = rng.randrange(256)
            elif choice < 0.7:
                data[at:at] = bytes([rng.choice(b"*~+:'?\n0123456789ABZ\x00\xff")])
            else:
                del data[at : at + rng.randint(1, 8)]
        out.append(bytes(data))
    return out


FUZZ_PER_SEED = 20_000  # x 5 seeds: 100,000 mutated inputs


def _seeds() -> dict[str, bytes]:
    order = Order("PO-7", "original", dt.date(2026, 1, 2), dt.date(2026, 1, 9), "USD", "B", "S",
                  "S1", (OrderLine("1", Item("012345678905", "I1", "V1"), Decimal(5), "EA",
                                   Decimal("1.25"), dt.date(2026, 1, 9)),))  # fmt: skip
    answer = OrderResponse("PO-7", "A-1", "changed", dt.date(2026, 1, 3), (ResponseLine(
        "1", Item("012345678905"), "changed", Decimal(4), dt.date(2026, 1, 10), "IQ",
        Decimal(5)),))  # fmt: skip
    asn = ShipNotice("ASN-1", dt.date(2026, 1, 8), None, (Carton("003456789012345675", (
        PackedLine("1", Item("012345678905"), Decimal(4), "EA", "PO-7"),)),))  # fmt: skip
    bill = Invoice("INV-1", "PO-7", dt.date(2026, 1, 9), "USD", (InvoiceLine(
        "1", Item("012345678905"), Decimal(4), Decimal("1.25")),), Decimal("5.00"))  # fmt: skip
    written = [order, answer, asn, bill]
    x12_file = b"".join(  # an interchange each, as a mailbag file holds them
        write_x12([d], replace(ENVELOPE, control=42 + n)).encode() for n, d in enumerate(written)
    )
    return {
        "x12 written": x12_file,
        "edifact written": write_edifact(written, ENVELOPE).encode(),
        "x12 856": sample("x12/856/856-node-x12.edi"),
        "edifact INVOIC": sample("edifact/INVOIC/invoic-d97b-staedi.edi"),
        "x12 997": sample("x12/997/997-004010VICS-bots.x12"),
    }


@pytest.mark.parametrize("seed", ["x12 written", "edifact written", "x12 856", "edifact INVOIC",
                                  "x12 997"])  # fmt: skip
def test_mutated_documents_raise_only_the_readers_own_error(seed):
    """FUZZ_PER_SEED mutants (bytes changed, inserted, deleted) of each seed."""
    rng = random.Random(f"20261203 {seed}")
    for mutant in _mutants(_seeds()[seed], rng, FUZZ_PER_SEED):
        with contextlib.suppress(DocumentError):
            read(mutant)


# --- review findings ---------------------------------------------------------------------
def _edifact(kind: str, *body: str) -> bytes:
    segments = [f"UNH+1+{kind}:D:96A:UN:EAN005", *body]
    text = "UNA:+.? 'UNB+UNOC:3+A:14+B:14+261231:2359+7'" + "'".join(segments)
    return (text + f"'UNT+{len(segments) + 1}+1'UNZ+1+7'").encode()


@pytest.mark.parametrize(
    ("bgm", "status"),
    [("BGM+231+R1+27", "rejected"), ("BGM+231+R1+29", "accepted"), ("BGM+231+R1+4", "changed"),
     ("BGM+231+R1+9+RE", "rejected"), ("BGM+231+R1+9+AC", "changed"), ("BGM+231+R1", "accepted")],
)  # fmt: skip
def test_an_ordrsp_says_its_answer_in_bgm_1225(bgm, status):
    [received] = read(_edifact("ORDRSP", bgm, "RFF+ON:PO-1"))
    assert received.document.status == status


def test_an_ordrsp_with_an_unknown_function_is_refused_naming_it():
    with pytest.raises(DocumentError, match="BGM 1225: expected a message function"):
        read(_edifact("ORDRSP", "BGM+231+R1+77", "RFF+ON:PO-1"))


def test_each_ack_of_a_line_is_an_answer_of_its_own():
    response = OrderResponse("PO-1", "A-1", "changed", dt.date(2026, 1, 2), (
        ResponseLine("1", Item("012345678905"), "accepted", Decimal(60), dt.date(2026, 1, 9)),
    ))  # fmt: skip
    written = write_x12([response], ENVELOPE)
    assert "SE*6*0001~" in written
    text = written.replace(
        "ACK*IA*60*EA*068*20260109~", "ACK*IA*60*EA*068*20260109~ACK*IB*40*EA~"
    ).replace("SE*6*0001~", "SE*7*0001~")
    [received] = read(text)
    lines = received.document.lines
    assert [(li.line, li.status, li.quantity) for li in lines] == [
        ("1", "accepted", 60), ("1", "changed", 40),
    ]  # fmt: skip


def test_a_change_says_what_it_does_to_each_line():
    change = Order("PO-1", "change", lines=(
        OrderLine("1", Item("012345678905"), Decimal(5), action="delete"),
        OrderLine("2", Item("012345678912"), Decimal(8), action="add"),
    ))  # fmt: skip
    for text in (write_x12([change], ENVELOPE), write_edifact([change], ENVELOPE)):
        [received] = read(text)
        assert [li.action for li in received.document.lines] == ["delete", "add"]
    bad = write_x12([change], ENVELOPE).replace("POC*1*DI*", "POC*1*ZZ*")
    with pytest.raises(DocumentError, match="POC02: expected a line item change code"):
        read(bad)


@pytest.mark.parametrize(
    ("pri", "reason"),
    [("PRI+AAA:2:::3", "not exact per unit"), ("PRI+AAA:1:::" + "9" * 40, "expected a unit")],
)
def test_a_price_that_is_not_exact_per_unit_is_refused(pri, reason):
    document = _edifact("INVOIC", "BGM+380+I-1+9", "RFF+ON:PO-1", "LIN+1++012345678905:EN",
                        "QTY+47:3", pri)  # fmt: skip
    with pytest.raises(DocumentError, match=reason):
        read(document)


def test_a_ship_notice_keeps_unpacked_and_unordered_lines_where_they_were():
    notice = ShipNotice("ASN-1", dt.date(2026, 1, 8), None, (
        Carton("003456789012345675", (PackedLine("1", Item("012345678905"), Decimal(4), "EA",
                                                 "PO-7"),)),
        Carton("", (PackedLine("2", Item("012345678912"), Decimal(2), "EA", "PO-7"),
                    PackedLine("3", Item("012345678929"), Decimal(1), "EA", ""))),
    ))  # fmt: skip
    for text in (write_x12([notice], ENVELOPE), write_edifact([notice], ENVELOPE)):
        [received] = read(text)
        got = {(li.line, li.order) for li in received.document.lines}
        assert got == {("1", "PO-7"), ("2", "PO-7"), ("3", "")}
        unpacked = [c for c in received.document.cartons if not c.sscc]
        assert {li.line for c in unpacked for li in c.lines} == {"2", "3"}


def test_a_value_holding_a_delimiter_is_never_written():
    injected = Order("PO-1", lines=(
        OrderLine("1", Item(vendor="V1~IT1*2*999"), Decimal(1)),
    ))  # fmt: skip
    with pytest.raises(ValueError, match=r"PO107 'V1~IT1\*2\*999' holds an X12 delimiter"):
        write_x12([injected], ENVELOPE)
