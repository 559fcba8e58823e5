# One image for the portal, the scheduler and the one-shot migrate job; the command picks the role.
# The hub is not in here: it runs from the official Directus image (see docker-compose.yml).
FROM python:3.11.7-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The review pack's PDF (WeasyPrint) lays text out with Pango; fonts for it to use.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# The lock alone first, so the dependency layer is rebuilt only when the lock changes.
# It pins setuptools too, which the --no-build-isolation install below builds with.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock

COPY pyproject.toml README.md ./
COPY demo/ ./demo/
COPY directus/*.py directus/package.json directus/package-lock.json ./directus/
COPY domain/ ./domain/
COPY governance/ ./governance/
COPY ingest/ ./ingest/
COPY migrations/ ./migrations/
COPY portal/ ./portal/
COPY sync/ ./sync/
COPY tandem/ ./tandem/
RUN pip install --no-cache-dir --no-deps --no-build-isolation . \
    && rm -rf build ./*.egg-info

# The scheduler's lock lives here; a fresh named volume mounted on it inherits this ownership.
RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent tandem \
    && mkdir -p /var/lib/tandem \
    && chown tandem:tandem /var/lib/tandem
USER tandem

EXPOSE 8000
# One process per container, with threads (replicas scale out), idle connections kept 75 s:
# tandem.stack.PORTAL_GUNICORN says why.
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "1", "--threads", "8", "--keep-alive", "75", \
     "--access-logfile", "-", "portal:serve()"]
