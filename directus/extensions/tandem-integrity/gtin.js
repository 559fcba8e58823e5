// A SKU's GTIN is under its supplier's GS1 company prefixes, and registered once.
//
// Without this a supplier writing to the hub with its own login could register a GTIN
// of another supplier's prefix and then receive that product's POS (imports resolve
// rows by GTIN). The prefixes are on the supplier's partner record
// (organizations.gs1_prefixes, set by the operator). The rule is domain/gs1.py's
// registration_problem, checked here for every writer, admins included. A top-level
// write's hook runs before Directus opens its transaction (11.17.4), so two writers racing
// for one new GTIN are both let through here; the unique index on skus.gtin (every GTIN
// kept in its GTIN-14 form) then refuses the second.
//
// No oracle: a partner names only its own organization and its own SKUs (anything else
// is Directus's own 403 before a row is read), and a GTIN outside its prefixes is
// refused before anyone looks for it, so "already registered" is only ever said of a
// GTIN under the writer's own prefixes.

import { forbidden, refuse, same } from "./errors.js";

const LENGTHS = new Set([8, 12, 13, 14]);

const idOf = (value) => (value !== null && typeof value === "object" && "id" in value ? value.id : value);

// domain.gs1.gtin_problem, and the GTIN-14 form the hub keeps.
function gtin14(value) {
  const text = String(value ?? "").trim();
  if (!/^\d+$/.test(text)) refuse("gtin", `GTIN '${text}': a GTIN has digits only`);
  if (!LENGTHS.has(text.length)) refuse("gtin", `GTIN '${text}': a GTIN has 8, 12, 13 or 14 digits`);
  let total = 0;
  [...text.slice(0, -1)].reverse().forEach((d, i) => (total += Number(d) * (i % 2 === 0 ? 3 : 1)));
  const expected = (10 - (total % 10)) % 10;
  if (Number(text.slice(-1)) !== expected) {
    refuse("gtin", `GTIN '${text}': check digit should be ${expected}`);
  }
  return text.padStart(14, "0");
}

function prefixesOf(org) {
  let value = org && org.gs1_prefixes;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      value = [];
    }
  }
  return Array.isArray(value) ? value.map(String) : [];
}

// The forms one GTIN may have been stored in before the hub kept GTIN-14 only.
function spellings(gtin) {
  return [14, 13, 12, 8].filter((n) => /^0*$/.test(gtin.slice(0, 14 - n))).map((n) => gtin.slice(14 - n));
}

async function checkOne(db, row) {
  const gtin = gtin14(row.gtin);
  const org = await db("organizations").where("id", row.supplier).first(["kind", "gs1_prefixes"]);
  if (!org || org.kind !== "supplier") refuse("supplier", `organization ${row.supplier} is not a supplier`);
  const prefixes = prefixesOf(org);
  if (!prefixes.length) {
    refuse(
      "gtin",
      "the supplier has no GS1 company prefixes on its partner record yet; the operator " +
        "sets them (tandem partner prefixes, or the operator's partners page)",
    );
  }
  if (!prefixes.some((p) => gtin.slice(1).startsWith(p))) {
    refuse(
      "gtin",
      `GTIN ${gtin} is not under the supplier's GS1 company prefixes (${prefixes.join(", ")}); ` +
        "register only GTINs of your own prefixes, or ask the operator to add a prefix you hold",
    );
  }
  const taken = await db("skus").whereIn("gtin", spellings(gtin)).first(["id"]);
  if (taken && !same(taken.id, row.id)) refuse("gtin", `GTIN ${gtin} is already registered`);
  return gtin;
}

// items.create (keys undefined) and items.update of skus: the payload, with its GTIN in
// the GTIN-14 form; other collections pass untouched.
export async function guardGtin(context, collection, payload, keys) {
  if (collection !== "skus" || !("gtin" in payload || "supplier" in payload)) return payload;
  const db = context.database;
  const who = context.accountability;
  let own;
  if (who && !who.admin) {
    const user = who.user ? await db("directus_users").where("id", who.user).first(["organization"]) : null;
    own = user ? user.organization : null;
    if (own === null || own === undefined) forbidden();
    if (payload.supplier != null && !same(idOf(payload.supplier), own)) forbidden();
  }
  const rows = [];
  if (keys === undefined) {
    rows.push({ id: null, supplier: idOf(payload.supplier) ?? own, gtin: payload.gtin });
  } else {
    if (keys.length > 1 && "gtin" in payload) refuse("gtin", "a GTIN belongs to one SKU; update one");
    for (const key of keys) {
      const current = await db("skus").where("id", key).first(["id", "supplier", "gtin"]);
      if (!current) continue; // Directus answers for a missing key itself
      if (own !== undefined && !same(current.supplier, own)) forbidden();
      rows.push({
        id: current.id,
        supplier: "supplier" in payload ? idOf(payload.supplier) : current.supplier,
        gtin: "gtin" in payload ? payload.gtin : current.gtin,
      });
    }
  }
  let gtin;
  for (const row of rows) gtin = await checkOne(db, row);
  return "gtin" in payload && gtin !== undefined ? { ...payload, gtin } : payload;
}
