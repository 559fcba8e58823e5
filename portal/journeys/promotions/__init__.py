"""The promotions journey: the calendar and list, the form, the Excel template and workbook
upload with its preview, status moves, and the supplier's answer (/promotions).
"""

from portal.journeys.promotions.views import bp, init_app

__all__ = ["bp", "init_app"]
