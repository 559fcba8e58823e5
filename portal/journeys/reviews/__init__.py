"""The reviews journey: each pair's scorecards against its plan, the records behind every
figure, its plan actions and its risk register with a heat map (/reviews).
"""

from portal.journeys.reviews.views import bp, init_app

__all__ = ["bp", "init_app"]
