# Multi-stage image of the portal. Entry points are bin/portal (web, worker, beat, release): the
# same script `make run`, the Procfile and CI start, so what CI proves is what the image runs.

# --- build: wheels for every pinned requirement ----------------------------------------------
FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt /src/requirements.txt
RUN python -m venv /venv && /venv/bin/pip install -r /src/requirements.txt

# --- runtime: no compilers, non-root ---------------------------------------------------------
FROM python:3.11-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/venv/bin:$PATH \
    PYTHON=/venv/bin/python PORT=8000 PORTAL_RUN_DIR=/tmp/portal
RUN apt-get update && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system portal && useradd --system --gid portal --home /app portal
COPY --from=build /venv /venv
WORKDIR /app
COPY --chown=portal:portal . /app
# collectstatic needs settings, not secrets: build-time placeholders, never used at run time.
RUN DEBUG=true SECRET_KEY=build-only python manage.py collectstatic --noinput -v 0 \
    && rm -rf .run .venv tests bench
USER portal
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD curl -fsS -H "X-Forwarded-Proto: https" "http://127.0.0.1:${PORT}/healthz" || exit 1
ENTRYPOINT ["bin/portal"]
CMD ["web"]
