"""The exports journey: every resource list as an Excel workbook (/exports/<resource>.xlsx)."""

from portal.journeys.exports.views import bp, init_app

__all__ = ["bp", "init_app"]
