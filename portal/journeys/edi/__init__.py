"""The EDI messages journey: every interchange in and out, its status and reasons."""

from portal.journeys.edi.views import bp, init_app

__all__ = ["bp", "init_app"]
