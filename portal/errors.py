"""Error answers: the API's JSON envelope ``{code, status, message, errors}``, or a page.

Which one follows what the client asked for, as in microblog's ``errors/handlers.py``.
"""

from __future__ import annotations

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and (
        request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def envelope(status: int, code: str, message: str, errors: object = None) -> dict[str, object]:
    return {"code": code, "status": status, "message": message, "errors": errors or {}}


def _handle_http(exc: HTTPException) -> tuple[object, int, list[tuple[str, str]]]:
    status = exc.code or 500
    code = (exc.name or "error").upper().replace(" ", "_")
    message = exc.description or exc.name
    # The exception's own headers (Allow on a 405, Retry-After, WWW-Authenticate) stay.
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
    if wants_json():
        return envelope(status, code, message), status, headers
    page = render_template("error.html", status=status, title=exc.name, message=message)
    return page, status, headers


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _handle_http)
