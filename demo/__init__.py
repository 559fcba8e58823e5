"""The demo: deterministic partners, logins and a year of data, seeded into a hub.

:mod:`demo.generate` makes the data (pure, no I/O); :mod:`demo.seed` writes it into a
hub through the governance service, the hub client and the bulk writer.
"""
