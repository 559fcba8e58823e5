"""Tandem's operator side: the ``tandem`` command, local state, and the ``make run`` stack."""
