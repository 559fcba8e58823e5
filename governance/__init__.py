"""Operator actions on partners, users and sharing agreements, through the hub admin API.

The CLI, the demo seed and the portal's operator pages all call these; each one is
audited. Validation is domain code (:mod:`domain`); this package only applies it.
"""

from governance.errors import GovernanceError

__all__ = ["GovernanceError"]
