// How far a partner's query may reach through relations.
//
// Directus 11.17.4 checks item rules on the rows a request returns, and field rules on
// every path a filter, sort or aggregate names, but not item rules on the related rows a
// filter walks through: a supplier allowed to read `locations` could filter them by
// `purchase_orders.number` and learn, from which locations come back, another supplier's
// order numbers. So a partner's query may step through a relation only where the rows on
// the other side are always rows it may read itself (a child's own parent, a shared row's
// own SKU...), listed below per Tandem role; any other step is refused with 400 before
// anything is read. Reading related fields (`fields=`) stays Directus's job: it applies
// the related collection's item rules to what it returns.
//
// Update and delete "by query" pick their rows with the hub's own rights, not the
// caller's (ItemsService.getKeysByQuery), so a 403 or a 200 would tell whether a foreign
// row matches: partners name the keys they change instead.

import { remembered } from "./memo.js";

// Steps every partner role may take: from a pair-bound row to its pair, and from a child
// to its own parent. Each is a row the caller can read whenever it can read the child.
const PAIR_BOUND = [
  "promotions", "promotion_skus", "promotion_locations", "promotion_events",
  "purchase_orders", "po_lines", "shipments", "shipment_lines", "invoices",
  "invoice_lines", "business_plans", "plan_revisions", "plan_actions", "risks",
  "scorecards", "scorecard_values", "commitments", "exception_criteria", "exceptions",
  "exception_events",
];
const PARENT_STEPS = [
  "promotion_skus.promotion", "promotion_locations.promotion", "promotion_events.promotion",
  "po_lines.purchase_order", "shipments.purchase_order", "shipment_lines.shipment",
  "shipment_lines.po_line", "invoices.purchase_order", "invoice_lines.invoice",
  "invoice_lines.po_line", "plan_revisions.plan", "plan_actions.plan",
  "scorecard_values.scorecard", "exception_events.exception", "exceptions.criterion",
];
// And back, from a parent to its children (the o2m aliases): a child of a row the caller
// reads is of the same pair and, for a promotion, shares its draft-or-not status.
const CHILD_STEPS = [
  "promotions.skus", "promotions.locations", "promotions.history",
  "purchase_orders.lines", "purchase_orders.shipments", "purchase_orders.invoices",
  "shipments.lines", "invoices.lines", "business_plans.revisions", "business_plans.actions",
  "scorecards.values", "exceptions.events",
];
const EVERY_PARTNER = [
  ...PAIR_BOUND.map((c) => `${c}.partnership`), ...PARENT_STEPS, ...CHILD_STEPS,
];

// Shared rows (POS, inventory, forecasts and the POS rollups) name a location and a SKU.
// A distributor's rows are at its own locations, of its partners' SKUs (the bulk lane
// resolves only those); a supplier's (and a manager's) are the ones its agreements share,
// whose locations the same agreements let it read, and whose SKUs are its own (a
// manager's: its pairs' suppliers').
const SHARED = ["pos_sales", "inventory_positions", "forecasts", "pos_week_location"];
const ROLLUP = ["pos_week_distributor"];
const LOCATION_STEPS = SHARED.map((c) => `${c}.location`);
// A commitment's SKU is its pair's supplier's, which both sides and the managers read.
const SKU_STEPS = [...SHARED, ...ROLLUP, "commitments", "exceptions"].map((c) => `${c}.sku`);

export const STEPS = {
  supplier_user: new Set([...EVERY_PARTNER, ...LOCATION_STEPS, ...SKU_STEPS, "sku_codes.sku"]),
  distributor_user: new Set([...EVERY_PARTNER, ...LOCATION_STEPS, ...SKU_STEPS]),
  account_manager: new Set([...EVERY_PARTNER, ...LOCATION_STEPS, ...SKU_STEPS]),
};

function refuse(reason) {
  const error = new Error(`Invalid query. ${reason}.`);
  error.name = "DirectusError";
  error.code = "INVALID_QUERY";
  error.status = 400;
  error.extensions = { reason };
  return error;
}

// The relation a field of a collection follows: [related collection, "m2o" | "o2m"], or
// null for a plain field. `$FOLLOW(...)` (a reverse relation with no alias) and an m2a
// key (`field:collection`) count as steps nobody is allowed.
function follow(schema, collection, key) {
  if (key.startsWith("$FOLLOW(") || key.includes(":")) return ["?", "reverse"];
  const name = (key.match(/^[^()]+\(([^)]+)\)/) || [null, key])[1].trim();
  for (const relation of schema.relations) {
    if (relation.collection === collection && relation.field === name) {
      return [relation.related_collection || "?", "m2o", name];
    }
    if (relation.related_collection === collection && relation.meta?.one_field === name) {
      return [relation.collection, "o2m", name];
    }
  }
  return null;
}

// Every path a query walks: [collection the path starts in, [keys...]].
function paths(collection, query, out = []) {
  if (!query || typeof query !== "object") return out;
  const walkFilter = (start, filter) => {
    const stack = [[filter, []]];
    while (stack.length) {
      const [current, path] = stack.pop();
      if (current === null || typeof current !== "object") continue;
      const isArray = Array.isArray(current);
      for (const key of Object.keys(current)) {
        const logical = ["_and", "_or", "_some", "_none"].includes(key);
        if (isArray || logical) stack.push([current[key], path]);
        else if (key.startsWith("_")) out.push([start, path]);
        else stack.push([current[key], [...path, ...key.split(".")]]);
      }
    }
  };
  const dotted = (value) =>
    String(value).replace(/^-/, "").split(".").filter((part) => part !== "");
  walkFilter(collection, query.filter);
  for (const field of query.sort || []) out.push([collection, dotted(field)]);
  for (const field of query.group || []) out.push([collection, dotted(field)]);
  for (const fields of Object.values(query.aggregate || {})) {
    for (const field of [].concat(fields)) if (field !== "*") out.push([collection, dotted(field)]);
  }
  return out;
}

// deep[relation][_filter|_sort|...] narrows a relation's rows; its own filter and sort
// start in the related collection.
function deepPaths(schema, collection, deep, out) {
  if (!deep || typeof deep !== "object") return;
  for (const [key, value] of Object.entries(deep)) {
    if (key.startsWith("_") || !value || typeof value !== "object") continue;
    const related = follow(schema, collection, key);
    // A name that is no relation here (an alias, say) would hide what lies under it.
    if (!related || related[1] === "reverse") {
      throw refuse(`deep names ${collection}.${key}, which is not a relation you may follow`);
    }
    const target = related[0];
    const nested = {};
    for (const [param, inner] of Object.entries(value)) {
      if (param === "_filter") nested.filter = inner;
      else if (param === "_sort") nested.sort = [].concat(inner);
      else if (param === "_group" || param === "_groupBy") nested.group = [].concat(inner);
      else if (param === "_aggregate") nested.aggregate = inner;
      else if (param === "_alias") throw refuse("alias is not offered to partners");
    }
    paths(target, nested, out);
    deepPaths(schema, target, value, out);
  }
}

function checkSteps(schema, allowed, collection, query) {
  const all = paths(collection, query);
  deepPaths(schema, collection, query.deep, all);
  for (const [start, path] of all) {
    let here = start;
    for (const [i, key] of path.entries()) {
      const step = follow(schema, here, key);
      if (!step) break;
      const [target, kind, name] = step;
      // A many-to-one key compared as it is (`{"sku": {"_in": [...]}}`, `sort=location`)
      // is the row's own column, not a step into the related rows.
      if (kind === "m2o" && i === path.length - 1 && key === name) break;
      if (kind === "reverse" || !allowed.has(`${here}.${name}`)) {
        throw refuse(
          `${here}.${kind === "reverse" ? key : name} leads to rows you may not read; ` +
            "filter, sort or group by that collection's own fields, or by the ids you can read",
        );
      }
      here = target;
    }
  }
}

// The caller's Tandem role: null for an admin or one of Tandem's service users, "" for a
// caller with no Tandem role.
export async function callerRole(database, accountability) {
  if (!accountability || accountability.admin) return null;
  if (!accountability.user) return "";
  const user = await remembered(database, `caller:${accountability.user}`, () =>
    database("directus_users").where("id", accountability.user).first(["tandem_role", "organization"]),
  );
  // Tandem's service users (the sync service, the portal's token verifier) belong to no
  // organization and have no Tandem role: their rules are narrow and their queries ours.
  if (user && !user.tandem_role && user.organization == null) return null;
  return (user && user.tandem_role) || "";
}

// A query as Directus's services read it (REST under any spelling of its path, SEARCH,
// exports, GraphQL): the "items.query" and "users.query" filters, with the caller's
// accountability. Directus's own reads (the keys of an update by query, say) carry none.
export async function checkQuery(database, schema, accountability, collection, query) {
  const role = await callerRole(database, accountability);
  if (role === null || !query) return query;
  if (query.alias && Object.keys(query.alias).length) {
    throw refuse("alias is not offered to partners; name the fields themselves");
  }
  // Directus 11.17.4 cannot group or aggregate through a relation (it answers 500).
  const grouped = [...(query.group || []), ...Object.values(query.aggregate || {}).flat()];
  const through = grouped.find((field) => typeof field === "string" && field.includes("."));
  if (through) throw refuse(`group and aggregate by ${collection}'s own fields, not ${through}`);
  checkSteps(schema, STEPS[role] || new Set(), collection, query);
  return query;
}

// Express answers "/ITEMS//x" as "/items/x": compare paths as it routes them.
const routed = (path) => path.toLowerCase().replace(/\/{2,}/g, "/").replace(/\/$/, "");

// The Express middleware, installed after Directus has authenticated the request (init
// "middlewares.after"): what a query hook cannot see. An update or delete by query picks
// its keys with the hub's own rights, before any hook knows the caller; GraphQL mutations
// do the same.
export function reachGuard(database) {
  return async (req, _res, next) => {
    try {
      const byQuery =
        ["PATCH", "DELETE"].includes(req.method) &&
        req.body && typeof req.body === "object" && !Array.isArray(req.body) &&
        "query" in req.body;
      const path = routed(req.path);
      const graphql = path === "/graphql" || path.startsWith("/graphql/");
      if (!byQuery && !graphql) return next();
      if ((await callerRole(database, req.accountability)) === null) return next();
      if (graphql) throw refuse("the GraphQL endpoint is not offered to partners; use /items");
      throw refuse("update and delete by query are not offered; name the keys you change");
    } catch (error) {
      return next(error);
    }
  };
}
