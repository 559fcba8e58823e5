// Cross-row integrity for pair-bound records, checked inside the hub's own transaction.
//
// A Directus permission sees one row (and, on create, only the payload), so it cannot say
// "this line's PO belongs to the same pair as the line". Without this hook a partner
// writing to the hub directly with its own token could attach a record in its own pair to
// another pair's parent, name another partner's SKU or store, or rewrite the original
// commitment date. Each rule below refuses such a write with 400 INVALID_PAYLOAD, and the
// whole request (nested rows included) is rolled back. See docs/ARCHITECTURE.md.

import { callerRole, checkQuery, reachGuard } from "./reach.js";
import { FROZEN, registerOwnership } from "./ownership.js";
import { guardFrozen, keepHorizons } from "./frozen.js";
import { stampClose } from "./close.js";
import { guardGtin } from "./gtin.js";
import { refuseReferred } from "./references.js";
import { forbidden, refuse, same } from "./errors.js";
import { remembered } from "./memo.js";
import { registerGeneration } from "./generation.js";

// child collection -> [parent field, parent collection]
const PARENTS = {
  promotion_skus: ["promotion", "promotions"],
  promotion_locations: ["promotion", "promotions"],
  promotion_events: ["promotion", "promotions"],
  po_lines: ["purchase_order", "purchase_orders"],
  shipments: ["purchase_order", "purchase_orders"],
  shipment_lines: ["shipment", "shipments"],
  invoices: ["purchase_order", "purchase_orders"],
  invoice_lines: ["invoice", "invoices"],
  plan_revisions: ["plan", "business_plans"],
  plan_actions: ["plan", "business_plans"],
  scorecard_values: ["scorecard", "scorecards"],
  exception_events: ["exception", "exceptions"],
};
// collection -> field naming a SKU, which must be the pair's supplier's
const SKU_FIELDS = { po_lines: "sku", promotion_skus: "sku", commitments: "sku" };
// collection -> field naming a location, which must be the pair's distributor's
const LOCATION_FIELDS = { promotion_locations: "location", purchase_orders: "ship_to" };
// collection -> [PO-line field, parent field, parent collection]: the PO line must be of
// the parent's own purchase order
const PO_LINE_OF = {
  shipment_lines: ["po_line", "shipment", "shipments"],
  invoice_lines: ["po_line", "invoice", "invoices"],
};
// collections whose original_promised_date, once set, only an admin may change
const ORIGINAL_DATE = new Set(["purchase_orders", "po_lines"]);

const PAIR_BOUND = new Set([
  ...Object.keys(PARENTS),
  ...Object.keys(SKU_FIELDS),
  ...Object.keys(LOCATION_FIELDS),
  "promotions",
  "business_plans",
  "risks",
  "scorecards",
]);

function day(value) {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") return new Date(value).toISOString().slice(0, 10);
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  return String(value).slice(0, 10);
}

async function one(db, table, id, columns) {
  if (id === null || id === undefined) return undefined;
  return db(table).where("id", id).first(columns);
}

// Whether a partner may write for this pair at all: its organization's side of it, or
// (an account manager) its assignment. Checked before anything of the pair is read, so
// what follows never tells a partner about another pair's records: it gets Directus's
// own 403, whether the pair exists or not.
async function mayWriteFor(db, accountability, pairId) {
  if ((await callerRole(db, accountability)) === null) return true; // admins, Tandem's services
  if (!accountability.user || pairId === null || pairId === undefined) return false;
  return remembered(db, `pair:${accountability.user}:${pairId}`, () =>
    isPartyTo(db, accountability, pairId),
  );
}

async function isPartyTo(db, accountability, pairId) {
  const user = await db("directus_users").where("id", accountability.user).first(["organization"]);
  const pair = await one(db, "partnerships", pairId, ["supplier", "distributor"]);
  if (!pair) return false;
  if (user && (same(user.organization, pair.supplier) || same(user.organization, pair.distributor))) {
    return true;
  }
  const managed = await db("partnership_managers")
    .where({ partnership: pairId, user: accountability.user })
    .first(["id"]);
  return Boolean(managed);
}

async function check(db, collection, row, accountability) {
  const pairId = row.partnership;
  if (!(await mayWriteFor(db, accountability, pairId))) forbidden();
  const parent = PARENTS[collection];
  if (parent) {
    const [field, table] = parent;
    const found = await one(db, table, row[field], ["partnership"]);
    // One answer whether the record is missing or another pair's: no existence oracle.
    if (!found || !same(found.partnership, pairId)) {
      refuse(field, `${table} ${row[field]} is not a record of this supplier-distributor pair`);
    }
  }
  const skuField = SKU_FIELDS[collection];
  const locationField = LOCATION_FIELDS[collection];
  if ((skuField && row[skuField] != null) || (locationField && row[locationField] != null)) {
    const pair = await one(db, "partnerships", pairId, ["supplier", "distributor"]);
    if (!pair) refuse("partnership", `no partnership ${pairId}`);
    if (skuField && row[skuField] != null) {
      const sku = await one(db, "skus", row[skuField], ["supplier"]);
      if (!sku || !same(sku.supplier, pair.supplier)) {
        refuse(skuField, `SKU ${row[skuField]} is not the pair's supplier's`);
      }
    }
    if (locationField && row[locationField] != null) {
      const place = await one(db, "locations", row[locationField], ["distributor"]);
      if (!place || !same(place.distributor, pair.distributor)) {
        refuse(locationField, `location ${row[locationField]} is not the pair's distributor's`);
      }
    }
  }
  const lineOf = PO_LINE_OF[collection];
  if (lineOf && row[lineOf[0]] != null) {
    const [lineField, field, table] = lineOf;
    const line = await one(db, "po_lines", row[lineField], ["purchase_order"]);
    const owner = await one(db, table, row[field], ["purchase_order"]);
    if (!line || !owner || !same(line.purchase_order, owner.purchase_order)) {
      refuse(lineField, `PO line ${row[lineField]} is not on this ${table.slice(0, -1)}'s order`);
    }
  }
}

function touches(collection, payload) {
  const fields = ["partnership"];
  if (PARENTS[collection]) fields.push(PARENTS[collection][0]);
  if (SKU_FIELDS[collection]) fields.push(SKU_FIELDS[collection]);
  if (LOCATION_FIELDS[collection]) fields.push(LOCATION_FIELDS[collection]);
  if (PO_LINE_OF[collection]) fields.push(PO_LINE_OF[collection][0]);
  return fields.some((f) => f in payload);
}

// A supplier never sees a distributor's draft promotion, so it may not write its history.
async function checkHistory(db, accountability, row) {
  if (!accountability || accountability.admin || !accountability.user) return;
  const promotion = await one(db, "promotions", row.promotion, ["status", "partnership"]);
  if (!promotion || promotion.status !== "draft") return;
  const pair = await one(db, "partnerships", promotion.partnership, ["supplier"]);
  const user = await db("directus_users").where("id", accountability.user).first(["organization"]);
  if (pair && user && same(user.organization, pair.supplier)) {
    // As a missing promotion is refused (check): a supplier cannot tell a draft exists.
    refuse("promotion", `promotions ${row.promotion} is not a record of this supplier-distributor pair`);
  }
}

// Natural keys: a record's id (or ref) is derived from its own fields, by the hub, never
// taken from the caller, so nobody can create a row under another partner's key. A
// partner's different key, or an update of a key's fields, is refused with Directus's
// own 403 before anything is read: a guess at another partner's key learns nothing.
// collection -> [key field, the fields it is made of, in order]
const DERIVED_KEYS = {
  column_mappings: ["id", ["distributor", "kind"]],
  sku_codes: ["id", ["distributor", "item_code"]],
  locations: ["ref", ["distributor", "code"]],
  forecasts: ["id", ["distributor", "location", "sku", "week_start"]],
  commitments: ["id", ["partnership", "sku", "week_start"]],
};
const DATE_PARTS = new Set(["week_start"]);

function keyPart(field, value) {
  if (value !== null && typeof value === "object" && "id" in value) value = value.id;
  if (!DATE_PARTS.has(field) || value === null || value === undefined) return value;
  // Only the one spelling of a date: Directus would also store "20260302" or a date-time
  // with an offset, whose first ten characters name another day, or the same day twice.
  if (typeof value === "string" && !/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    refuse(field, "a date written YYYY-MM-DD");
  }
  return day(value);
}

// A partner's write that names a key, or a field a key is made of, is refused the same
// way whatever is stored under that key, and before anything is read, so the answer
// never tells whether another partner's row exists.

// The organization a partner's row is created for: the payload's, or (as the policies'
// presets will set it) the user's own.
async function ownerOf(db, accountability, payload) {
  if (payload.distributor !== undefined && payload.distributor !== null) {
    return keyPart("distributor", payload.distributor);
  }
  if (!accountability || !accountability.user) return undefined;
  const user = await db("directus_users").where("id", accountability.user).first(["organization"]);
  return user ? user.organization : undefined;
}

function deriveKey(collection, row) {
  const [keyField, parts] = DERIVED_KEYS[collection];
  const values = parts.map((part) => keyPart(part, row[part]));
  const missing = parts.find((_, i) => values[i] === null || values[i] === undefined);
  if (missing) refuse(missing, `required: the ${keyField} is made from ${parts.join(", ")}`);
  return [keyField, values.join(":")];
}

const isAdmin = (accountability) => !accountability || accountability.admin;

async function keyOnCreate(db, accountability, collection, payload) {
  const row = { ...payload, distributor: await ownerOf(db, accountability, payload) };
  const [keyField, key] = deriveKey(collection, row);
  if (payload[keyField] !== undefined && payload[keyField] !== null && payload[keyField] !== key) {
    if (!isAdmin(accountability)) forbidden();
    refuse(keyField, `is made by the hub from ${DERIVED_KEYS[collection][1].join(", ")}; leave it out`);
  }
  return { ...payload, [keyField]: key };
}

async function keyOnUpdate(db, accountability, collection, keys, payload) {
  const [keyField, parts] = DERIVED_KEYS[collection];
  if (![keyField, ...parts].some((f) => f in payload)) return;
  if (!isAdmin(accountability)) forbidden();
  for (const key of keys) {
    const current = await db(collection).where("id", key).first();
    if (!current) continue;
    const [, derived] = deriveKey(collection, { ...current, ...payload });
    if (derived !== String(current[keyField]) || (keyField in payload && payload[keyField] !== derived)) {
      const field = parts.find((f) => f in payload) || keyField;
      refuse(field, `the ${keyField} is made from ${parts.join(", ")} and cannot change; create a new record`);
    }
  }
}

// The bulk lane (directus/bulk.py) writes into the same SQLite file from another process,
// and the hub itself keeps several connections (directus/process.py, SQLITE_READERS).
// Directus opens SQLite with no busy timeout, so its own writes would fail at once with
// SQLITE_BUSY while another connection commits; with one they wait their turn instead.
//
// A timeout is not enough for a transaction. Knex begins them deferred ("BEGIN"), and
// Directus reads inside them (hooks, permissions, the row before an update) before it
// writes: the transaction then holds a read snapshot, and its first write fails at once
// with SQLITE_BUSY if any other connection has committed since (SQLite cannot wait that
// out: the snapshot stays stale). Directus retries three times within 0.7 s and gives up,
// so under four concurrent clients, or beside a merging lane, writes and audit entries
// were lost. "BEGIN IMMEDIATE" takes the write lock first, waiting for it under the busy
// timeout, so no transaction has to upgrade a stale snapshot. Writers take turns (SQLite
// allows one at a time anyway); readers outside transactions still run side by side (WAL).
const BUSY_TIMEOUT_MS = 60000;

function waitForLocks(database) {
  const client = database && database.client;
  if (!client || !String(client.config && client.config.client).startsWith("sqlite")) return;
  const pragma = (conn) => conn.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`, () => {});
  if (client.pool && typeof client.pool.on === "function") {
    client.pool.on("createSuccess", (_id, conn) => pragma(conn));
  }
  database.raw(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`).catch(() => {});
  // knex calls begin() after it has a connection, so replacing it on the new transaction
  // takes effect; nested transactions are savepoints on the outer one's connection.
  const transaction = client.transaction;
  client.transaction = function immediate(...args) {
    const trx = transaction.apply(this, args);
    trx.begin = (conn) => trx.query(conn, "BEGIN IMMEDIATE;");
    return trx;
  };
}

// POS rows and their weekly rollups have one writer, the bulk lane (directus/bulk.py),
// which keeps the rollups equal to the sums of the rows by adding each row's difference.
// A row written here, by anyone, admins included, would be missing from them.
// Inventory positions likewise: a level by day, imported as files are.
const LANE_ONLY = new Set([
  "pos_sales",
  "pos_week_location",
  "pos_week_distributor",
  "inventory_positions",
]);

function laneOnly(collection) {
  if (!LANE_ONLY.has(collection)) return;
  const error = new Error(
    `${collection} is written only by the bulk lane (tandem import, uploads, drop ` +
      "folders); to restate a day, import it again.",
  );
  error.name = "DirectusError";
  error.code = "FORBIDDEN";
  error.status = 403;
  error.extensions = { reason: `${collection}: written only by the bulk lane` };
  throw error;
}

// Signing in to the hub directly is throttled as the portal's sign-in is (portal/auth.py,
// ACCOUNT_FAILURES): after 5 failed attempts on one account within 15 minutes, its next
// sign-in is refused with 429, the right password included, until the oldest failure is
// 15 minutes old. Every attempt on a known account is written before its password is
// checked (directus_activity, so all hub instances count together) and removed again if
// it succeeds, so a burst of parallel guesses counts each guess before any is answered.
// Directus's own rate limiter (RATE_LIMITER_*) counts every request per client IP.
const SIGNIN_FAILURES = 5;
const SIGNIN_WINDOW_MS = 15 * 60 * 1000;
const SIGNIN_ACTION = "tandem.signin";
const SIGNIN_MARK = "tandem_signin";

function throttled() {
  const error = new Error("Too many failed sign-in attempts. Wait 15 minutes, then try again.");
  error.name = "DirectusError";
  error.code = "REQUESTS_EXCEEDED";
  error.status = 429;
  error.extensions = { limit: SIGNIN_FAILURES, window: "15 minutes" };
  throw error;
}

async function countSignin(db, user, accountability) {
  const who = accountability || {};
  const [inserted] = await db("directus_activity").insert(
    {
      action: SIGNIN_ACTION,
      user,
      timestamp: new Date(),
      ip: who.ip || null,
      user_agent: who.userAgent || null,
      origin: who.origin || null,
      collection: "directus_users",
      item: user,
    },
    ["id"],
  );
  const id = typeof inserted === "object" ? inserted.id : inserted;
  const [{ attempts }] = await db("directus_activity")
    .where({ action: SIGNIN_ACTION, collection: "directus_users", item: user })
    .andWhere("timestamp", ">", new Date(Date.now() - SIGNIN_WINDOW_MS))
    .andWhere("id", "<", id)
    .count({ attempts: "*" });
  if (Number(attempts) >= SIGNIN_FAILURES) {
    await db("directus_activity").where("id", id).delete();
    throttled();
  }
  return id;
}

const EXTENSION = "tandem-integrity";
const PROBE_PATH = "/tandem/integrity";

// A personal API token's hub session is opened and refreshed under the user agent
// "tandem-token/<token id>" (portal/tokens.py, session_agent). Revoking the token (setting
// revoked_at, from the portal or with the user's own login here) or deleting its row ends
// that session in the same transaction, so it stops working at once, wherever it is used.
const TOKEN_AGENT = "tandem-token/";

async function endTokenSessions(db, keys, accountability, payload) {
  // The filter runs before Directus checks the caller's rights and outside its
  // transaction, so a partner's write ends sessions only when Directus will let the
  // whole of it through: revoked_at set and nothing else, on live tokens all its own (a
  // batch naming anyone else's is refused whole, and so ends nothing). Partners have no
  // delete on tokens: a delete ends sessions only for an admin or Tandem's services.
  if ((await callerRole(db, accountability)) !== null) {
    if (!payload || payload.revoked_at == null) return;
    if (Object.keys(payload).some((field) => field !== "revoked_at")) return;
    for (const key of keys) {
      const row = await db("api_tokens").where("id", key).first(["user", "revoked_at"]);
      if (!row || !same(row.user, accountability.user) || row.revoked_at != null) return;
    }
  }
  for (const key of keys) {
    const row = await db("api_tokens").where("id", key).first(["user"]);
    if (!row) continue;
    await db("directus_sessions")
      .where({ user: row.user, user_agent: `${TOKEN_AGENT}${key}` })
      .delete();
  }
}

// A distributor's own rows name its own locations: a forecast at another distributor's
// store would be planted in that store's figures. One answer for a missing location and
// another's, so the refusal tells nothing.
const OWN_LOCATION = { forecasts: "location" };

async function ownLocation(db, accountability, collection, payload) {
  const field = OWN_LOCATION[collection];
  if (payload[field] === undefined || payload[field] === null) return;
  // Only for a writer Directus would let create the row: a distributor for its own
  // organization (or an admin). Anyone else is left to Directus's refusal, so naming a
  // distributor and a location never tells whose the location is.
  const role = await callerRole(db, accountability);
  let owner = await ownerOf(db, accountability, payload);
  if (role !== null) {
    if (role !== "distributor_user") return;
    const user = await db("directus_users").where("id", accountability.user).first(["organization"]);
    if (!user || (payload.distributor != null && !same(owner, user.organization))) return;
    owner = user.organization;
  }
  const place = await one(db, "locations", keyPart(field, payload[field]), ["distributor"]);
  if (!place || !same(place.distributor, owner)) {
    refuse(field, `location ${keyPart(field, payload[field])} is not one of the distributor's`);
  }
}

// A partner never chooses a primary key: ids are the hub's (sequences, or keys it derives
// above). Creating a row under a key that is taken would otherwise answer
// RECORD_NOT_UNIQUE, and so tell whether another partner's row exists; it is refused like
// any forbidden create, before anything is read. The exception is a personal API token,
// whose public id is 128 random bits the portal draws before storing it.
const CALLER_KEYS = new Set(["api_tokens"]);

async function chosenKey(db, schema, accountability, collection, payload) {
  if (isAdmin(accountability) || CALLER_KEYS.has(collection)) return;
  const primary = schema && schema.collections[collection] && schema.collections[collection].primary;
  if (!primary || (DERIVED_KEYS[collection] && DERIVED_KEYS[collection][0] === primary)) return;
  if (payload[primary] === undefined || payload[primary] === null) return;
  // Tandem's own service users (the sync service's run records) key rows they make.
  if ((await callerRole(db, accountability)) === null) return;
  forbidden();
}

export default ({ filter, action, init }, { database, services, logger }) => {
  waitForLocks(database);
  registerOwnership(filter, { services }); // who writes which field, in which status
  init("middlewares.after", ({ app }) => app.use(reachGuard(database)));
  registerGeneration(init, database, callerRole, logger);
  for (const event of ["items.query", "users.query"]) {
    filter(event, (query, meta, { database: db, schema, accountability }) =>
      checkQuery(db, schema, accountability, meta.collection, query),
    );
  }

  filter("auth.login", async (payload, meta, context) => {
    if (!meta.user) return payload; // no such account: Directus refuses it anyway
    const id = await countSignin(context.database, meta.user, context.accountability);
    return { ...payload, [SIGNIN_MARK]: id };
  });
  action("auth.login", async ({ payload, status }, context) => {
    if (status === "success" && payload && payload[SIGNIN_MARK] != null) {
      await context.database("directus_activity").where("id", payload[SIGNIN_MARK]).delete();
    }
  });

  filter("items.delete", async (keys, meta, context) => {
    laneOnly(meta.collection);
    await refuseReferred(services, context, meta.collection, keys); // 409, not the FK's 500
    if (meta.collection === "api_tokens") {
      await endTokenSessions(context.database, keys, context.accountability);
    }
    return keys;
  });
  filter("items.create", async (payload, meta, context) => {
    laneOnly(meta.collection);
    const { database: db, schema, accountability } = context;
    await chosenKey(db, schema, accountability, meta.collection, payload);
    if (meta.collection in DERIVED_KEYS) {
      payload = await keyOnCreate(context.database, context.accountability, meta.collection, payload);
    }
    if (meta.collection in OWN_LOCATION) await ownLocation(db, accountability, meta.collection, payload);
    if (PAIR_BOUND.has(meta.collection)) await check(db, meta.collection, payload, accountability);
    if (meta.collection in FROZEN && (await callerRole(db, accountability)) !== null) {
      await guardFrozen(db, meta.collection, payload);
    }
    if (meta.collection in FROZEN) {
      const partner = (await callerRole(db, accountability)) !== null;
      payload = await keepHorizons(db, meta.collection, payload, null, partner);
    }
    payload = await guardGtin(context, meta.collection, payload);
    if (meta.collection === "promotion_events") {
      await checkHistory(context.database, context.accountability, payload);
    }
    return payload;
  });

  filter("items.update", async (payload, meta, context) => {
    laneOnly(meta.collection);
    const collection = meta.collection;
    const db = context.database;
    if (collection === "api_tokens" && payload.revoked_at != null) {
      await endTokenSessions(db, meta.keys, context.accountability, payload);
    }
    if (collection in DERIVED_KEYS) {
      await keyOnUpdate(db, context.accountability, collection, meta.keys, payload);
    }
    payload = await guardGtin(context, collection, payload, meta.keys);
    if (collection in FROZEN && (await callerRole(db, context.accountability)) !== null) {
      for (const key of meta.keys) {
        const current = await db(collection).where("id", key).first();
        // Another pair's record is left to Directus's 403, as below.
        if (!current || !(await mayWriteFor(db, context.accountability, current.partnership))) continue;
        await guardFrozen(db, collection, { ...current, ...payload });
      }
    }
    if (collection in FROZEN) {
      const partner = (await callerRole(db, context.accountability)) !== null;
      payload = await keepHorizons(db, collection, payload, meta.keys, partner);
    }
    payload = await stampClose(db, collection, meta.keys, payload);
    const admin = !context.accountability || context.accountability.admin;
    const guardDate = ORIGINAL_DATE.has(collection) && "original_promised_date" in payload;
    if (!PAIR_BOUND.has(collection) || !(touches(collection, payload) || guardDate)) {
      return payload;
    }
    for (const key of meta.keys) {
      const current = await db(collection).where("id", key).first();
      if (!current) continue;
      // Another pair's record is left to Directus, which refuses it exactly as it refuses
      // a key nobody has: nothing of it is compared or named here.
      if (!(await mayWriteFor(db, context.accountability, current.partnership))) continue;
      if (guardDate && !admin && current.original_promised_date != null) {
        if (day(current.original_promised_date) !== day(payload.original_promised_date)) {
          refuse("original_promised_date", "the original commitment is kept; revise revised_date");
        }
      }
      if (touches(collection, payload)) {
        await check(db, collection, { ...current, ...payload }, context.accountability);
      }
    }
    return payload;
  });

  // Last, once every rule above is registered: the probe that says this extension is
  // loaded (directus/integrity.py; the portal's /health and start-up, `tandem run`).
  // Directus starts without an extension it cannot load, so without this answer none
  // of the rules above is in force.
  init("routes.before", ({ app }) => {
    app.get(PROBE_PATH, (_req, res) => res.json({ data: { extension: EXTENSION } }));
  });
};
