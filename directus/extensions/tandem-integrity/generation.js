// The hub's write generation: a number that moves after every write, so a reader can keep
// what it read for as long as the number has not moved (directus/reads.py, the portal).
//
// It lives in the database (`tandem_generation`, migration 0030), one row for every hub
// instance; the bulk lane moves it in the transaction of each import it commits. Here it
// moves once a write request (POST, PATCH, PUT, DELETE) has done its work and before the
// caller hears back: whoever is told a write happened reads the new number, and anything
// read before it was kept under the old one. Refreshing a session writes nothing another
// reader sees, so it leaves it alone.
//
// Only on PostgreSQL. On SQLite a bulk import holds the one write lock for minutes, and a
// reply must not wait for it: there the hub answers no generation, and nobody keeps reads.
// A move is tried three times. If it still fails, this instance answers no generation
// (a reader then keeps nothing) until a move started after the failure succeeds; the
// write's own answer is sent all the same. Another instance does not know: there, the
// readers' time limit (TANDEM_READ_CACHE_S) bounds what they keep.

const TABLE = "tandem_generation";
const PATH = "/tandem/generation";
const UNCHANGED = new Set(["GET", "HEAD", "OPTIONS", "SEARCH"]);
// A refresh writes only the session itself. A sign-in is not here: enough failed ones
// suspend the account.
const QUIET = new Set(["/auth/refresh"]);
const TRIES = 3;

export function registerGeneration(init, database, callerRole, logger) {
  const kept = database.client.config.client === "pg";
  // Moves are numbered as they start. After a move fails, none is answered until a move
  // that started after it (so after that write's commit) has succeeded.
  let started = 0;
  let failed = 0;
  let succeeded = 0;
  const move = async () => {
    const mine = ++started;
    for (let attempt = 1; attempt <= TRIES; attempt++) {
      try {
        if ((await database(TABLE).where("id", 1).increment("n", 1)) === 1) {
          succeeded = Math.max(succeeded, mine);
          return;
        }
      } catch (err) {
        if (err.code === "42P01") break; // before migration 0030: no generation yet
        if (attempt === TRIES) logger.error(err, "tandem: the write generation did not move");
      }
    }
    failed = Math.max(failed, mine);
  };
  const sure = () => succeeded > failed || failed === 0;
  if (kept) {
    init("middlewares.after", ({ app }) =>
      app.use((req, res, next) => {
        if (UNCHANGED.has(req.method) || QUIET.has(req.path)) return next();
        const end = res.end;
        let ending = null;
        res.end = function (...args) {
          if (ending === null) {
            ending = move()
              .catch(() => undefined)
              .then(() => end.apply(res, args))
              .catch((err) => logger.error(err, "tandem: answering after the generation moved"));
          }
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
        if (!kept || !sure()) return res.json({ data: null });
        const row = await database(TABLE).where("id", 1).first("n");
        return res.json({ data: row ? String(row.n) : null });
      } catch (err) {
        return next(err);
      }
    }),
  );
}
