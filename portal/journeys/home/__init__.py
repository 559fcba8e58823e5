"""The home journey: each role's home page (/supplier, /distributor, /manager, /operator),
led by what needs the user's attention.
"""

from portal.journeys.home.views import bp, init_app

__all__ = ["bp", "init_app"]
