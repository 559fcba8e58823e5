// The hub's write generation: a number that moves after every write, so a reader can keep
// what it read for as long as the number has not moved (directus/reads.py, the portal).
//
// It lives in the database (`tandem_generation`, migration 0030), one row for every hub
// instance; the bulk lane moves it in the transaction of each import it commits. Here it
// moves once a write request (POST, PATCH, PUT, DELETE) has done its work and before the
// caller hears back: whoever is told a write happened reads the new number, and anything
// read before it was kept under the old one. Signing in or refreshing a session writes
// nothing another reader sees, so they leave it alone.
//
// Only on PostgreSQL. On SQLite a bulk import holds the one write lock for minutes, and a
// reply must not wait for it: there the hub answers no generation, and nobody keeps reads.
// If moving it fails, the hub answers none until it moves again (a reader then keeps
// nothing), and the write's own answer is sent all the same.

const TABLE = "tandem_generation";
const PATH = "/tandem/generation";
const UNCHANGED = new Set(["GET", "HEAD", "OPTIONS", "SEARCH"]);
const QUIET = new Set(["/auth/login", "/auth/refresh"]);

export function registerGeneration(init, database, callerRole) {
  const kept = database.client.config.client === "pg";
  let unsure = false;
  const move = () =>
    database(TABLE)
      .where("id", 1)
      .increment("n", 1)
      .then(
        (changed) => {
          unsure = changed !== 1;
        },
        () => {
          unsure = true;
        },
      );
  if (kept) {
    init("middlewares.after", ({ app }) =>
      app.use((req, res, next) => {
        if (UNCHANGED.has(req.method) || QUIET.has(req.path)) return next();
        const end = res.end;
        res.end = function (...args) {
          move().finally(() => end.apply(res, args));
          return res;
        };
        return next();
      }),
    );
  }
  init("routes.before", ({ app }) =>
    app.get(PATH, async (req, res, next) => {
      try {
        // Tandem's service accounts and admins only: to a partner, how often anything
        // anywhere is written would say something about the others.
        if (!req.accountability || !req.accountability.user) return res.status(403).end();
        if ((await callerRole(database, req.accountability)) !== null) {
          return res.status(403).end();
        }
        if (!kept || unsure) return res.json({ data: null });
        const row = await database(TABLE).where("id", 1).first("n");
        return res.json({ data: row ? String(row.n) : null });
      } catch (err) {
        return next(err);
      }
    }),
  );
}
