# Stand-in for the GitHub-hosted runner's job container when act runs tests/workflows/*.yml on a
# machine that reaches no Docker registry (act -P ubuntu-latest=oic-build/act-runner:local).
# It holds only what the workflows' run: steps use: bash, coreutils, python3 (to check JSON
# outputs and zip files), git, CA certificates, and the docker command, which a hosted runner
# has and action.yml's first step uses to find the prebuilt image (tests/test_container_act.py
# mounts the engine's socket). No Node.js: the workflows use no JavaScript actions. Built by
# .ci/base-image.sh; not shipped.
ARG BASE_IMAGE=debian:trixie-slim
FROM ${BASE_IMAGE}

# Debian's own versions of the day: pinning them would break the build at every point release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends bash ca-certificates coreutils docker-cli git \
        python3 \
    && rm -rf /var/lib/apt/lists/*

CMD ["bash"]
