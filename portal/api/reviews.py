"""The review pack through the API: ``GET /api/v1/review-packs/<pair>`` answers a pair's
quarterly business review pack (``format``: xlsx, pdf or html; ``quarter``: e.g.
2026-Q4, by default the last whole one) to the pair's account manager, supplier or
distributor (each reads it by their own rules: a promotion's lift from the POS they may
read),
built by :mod:`portal.data.reviews` and :mod:`portal.packs` as the portal's page builds
it, and audited the same way.
"""

from __future__ import annotations

from flask import Response, request
from flask_login import current_user

from domain import clock
from portal import packs
from portal.api.base import access, bp
from portal.data import DataError, reviews
from portal.data.registry import INT_KEY

FORMATS = {"xlsx": packs.XLSX_TYPE, "pdf": "application/pdf", "html": "text/html"}


@bp.get(f"/review-packs{INT_KEY}")
def review_pack(key: int) -> Response:
    """A pair's quarterly business review pack, for the pair's parties."""
    fmt = request.args.get("format", "xlsx")
    if fmt not in FORMATS:
        raise DataError("format must be xlsx, pdf or html", {"format": ["xlsx, pdf or html"]})
    acc = access()
    built = reviews.review_pack(acc, key, request.args.get("quarter"), clock.now(),
                                current_user.display_name, fmt)  # fmt: skip
    if fmt == "xlsx":
        body = packs.workbook(built)
    else:
        page = packs.html(built, printing=fmt == "pdf")
        body = packs.pdf(page) if fmt == "pdf" else page.encode()
    response = Response(body, mimetype=FORMATS[fmt])
    if fmt != "html":
        name = packs.filename(built, fmt)
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
