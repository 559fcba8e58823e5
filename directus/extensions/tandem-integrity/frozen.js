// Frozen weeks: a partner neither makes nor changes a record (a supplier's commitment)
// for a week inside its SKU's lead time, or past. An order placed today arrives after
// the lead time, so the weeks starting before then can no longer be served by a change
// of plan. The same rule as domain/forecasts.py (first_open_week, frozen_reason), which
// the portal and the bulk lane apply; which collections it binds is ownership.json's
// "frozen" (domain/ownership.py, FROZEN). "Today" is the UTC date, as domain/clock.py's.

import { refuse } from "./errors.js";
import { FROZEN, HORIZONS } from "./ownership.js";

const DAY_MS = 24 * 60 * 60 * 1000;
const isoDay = (date) => date.toISOString().slice(0, 10);
const utcToday = () => new Date(`${isoDay(new Date())}T00:00:00Z`);

function mondayOf(weekField, week) {
  const text =
    week instanceof Date || typeof week === "number" ? isoDay(new Date(week)) : String(week).slice(0, 10);
  const monday = new Date(`${text}T00:00:00Z`);
  if (Number.isNaN(monday.getTime())) refuse(weekField, "a date written YYYY-MM-DD");
  return [text, monday];
}

// The first Monday on or after today + the lead time.
function firstOpenWeek(today, leadDays) {
  const arrives = new Date(today.getTime() + Math.max(leadDays, 0) * DAY_MS);
  const weekday = (arrives.getUTCDay() + 6) % 7; // Monday 0 .. Sunday 6
  return new Date(arrives.getTime() + ((7 - weekday) % 7) * DAY_MS);
}

// The ISO week label of a Monday: its Thursday's year, and the week holding it.
function weekLabel(monday) {
  const thursday = new Date(monday.getTime() + 3 * DAY_MS);
  const year = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * DAY_MS));
  return `${year}-W${String(week).padStart(2, "0")}`;
}

export function frozenReason(monday, today, leadDays) {
  const opens = firstOpenWeek(today, leadDays);
  if (monday.getTime() >= opens.getTime()) return null;
  return (
    `${weekLabel(monday)} is frozen: it starts before ${isoDay(opens)} ` +
    `(${Math.max(leadDays, 0)} days' lead time from ${isoDay(today)}), so it can no longer change`
  );
}

// Refuses (400 naming the week field) a row whose week is not a Monday or is frozen.
// Called once the caller is known to be a party to the row's pair and the SKU the pair's,
// so a refusal here tells nothing of another pair.
export async function guardFrozen(db, collection, row) {
  const fields = FROZEN[collection];
  if (!fields) return;
  const [weekField, skuField] = fields;
  const week = row[weekField];
  const skuId = row[skuField] !== null && typeof row[skuField] === "object" ? row[skuField].id : row[skuField];
  if (week === null || week === undefined || skuId === null || skuId === undefined) return;
  const [text, monday] = mondayOf(weekField, week);
  if (monday.getUTCDay() !== 1) {
    refuse(weekField, `${text} is not a Monday: a week is an ISO week, given by its Monday`);
  }
  const sku = await db("skus").where("id", skuId).first(["lead_time_days"]);
  if (!sku) return;
  const reason = frozenReason(monday, utcToday(), Number(sku.lead_time_days) || 0);
  if (reason) refuse(weekField, reason);
}

// A record's units as they stood each horizon before its week (domain/forecasts.py,
// HORIZONS and horizons_ahead): a create or a change of the units sets <units>_h<n> for
// every horizon n no longer than the whole weeks from today to the week. A partner's own
// values for them are dropped (the ownership table refuses a changed one); an admin who
// names them (a demo's history) is taken at its word. A change of several records' units at once is
// refused: each keeps its own history.
export async function keepHorizons(db, collection, payload, keys, partner) {
  const fields = FROZEN[collection];
  if (!fields) return payload;
  const [weekField, , unitsField] = fields;
  const kept = HORIZONS.map((h) => `${unitsField}_h${h}`);
  if (partner) {
    // Whatever a partner says of them (the ownership table lets an unchanged value
    // through), the hub's own figures are written.
    payload = Object.fromEntries(Object.entries(payload).filter(([f]) => !kept.includes(f)));
  } else if (kept.some((f) => f in payload)) {
    return payload;
  }
  if (!(unitsField in payload)) return payload;
  let week = payload[weekField];
  if (keys) {
    if (keys.length !== 1) {
      refuse(unitsField, "change one record's units at a time: each keeps its own history");
    }
    const current = await db(collection).where("id", keys[0]).first([weekField]);
    if (!current) return payload;
    week = current[weekField];
  }
  if (week === null || week === undefined) return payload;
  const [, monday] = mondayOf(weekField, week);
  const weeks = Math.floor((monday.getTime() - utcToday().getTime()) / (7 * DAY_MS));
  const out = { ...payload };
  for (const h of HORIZONS) if (h <= weeks) out[`${unitsField}_h${h}`] = payload[unitsField];
  return out;
}
