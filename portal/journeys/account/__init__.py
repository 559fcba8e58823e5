"""The account journey: a user's personal API tokens (/account/tokens)."""

from portal.journeys.account.views import bp, init_app

__all__ = ["bp", "init_app"]
