"""The operator journey: sharing agreements, partners and users (/operator/...), through
governance.
"""

from portal.journeys.operator.views import bp, init_app

__all__ = ["bp", "init_app"]
