// The refusals every rule of this extension answers with, shaped as Directus's own errors
// (its error handler sends name, code, status and extensions as it sends its own).

// 400 INVALID_PAYLOAD naming the field; the whole request rolls back.
export function refuse(field, reason) {
  const error = new Error(`Invalid payload. ${field}: ${reason}.`);
  error.name = "DirectusError";
  error.code = "INVALID_PAYLOAD";
  error.status = 400;
  error.extensions = { reason: `${field}: ${reason}` };
  throw error;
}

// Directus's own 403, word for word: for a write that must not tell why it is refused.
export function forbidden() {
  const error = new Error("You don't have permission to access this.");
  error.name = "DirectusError";
  error.code = "FORBIDDEN";
  error.status = 403;
  error.extensions = {};
  throw error;
}

// Two ids the same, whether the hub gave a number or a string.
export const same = (a, b) => a !== null && a !== undefined && String(a) === String(b);

// 409 CONFLICT: the caller may make this write, but the rows as they stand refuse it.
export function conflict(reason) {
  const error = new Error(`Cannot delete: ${reason}.`);
  error.name = "DirectusError";
  error.code = "CONFLICT";
  error.status = 409;
  error.extensions = { reason };
  throw error;
}
