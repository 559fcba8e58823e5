"""Idempotent "ensure" operations on the hub's schema and access rules, over its REST API.

Each one looks first and changes only what differs, so running a migration again
changes nothing. Directus answers 403 for a missing collection, field or relation,
which is how absence is detected here (as the admin, 403 can only mean "missing").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from directus import ForbiddenOrMissing, HubClient


def field(
    name: str,
    type_: str,
    *,
    meta: Mapping[str, Any] | None = None,
    schema: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A field definition. ``meta`` is always sent: without it a field is unmanaged."""
    return {"field": name, "type": type_, "meta": dict(meta or {}), "schema": dict(schema or {})}


def uuid_pk(name: str = "id") -> dict[str, Any]:
    return field(
        name,
        "uuid",
        meta={"hidden": True, "readonly": True, "special": ["uuid"]},
        schema={"is_primary_key": True, "length": 36, "has_auto_increment": False},
    )


def string_pk(name: str = "id", length: int = 255) -> dict[str, Any]:
    return field(
        name,
        "string",
        meta={"readonly": True},
        schema={"is_primary_key": True, "length": length, "has_auto_increment": False},
    )


def int_pk(name: str = "id") -> dict[str, Any]:
    return field(
        name,
        "integer",
        meta={"hidden": True, "readonly": True},
        schema={"is_primary_key": True, "has_auto_increment": True},
    )


def required(name: str, type_: str, **schema: Any) -> dict[str, Any]:
    """A NOT NULL field."""
    return field(name, type_, schema={"is_nullable": False, **schema})


def _exists(hub: HubClient, path: str) -> Any:
    try:
        return hub.get(path)
    except ForbiddenOrMissing:
        return None


def _differs(current: Mapping[str, Any] | None, wanted: Mapping[str, Any]) -> dict[str, Any]:
    current = current or {}
    return {k: v for k, v in wanted.items() if current.get(k) != v}


def ensure_collection(
    hub: HubClient,
    name: str,
    fields: Sequence[Mapping[str, Any]],
    *,
    meta: Mapping[str, Any] | None = None,
) -> None:
    """Make the collection exist with at least these fields and this meta.

    The first field is the primary key. Fields already there are left alone; missing
    ones are added; meta keys that differ are patched.
    """
    meta = dict(meta or {})
    existing = _exists(hub, f"/collections/{name}")
    if existing is None:
        hub.post(
            "/collections",
            {"collection": name, "meta": meta, "schema": {}, "fields": [dict(f) for f in fields]},
        )
        return
    changes = _differs(existing.get("meta"), meta)
    if changes:
        hub.patch(f"/collections/{name}", {"meta": changes})
    have = {f["field"] for f in hub.get(f"/fields/{name}")}
    for definition in fields:
        if definition["field"] not in have:
            hub.post(f"/fields/{name}", dict(definition))


def ensure_field(hub: HubClient, collection: str, definition: Mapping[str, Any]) -> None:
    if _exists(hub, f"/fields/{collection}/{definition['field']}") is None:
        hub.post(f"/fields/{collection}", dict(definition))


def ensure_m2o(
    hub: HubClient,
    collection: str,
    field_name: str,
    related_collection: str,
    *,
    one_field: str | None = None,
    on_delete: str = "NO ACTION",
    nullable: bool = True,
    key_type: str = "integer",
) -> None:
    """A many-to-one field, its relation, and (optionally) the o2m alias on the other side.

    The alias (``one_field``) is what lets policies filter "from the one side", e.g. an
    organization's ``members`` or a partnership's ``managers``.
    """
    pk_type = "uuid" if related_collection == "directus_users" else key_type
    ensure_field(
        hub,
        collection,
        field(
            field_name,
            pk_type,
            meta={"special": ["m2o"], "interface": "select-dropdown-m2o"},
            schema={"is_nullable": nullable},
        ),
    )
    if one_field:
        ensure_field(
            hub,
            related_collection,
            field(one_field, "alias", meta={"special": ["o2m"], "interface": "list-o2m"}),
        )
    existing = _exists(hub, f"/relations/{collection}/{field_name}")
    meta = {"one_field": one_field} if one_field else {}
    if existing is None:
        hub.post(
            "/relations",
            {
                "collection": collection,
                "field": field_name,
                "related_collection": related_collection,
                "schema": {"on_delete": on_delete},
                "meta": meta,
            },
        )
    elif one_field and (existing.get("meta") or {}).get("one_field") != one_field:
        hub.patch(f"/relations/{collection}/{field_name}", {"meta": meta})


def ensure_on_delete(hub: HubClient, collection: str, field_name: str, on_delete: str) -> None:
    """What the database does with ``collection``'s rows when the row their
    ``field_name`` names is deleted: ``NO ACTION`` (the delete is refused), ``CASCADE``
    (they go with it), ``SET NULL``. The relation must exist."""
    existing = hub.get(f"/relations/{collection}/{field_name}")
    if ((existing.get("schema") or {}).get("on_delete") or "").upper() != on_delete:
        # Directus 11.17.4 reads the relation's own names from the body, not the path.
        names = {k: existing[k] for k in ("collection", "field", "related_collection")}
        hub.patch(
            f"/relations/{collection}/{field_name}",
            {**names, "schema": {"on_delete": on_delete}},
        )


def _find_one(hub: HubClient, path: str, filter_: Mapping[str, Any]) -> dict[str, Any] | None:
    rows = hub.get(path, filter=filter_, limit=2)
    if len(rows) > 1:
        raise ValueError(f"{path}: more than one row matches {filter_}")
    return rows[0] if rows else None


def _ensure_row(hub: HubClient, path: str, key: str, value: str, wanted: Mapping[str, Any]) -> str:
    """The one row of a system collection whose ``key`` is ``value``, made to have ``wanted``."""
    row = _find_one(hub, path, {key: {"_eq": value}})
    if row is None:
        return str(hub.post(path, {key: value, **wanted})["id"])
    changes = _differs(row, wanted)
    if changes:
        hub.patch(f"{path}/{row['id']}", changes)
    return str(row["id"])


def ensure_policy(hub: HubClient, name: str, **attrs: Any) -> str:
    """A policy by name, with these attributes (app_access, admin_access, ...). Returns its id."""
    wanted = {"app_access": False, "admin_access": False, **attrs}
    return _ensure_row(hub, "/policies", "name", name, wanted)


def ensure_role(hub: HubClient, name: str, *, policies: Sequence[str] = (), **attrs: Any) -> str:
    """A role by name, attached to these policies. Returns its id."""
    role_id = _ensure_row(hub, "/roles", "name", name, attrs)
    for policy_id in policies:
        link = {"role": {"_eq": role_id}, "policy": {"_eq": policy_id}}
        if _find_one(hub, "/access", link) is None:
            hub.post("/access", {"role": role_id, "policy": policy_id})
    return role_id


def ensure_permission(
    hub: HubClient,
    policy: str,
    collection: str,
    action: str,
    *,
    fields: Sequence[str] = ("*",),
    permissions: Mapping[str, Any] | None = None,
    validation: Mapping[str, Any] | None = None,
    presets: Mapping[str, Any] | None = None,
) -> None:
    """One permission row per (policy, collection, action), made to match exactly."""
    wanted = {
        "fields": list(fields),
        "permissions": dict(permissions) if permissions is not None else {},
        "validation": dict(validation) if validation is not None else {},
        "presets": dict(presets) if presets is not None else {},
    }
    row = _find_one(
        hub,
        "/permissions",
        {
            "policy": {"_eq": policy},
            "collection": {"_eq": collection},
            "action": {"_eq": action},
        },
    )
    if row is None:
        hub.post(
            "/permissions", {"policy": policy, "collection": collection, "action": action, **wanted}
        )
        return
    current = {k: row.get(k) or ([] if k == "fields" else {}) for k in wanted}
    changes = _differs(current, wanted)
    if changes:
        hub.patch(f"/permissions/{row['id']}", changes)


def remove_permission(hub: HubClient, policy: str, collection: str, action: str) -> None:
    """No permission row for (policy, collection, action): deleted if there is one."""
    row = _find_one(
        hub,
        "/permissions",
        {
            "policy": {"_eq": policy},
            "collection": {"_eq": collection},
            "action": {"_eq": action},
        },
    )
    if row is not None:
        hub.delete(f"/permissions/{row['id']}")


def ensure_service_user(hub: HubClient, email: str, role: str, **attrs: Any) -> str:
    """A user with no password, for a static token only. Returns its id."""
    return _ensure_row(hub, "/users", "email", email, {"role": role, "status": "active", **attrs})


def set_fields(
    hub: HubClient, policy: str, collection: str, action: str, fields: list[str]
) -> None:
    """The one permission row of (policy, collection, action) grants exactly these fields."""
    rows = _permission_rows(hub, policy, collection, action)
    if len(rows) != 1:
        raise ValueError(f"{collection} {action}: expected one permission row, found {len(rows)}")
    if sorted(rows[0].get("fields") or []) != sorted(fields):
        hub.patch(f"/permissions/{rows[0]['id']}", {"fields": fields})


def add_fields(
    hub: HubClient, policy: str, collection: str, action: str, fields: Sequence[str]
) -> None:
    """The permission row of (policy, collection, action) grants these fields as well as
    its own (made, granting only these, if there is none)."""
    rows = _permission_rows(hub, policy, collection, action)
    if not rows:
        ensure_permission(hub, policy, collection, action, fields=sorted(fields))
        return
    have = set(rows[0].get("fields") or [])
    if "*" not in have and not set(fields) <= have:
        hub.patch(f"/permissions/{rows[0]['id']}", {"fields": sorted(have | set(fields))})


def _permission_rows(
    hub: HubClient, policy: str, collection: str, action: str
) -> list[dict[str, Any]]:
    return hub.get(
        "/permissions",
        filter={
            "policy": {"_eq": policy},
            "collection": {"_eq": collection},
            "action": {"_eq": action},
        },
        fields=["id", "fields"],
        limit=2,
    )
