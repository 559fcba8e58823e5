"""The exceptions journey: a pair's CPFR exceptions, with filters, each one's figures and
history, its status moves and comments (/exceptions).
"""

from portal.journeys.exceptions.views import bp, init_app

__all__ = ["bp", "init_app"]
