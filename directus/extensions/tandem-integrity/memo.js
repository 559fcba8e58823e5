// What one request's transaction has already looked up. A batch of a thousand lines, or a
// shipment's nested lines, runs the same checks for every row: who the caller is, whether
// it may write for a pair, whether it reads a parent. Within one transaction those
// answers cannot change (a caller's role and organization, a pair's sides and a record's
// pair are never changed by a partner's own request), so each is asked once.
//
// Only inside a transaction: outside one, the database handle is shared by every request,
// and nothing is kept.

const seen = new WeakMap();

export function remembered(database, key, compute) {
  if (!database || !database.isTransaction) return compute();
  let known = seen.get(database);
  if (!known) {
    known = new Map();
    seen.set(database, known);
  }
  if (!known.has(key)) known.set(key, compute());
  return known.get(key);
}
