"""The planning journey: forecast vs commitment vs sales per SKU and week for one pair,
frozen weeks and gaps beyond the pair's tolerance marked, each plan's accuracy, and the
supplier's commitments by form or Excel round trip (/planning).
"""

from portal.journeys.planning.views import bp, init_app

__all__ = ["bp", "init_app"]
