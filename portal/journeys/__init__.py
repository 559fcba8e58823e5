"""The portal's pages, one package per user journey.

Each journey package holds its blueprint and views in ``views.py`` (and, when it grows,
the modules only it uses), exposes ``init_app(app)``, renders templates from
``templates/<journey>/`` and names its static files after itself. Journeys call the
data layer (:mod:`portal.data`) and the shared page helpers (:mod:`portal.pages`,
:mod:`portal.xlsx`, :mod:`portal.charts`, :mod:`portal.workbooks`), never each other
or the API's views (an import-linter contract in pyproject.toml holds that).
"""
