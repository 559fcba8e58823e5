"""The uploads journey: a distributor's POS, inventory and forecast files (/uploads): upload, live
progress, rejects, column mappings, history and feed freshness.
"""

from portal.journeys.uploads.views import bp, init_app

__all__ = ["bp", "init_app"]
