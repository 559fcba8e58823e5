"""One marshmallow schema module per API resource, in the shape of CTFd's ``schemas/``.

Each module holds the resource's output schema and, where some role may write, its input
schemas with role-specific ``views``. :mod:`portal.data.registry` ties them to the hub's
collections; :mod:`portal.api.openapi` documents the API from the same classes.
"""
