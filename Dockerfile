# oic-build: the image of the container action (action.yml: runs.using docker, image Dockerfile).
# The GitHub runner builds this file at the start of every job that uses the action, so the build
# is kept short: Debian's python3, a venv holding the pinned wheels of requirements.lock, and the
# package's source. Stages:
#   runtime-base  debian:trixie-slim + the python3 runtime (shared, so the venv's interpreter is
#                 the very same file in the builder and in the final image)
#   builder       + python3-venv and CA certificates; pip installs the pinned wheels in /opt/venv
#   final         runtime-base + /opt/venv + /app: no pip, no compilers, no apt lists
# No USER: the runner mounts the workspace and $GITHUB_OUTPUT root-owned, and the action must be
# able to write both. No WORKDIR: the runner runs the container with -w /github/workspace.

FROM debian:trixie-slim AS runtime-base
# Debian's current packages of the release: pinned versions would break the build at every
# point release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 \
    && rm -rf /var/lib/apt/lists/*


FROM runtime-base AS builder
# ca-certificates: pip verifies its index's TLS certificate against Debian's CA bundle.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates python3-venv \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, so that a change of the source alone reuses this layer. Wheels only:
# nothing is compiled and no build tools are needed. pip itself is removed afterwards.
COPY requirements.lock /tmp/requirements.lock
RUN python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check --only-binary=:all: \
        -r /tmp/requirements.lock \
    && /opt/venv/bin/pip uninstall -y --disable-pip-version-check pip \
    && rm /tmp/requirements.lock

COPY oicaction /app/oicaction
COPY entrypoint.py /app/entrypoint.py
# Bytecode made here, for this interpreter; any that the build context brought along (act
# ignores .dockerignore) is removed first.
RUN find /app -name __pycache__ -type d -prune -exec rm -rf {} + \
    && /opt/venv/bin/python -m compileall -q /app/oicaction


FROM runtime-base
LABEL org.opencontainers.image.title="oic-build" \
      org.opencontainers.image.description="Build Oracle Integration (OIC) integrations from source control" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app
# Absolute interpreter path, and -E -s (ignore PYTHON* variables and the user site folder): the
# runner passes the job's environment (PATH, HOME, LD_LIBRARY_PATH, possibly PYTHONPATH or
# PYTHONHOME from a setup step on the host) into container actions. -E also drops the two ENV
# settings above, hence -B -u. /app, the script's folder, is what puts oicaction on sys.path.
ENTRYPOINT ["/opt/venv/bin/python", "-E", "-s", "-B", "-u", "/app/entrypoint.py"]
