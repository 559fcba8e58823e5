// When an exception closes, the hub says when: a move to a closed status (ownership.json's
// "closed": resolved, dismissed) stamps closed_at and hours_to_close (detection to
// resolution, to a tenth of an hour, as domain/exceptions.py's hours_to_resolve); a
// move back to open clears both. Nobody writes them: the ownership table gives them to
// no side, so a partner naming one is refused before this runs.

import { CLOSED } from "./ownership.js";

export async function stampClose(services, db, schema, collection, keys, status) {
  const closing = CLOSED[collection];
  if (!closing) return;
  const items = new services.ItemsService(collection, { knex: db, schema });
  for (const key of keys) {
    const row = await items.readOne(key, { fields: ["opened_at", "closed_at"] });
    if (!row) continue;
    let change = { closed_at: null, hours_to_close: null };
    if (closing.includes(status)) {
      if (row.closed_at) continue; // closed already: the first close is kept
      const now = new Date();
      const tenths = Math.round((now.getTime() - new Date(row.opened_at).getTime()) / 360000);
      change = { closed_at: now.toISOString(), hours_to_close: (tenths / 10).toFixed(1) };
    }
    await items.updateOne(key, change, { emitEvents: false });
  }
}
