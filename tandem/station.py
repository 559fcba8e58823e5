"""The demo's AS2 partner station: Brightwell's AS2 server under ``make run``.

Brightwell is outside Tandem: in a real deployment its own AS2 software takes what
Tandem sends. The demo runs this stand-in so that the exchange has a real protocol peer:
an AS2 endpoint (:class:`sync.as2.Endpoint`) with Brightwell's own certificate and key,
which knows Tandem by Tandem's certificate, keeps each message it takes in
``<folder>/received/`` (named by its Message-ID) and answers with a signed receipt.

``gunicorn 'tandem.station:create_app()'`` with ``TANDEM_STATION_ID``, ``_CERT``, ``_KEY``
and ``_FOLDER`` (Brightwell's), and ``TANDEM_AS2_ID`` and ``TANDEM_AS2_CERT`` (Tandem's).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from cryptography import x509

from sync.as2 import Endpoint, Partner, Received, load_identity
from sync.mailbox import deliver


def create_app(environ: Mapping[str, str] | None = None) -> Endpoint:
    environ = os.environ if environ is None else environ
    ours = load_identity(
        environ["TANDEM_STATION_ID"], environ["TANDEM_STATION_CERT"], environ["TANDEM_STATION_KEY"]
    )
    tandem_certificate = x509.load_pem_x509_certificate(
        Path(environ["TANDEM_AS2_CERT"]).read_bytes()
    )
    tandem = Partner(environ["TANDEM_AS2_ID"], tandem_certificate)
    received = Path(environ["TANDEM_STATION_FOLDER"]) / "received"

    def keep(message: Received) -> None:
        name = re.sub(r"[^A-Za-z0-9._@-]", "_", message.message_id.strip("<>"))
        deliver(received, f"{name}.edi", message.payload)

    return Endpoint(ours, {tandem.as2_id: tandem}, keep)
