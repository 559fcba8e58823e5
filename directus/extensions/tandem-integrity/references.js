// Deleting a row that other rows still refer to.
//
// Every relation between Tandem's collections is a foreign key the database enforces, so
// such a delete cannot succeed; Directus 11.17.4 does not translate that failure on
// delete (ItemsService.deleteMany) and answered 500. This rule answers it before the
// delete runs: 409 CONFLICT naming, for each key, what still refers to it. It reads the
// schema's relations, so it covers every collection and every relation added later. Rows
// that go with the deleted one (ON DELETE CASCADE: a promotion's SKUs, locations and
// history, migration 0011) are followed, and what refers to them is named too; SET NULL
// refers to nothing.
//
// No oracle. The items.delete filter runs before Directus checks the caller's rights
// (and, for a top-level delete, outside the delete's transaction), so every delete is
// first tried here as Directus would run it, with the caller's rights, in a transaction
// that is always rolled back. Refused there (a key the caller may not delete, or nobody
// has), the keys are handed back and Directus answers its own 403, word for word as
// before, and nothing was looked up for that caller. Only a caller Directus lets delete
// every key, whose delete then fails on a foreign key, is told what refers to them: the
// names of the collections whose referring rows it can read itself, any others only as
// "other records". The cost is one more delete, rolled back, per delete request.
//
// A referring row written between this check and the delete still ends in Directus's 500.

import { conflict } from "./errors.js";

// What to do instead, where there is a usual answer.
const INSTEAD = { locations: "set its status to inactive instead" };

const noun = (collection) => collection.replace(/s$/, "").replace(/_/g, " ");
const onDelete = (relation) => String(relation.schema.on_delete || "NO ACTION").toUpperCase();

// key (as a string) -> [{ relation, key }]: a row of relation.collection whose
// relation.field is that key refuses the delete. Cascaded rows are followed down.
async function referrers(db, schema, collection, keys, depth = 0) {
  const found = new Map();
  const add = (key, what) => found.set(String(key), [...(found.get(String(key)) || []), what]);
  if (keys.length === 0 || depth > 8) return found;
  for (const relation of schema.relations) {
    if (relation.related_collection !== collection || !relation.schema) continue;
    const action = onDelete(relation);
    if (action === "SET NULL" || action === "SET DEFAULT") continue;
    const { collection: many, field } = relation;
    if (action === "CASCADE") {
      const primary = schema.collections[many].primary;
      const rows = await db(many).whereIn(field, keys).select([primary, field]);
      const parentOf = new Map(rows.map((row) => [String(row[primary]), row[field]]));
      const below = await referrers(db, schema, many, rows.map((row) => row[primary]), depth + 1);
      for (const [child, whats] of below) whats.forEach((what) => add(parentOf.get(child), what));
      continue;
    }
    for (const key of keys) {
      if (await db(many).where(field, key).first([field])) add(key, { relation, key });
    }
  }
  return found;
}

const foreignKeyFailure = (error) =>
  Boolean(error) &&
  (String(error.code) === "23503" || /FOREIGN KEY constraint failed/i.test(String(error.message)));

// Whether Directus lets this caller delete these keys, and the delete then fails on a
// foreign key: tried with the caller's rights, always rolled back.
async function refusedOnlyByReferences(services, context, collection, keys) {
  const { database: db, schema, accountability } = context;
  const trx = await db.transaction();
  try {
    const items = new services.ItemsService(collection, { knex: trx, schema, accountability });
    await items.deleteMany(keys, { emitEvents: false });
    return false; // nothing refers to them any more: Directus deletes them
  } catch (error) {
    return foreignKeyFailure(error);
  } finally {
    await trx.rollback();
  }
}

// Whether the caller reads a row of the relation's collection naming this key.
async function seen(services, context, { relation, key }) {
  const { database: db, schema, accountability } = context;
  if (!accountability || accountability.admin) return true;
  const items = new services.ItemsService(relation.collection, { knex: db, schema, accountability });
  const primary = schema.collections[relation.collection].primary;
  try {
    const query = { filter: { [relation.field]: { _eq: key } }, fields: [primary], limit: 1 };
    return (await items.readByQuery(query, { emitEvents: false })).length > 0;
  } catch {
    return false;
  }
}

export async function refuseReferred(services, context, collection, keys) {
  // First, and for every delete: so whether anything refers to a row the caller may not
  // delete is never looked up for it, not even to be discarded.
  if (!(await refusedOnlyByReferences(services, context, collection, keys))) return;
  const found = await referrers(context.database, context.schema, collection, keys);
  const parts = [];
  for (const key of new Set(keys.map(String))) {
    if (!found.has(key)) continue;
    const names = new Set();
    let unseen = false;
    for (const what of found.get(key)) {
      if (await seen(services, context, what)) names.add(what.relation.collection);
      else unseen = true;
    }
    const by = [...names, ...(unseen ? ["other records"] : [])].join(", ");
    parts.push(`${noun(collection)} ${key} is still referred to by ${by}`);
  }
  if (parts.length === 0) parts.push(`${collection} ${keys.join(", ")}: other records still refer to them`);
  conflict([...parts, ...(INSTEAD[collection] ? [INSTEAD[collection]] : [])].join("; "));
}
