// Row numbers: POS, inventory and forecast rows carry `seq`, a unique integer given when
// the row is first stored and never changed (migrations/0009_row_numbers.py). Their keys
// are text, which Directus 11.17.4 does not compare, so lists and exports page by `seq`.
//
// `row_numbers` holds the next number per collection. The bulk lane takes numbers for the
// POS and inventory rows it adds (directus/bulk.py); this module numbers each forecast
// created through REST, inside the create's own transaction (SQLite's begins IMMEDIATE,
// and PostgreSQL holds the counter's row lock until it commits), so no two rows share one.

import { forbidden, refuse } from "./errors.js";

export const NUMBERED = new Set(["pos_sales", "inventory_positions", "forecasts"]);
const COUNTER = "row_numbers";

// The first of `count` new numbers of a collection, taken in the caller's transaction.
export async function takeNumbers(db, collection, count) {
  await db(COUNTER).where("name", collection).increment("next", count);
  const row = await db(COUNTER).where("name", collection).first("next");
  if (!row) throw new Error(`${COUNTER} has no counter for ${collection}`);
  return Number(row.next) - count;
}

// On create: the hub numbers the row; a number the caller names is refused, as a key is.
export async function numberOnCreate(db, collection, payload) {
  if (!NUMBERED.has(collection)) return payload;
  if (payload.seq !== undefined && payload.seq !== null) forbidden();
  return { ...payload, seq: await takeNumbers(db, collection, 1) };
}

// On update: a row's number never changes, whoever asks.
export function keepNumber(collection, payload) {
  if (NUMBERED.has(collection) && "seq" in payload) {
    refuse("seq", "a row's number is the hub's and never changes");
  }
}

// POST /tandem/number-rows {collection}: numbers the collection's rows that have none (rows
// stored before migration 0009), in one transaction. The hub's admins only.
export function numberRowsRoute(database) {
  return async (req, res, next) => {
    try {
      if (!req.accountability || req.accountability.admin !== true) forbidden();
      const collection = req.body && req.body.collection;
      if (!NUMBERED.has(collection)) refuse("collection", "not a numbered collection");
      const numbered = await database.transaction(async (trx) => {
        const [{ missing }] = await trx(collection).whereNull("seq").count({ missing: "*" });
        const count = Number(missing);
        if (count === 0) return 0;
        const first = await takeNumbers(trx, collection, count);
        await trx.raw(
          `UPDATE ?? SET seq = ? + x.n FROM (SELECT id, row_number() OVER (ORDER BY id) AS n ` +
            `FROM ?? WHERE seq IS NULL) AS x WHERE ??.id = x.id`,
          [collection, first - 1, collection, collection],
        );
        return count;
      });
      res.json({ data: { collection, numbered } });
    } catch (error) {
      next(error);
    }
  };
}
