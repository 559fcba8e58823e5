// Who writes what on a pair's shared records, enforced inside the hub.
//
// The table is domain/ownership.py, written out as ownership.json beside this file
// (`python -m domain.ownership > ownership.json`; a test keeps the two equal). For each
// pair-bound collection it says which role may set which fields on create, which fields
// it may change in which status (a child without a status is gated by its parent's), which
// status moves it may make, and in which status it may delete. A `partnership` never
// changes. A write the table does not allow is refused with 400 INVALID_PAYLOAD naming the
// field, before Directus writes anything (and for nested rows, inside the request's
// transaction, so the whole request is rolled back). Admins are not bound by it.
//
// A record the caller cannot read is not looked at here: Directus's own 403 answers
// that write, so the answer never tells whether another partner's record exists or what
// status it is in.

import { readFileSync } from "node:fs";
import { forbidden, refuse } from "./errors.js";
import { remembered } from "./memo.js";
import { callerRole } from "./reach.js";

const TABLE = JSON.parse(readFileSync(new URL("./ownership.json", import.meta.url), "utf8"));
const RULES = TABLE.collections;
// collection -> [week field, SKU field]: records frozen inside the SKU's lead time (frozen.js)
export const FROZEN = TABLE.frozen;
// the horizons (weeks ahead) a frozen record's units are kept at (frozen.js)
export const HORIZONS = TABLE.horizons;
// collection -> the statuses that close a record, which the hub stamps (close.js)
export const CLOSED = TABLE.closed;
const IMMUTABLE = new Set(TABLE.immutable);
const PARTIES = Object.values(TABLE.roles);

const side = (role) => TABLE.sides[role] || role;
const noun = (collection) => collection.replace(/s$/, "").replace(/_/g, " ");
const allows = (grant, name, status) =>
  grant.fields.includes(name) && (grant.when === null || grant.when.includes(status));

function owners(collection, name) {
  const rules = RULES[collection];
  if (name === rules.status && Object.keys(rules.moves).length) {
    return PARTIES.filter((r) => r in rules.moves);
  }
  return PARTIES.filter((r) => (rules.update[r] || []).some((g) => g.fields.includes(name)));
}

function mayMove(role, collection, from, to) {
  const moves = (RULES[collection].moves[role] || {})[from] || [];
  return from === to || moves.includes(to);
}

function where(collection, status) {
  const rules = RULES[collection];
  if (rules.parent && status !== null && status !== undefined) {
    return `while its ${rules.parent[0].replace(/_/g, " ")} is ${status}`;
  }
  return status !== null && status !== undefined ? `while it is ${status}` : "";
}

// The same rules as domain/ownership.py's update_refusals, create_refusals, delete_refusal.
function updateRefusal(role, collection, status, changes) {
  const rules = RULES[collection];
  for (const [name, value] of Object.entries(changes)) {
    if (IMMUTABLE.has(name)) return [name, "never changes once the record exists"];
    if (name === rules.status && Object.keys(rules.moves).length) {
      if (!mayMove(role, collection, String(status), String(value))) {
        return [name, `${side(role)} may not move a ${noun(collection)} from ${status} to ${value}`];
      }
    } else if (!(rules.update[role] || []).some((g) => allows(g, name, status))) {
      const who = owners(collection, name);
      if (who.includes(role)) return [name, `fixed ${where(collection, status)}`.trim()];
      if (who.length) return [name, `written by ${who.map(side).join(" or ")} only`];
      return [name, "fixed once the record exists"];
    }
  }
  return null;
}

function createFieldRefusal(role, collection, names) {
  const grant = RULES[collection].create[role];
  for (const name of names) {
    if (!grant.fields.includes(name)) {
      const who = owners(collection, name).map(side).join(" or ") || "nobody";
      return [name, `written by ${who} only`];
    }
  }
  return null;
}

function createGateRefusal(role, collection, status) {
  const rules = RULES[collection];
  const grant = rules.create[role];
  if (grant.when === null || grant.when.includes(status)) return null;
  if (rules.status) {
    return [rules.status, `a ${collection.replace(/s$/, "")} starts as ${grant.when.join(" or ")}`];
  }
  return [rules.parent ? rules.parent[0] : "status", `fixed ${where(collection, status)}`.trim()];
}

function deleteRefusal(role, collection, status) {
  const rules = RULES[collection];
  if (!(role in rules.delete)) return [null, `${side(role)} does not delete these`];
  const when = rules.delete[role];
  if (when !== null && !when.includes(status)) {
    return [rules.status || (rules.parent && rules.parent[0]), `kept ${where(collection, status)}`.trim()];
  }
  return null;
}

// -- reading the hub ----------------------------------------------------------------

const keyOf = (value) =>
  value !== null && typeof value === "object" ? value.id : value;

function roleOf(context) {
  const { accountability } = context;
  if (!accountability.role) return undefined;
  return remembered(context.database, `role:${accountability.role}`, async () => {
    const row = await context.database("directus_roles").where("id", accountability.role).first(["name"]);
    return row ? TABLE.roles[row.name] : undefined;
  });
}

// Whether the caller may read one record (Directus's own rules, in this request's
// transaction), remembered for the request.
function readableOne(services, context, collection, key) {
  const who = context.accountability.user;
  return remembered(context.database, `read:${who}:${collection}:${key}`, async () =>
    (await readable(services, context, collection, [key])).has(String(key)),
  );
}

// The keys among these that the caller may read (Directus's own rules, in this request's
// transaction).
async function readable(services, context, collection, keys) {
  const items = new services.ItemsService(collection, {
    schema: context.schema,
    accountability: context.accountability,
    knex: context.database,
  });
  try {
    const rows = await items.readMany(keys, { fields: ["id"], limit: -1 }, { emitEvents: false });
    return new Set(rows.map((r) => String(r.id)));
  } catch {
    return new Set();
  }
}

// The status that gates a record: its own, or (for a child without one) its parent's.
async function gate(db, collection, row) {
  const rules = RULES[collection];
  if (rules.status) return row[rules.status];
  if (!rules.parent) return null;
  const [field, parent] = rules.parent;
  const found = await db(parent).where("id", keyOf(row[field])).first([RULES[parent].status]);
  return found ? found[RULES[parent].status] : undefined;
}

function day(value) {
  if (typeof value === "number") return new Date(value).toISOString().slice(0, 10);
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  return String(value).slice(0, 10);
}

// Whether a payload's value leaves the stored one as it is (writing a field's own value
// back is no change: clients send whole records). `type` is the field's Directus type: a
// day alone is the same value only for a date; on a timestamp it means midnight.
function unchanged(stored, value, type) {
  if (value === undefined) return true;
  if (stored === null || stored === undefined || value === null) {
    return (stored === null || stored === undefined) && value === null;
  }
  if (typeof value === "object") {
    if (Array.isArray(value) && value.length === 0) return true;
    if (!Array.isArray(value) && ["create", "update", "delete"].every((k) => k in value)) {
      return ["create", "update", "delete"].every((k) => (value[k] || []).length === 0);
    }
    try {
      const parsed = typeof stored === "string" ? JSON.parse(stored) : stored;
      return JSON.stringify(parsed) === JSON.stringify(value);
    } catch {
      return false;
    }
  }
  if (String(stored) === String(value)) return true;
  if (type === "date" && typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value)) {
    return day(stored) === value;
  }
  const [a, b] = [new Date(stored).getTime(), new Date(value).getTime()];
  return typeof value === "string" && !Number.isNaN(a) && a === b;
}

// Admins and Tandem's service users (the scheduler writing computed scorecards) are bound
// by their own policies, not by this table.
const bound = async (context) =>
  Boolean(context.accountability) &&
  (await callerRole(context.database, context.accountability)) !== null;

export function registerOwnership(filter, { services }) {
  filter("items.create", async (payload, meta, context) => {
    const collection = meta.collection;
    if (!(collection in RULES)) return payload;
    if (!(await bound(context))) {
      // The scheduler writes computed scorecards only: never a value on a manager's own.
      // (A policy's validation cannot look at the parent's source.)
      if (collection === "scorecard_values" && !context.accountability.admin) {
        const card = await context
          .database("scorecards")
          .where("id", keyOf(payload.scorecard))
          .first(["source"]);
        if (!card || card.source !== "computed") forbidden();
      }
      return payload;
    }
    const db = context.database;
    const role = await roleOf(context);
    if (!role) forbidden();
    const rules = RULES[collection];
    if (!rules.create[role]) forbidden(); // as Directus answers a create a policy does not grant
    const names = Object.keys(payload).filter((n) => n !== "id" && payload[n] !== undefined);
    const fields = createFieldRefusal(role, collection, names);
    if (fields) refuse(...fields);
    if (rules.parent && !rules.status) {
      // Another pair's parent is refused by the pair rules, without this telling its status.
      const [field, parent] = rules.parent;
      const key = keyOf(payload[field]);
      if (key === undefined || key === null) return payload;
      if (!(await readableOne(services, context, parent, key))) return payload;
    }
    const status = rules.status ? (payload[rules.status] ?? rules.initial) : await gate(db, collection, payload);
    const refusal = createGateRefusal(role, collection, status);
    if (refusal) refuse(...refusal);
    return payload;
  });

  filter("items.update", async (payload, meta, context) => {
    const collection = meta.collection;
    if (!(collection in RULES) || !(await bound(context))) return payload;
    const db = context.database;
    const role = await roleOf(context);
    if (!role) forbidden();
    const mine = await readable(services, context, collection, meta.keys);
    for (const key of meta.keys) {
      if (!mine.has(String(key))) continue; // Directus refuses it, as for a missing row
      const current = await db(collection).where("id", key).first();
      if (!current) continue;
      const fields = context.schema.collections[collection].fields;
      const changes = Object.fromEntries(
        Object.entries(payload).filter(
          ([n, v]) => n !== "id" && !unchanged(current[n], v, fields[n] && fields[n].type),
        ),
      );
      const refusal = updateRefusal(role, collection, await gate(db, collection, current), changes);
      if (refusal) refuse(...refusal);
    }
    return payload;
  });

  filter("items.delete", async (keys, meta, context) => {
    const collection = meta.collection;
    if (!(collection in RULES) || !(await bound(context))) return keys;
    const db = context.database;
    const role = await roleOf(context);
    if (!role) forbidden();
    const mine = await readable(services, context, collection, keys);
    for (const key of keys) {
      if (!mine.has(String(key))) continue;
      const current = await db(collection).where("id", key).first();
      if (!current) continue;
      const refusal = deleteRefusal(role, collection, await gate(db, collection, current));
      if (refusal && refusal[0] === null) forbidden();
      if (refusal) refuse(...refusal);
    }
    return keys;
  });
}
