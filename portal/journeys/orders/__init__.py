"""The purchase-order journey (web EDI): the list, the distributor's order form and
cancellation, the supplier's answer line by line, ship notices and invoices, and each
order's lines, shipments, invoices, three-way match and timeline (/orders).
"""

from portal.journeys.orders.views import bp, init_app

__all__ = ["bp", "init_app"]
