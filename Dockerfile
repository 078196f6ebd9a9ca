# One image for every JoinedUp process: `serve` (the default), `worker`, `scheduler`, and
# any other `joinedup` command (migrate, backup, restore…), named as the container's command.

FROM node:22-bookworm-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.13-slim-bookworm
# Pango draws the PDFs, gettext compiles the Welsh catalogue, and the PostgreSQL client
# tools back up and restore. Debian's security updates are taken as they come.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 gettext postgresql-client \
    && rm -rf /var/lib/apt/lists/*
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DEBUG=0 \
    JOINEDUP_VAR_DIR=/var/lib/joinedup \
    STATIC_ROOT=/app/static \
    BIND=0.0.0.0:8000
WORKDIR /app
COPY pyproject.toml README.md ./
COPY joinedup ./joinedup
COPY --from=assets /app/node_modules ./node_modules
RUN pip install --no-cache-dir --editable . \
    && msgfmt --check-format -o joinedup/locale/cy/LC_MESSAGES/django.mo \
        joinedup/locale/cy/LC_MESSAGES/django.po \
    && SECRET_KEY=only-for-collecting-static-files AUDIT_CHAIN_KEY=unused \
        joinedup collectstatic --noinput --verbosity 0 \
    && useradd --system --uid 10001 --home-dir /var/lib/joinedup joinedup \
    && chown -R 10001 /var/lib/joinedup
# Documents, exports and extracts live in /var/lib/joinedup: mount a volume there.
USER 10001
EXPOSE 8000
ENTRYPOINT ["joinedup"]
CMD ["serve"]
