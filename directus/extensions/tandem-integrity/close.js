// When an exception closes, the hub says when: a move to a closed status (ownership.json's
// "closed": resolved, dismissed) stamps closed_at and hours_to_close (detection to
// resolution, to a tenth of an hour, as domain/exceptions.py's hours_to_resolve) into the
// same write; a move back to open clears both. No side writes them: the ownership table
// gives them to nobody, so a partner naming one is refused before this runs. One
// record's status at a time: each has its own detection time.

import { refuse } from "./errors.js";
import { CLOSED } from "./ownership.js";

export async function stampClose(db, collection, keys, payload) {
  const rule = CLOSED[collection];
  if (!rule || !payload || !("status" in payload)) return payload;
  const [when, hours] = rule.stamps;
  if (keys.length !== 1) refuse("status", "move one record at a time: each keeps its own times");
  const row = await db(collection).where("id", keys[0]).first(["opened_at", when]);
  if (!row) return payload;
  if (!rule.statuses.includes(payload.status)) return { ...payload, [when]: null, [hours]: null };
  if (row[when] !== null && row[when] !== undefined) return payload; // the first close is kept
  const opened = new Date(typeof row.opened_at === "number" ? row.opened_at : String(row.opened_at));
  const now = new Date();
  const tenths = Math.round((now.getTime() - opened.getTime()) / 360000);
  return { ...payload, [when]: now.toISOString(), [hours]: (tenths / 10).toFixed(1) };
}
