"""The sell-through journey: a supplier's sell-through report (/sell-through) and the
inventory page suppliers and distributors share (/inventory), with their Excel
downloads.
"""

from portal.journeys.sellthrough.views import bp, init_app

__all__ = ["bp", "init_app"]
