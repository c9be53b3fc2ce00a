#!/usr/bin/env bash
# Make a Docker engine and the images the container tests need, on a machine that reaches no
# Docker registry (only Debian's package archive and PyPI). Idempotent: each step is skipped
# when its result is already there.
#
#   1. docker.io and debootstrap from Debian, when missing;
#   2. dockerd started in the background, when `docker info` fails;
#   3. debian:trixie-slim, when absent: a stand-in built with debootstrap (minbase), trimmed the
#      way the official slim image is, carrying this host's CA certificates so that TLS through
#      this network's egress proxy works inside image builds;
#   4. the act job-container stand-in (tests/container/act-runner.Dockerfile), always rebuilt
#      (Docker's layer cache makes that a no-op when nothing changed).
#
# Settings (environment): OIC_BASE_IMAGE (debian:trixie-slim), OIC_RUNNER_IMAGE
# (oic-build/act-runner:local), OIC_DEBIAN_MIRROR / OIC_DEBIAN_SECURITY_MIRROR (default: what
# this host's apt uses), OIC_CI_STATE (/var/tmp/oic-build-ci: dockerd log),
# OIC_DOCKERD_TIMEOUT (90 seconds).
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BASE_IMAGE=${OIC_BASE_IMAGE:-debian:trixie-slim}
RUNNER_IMAGE=${OIC_RUNNER_IMAGE:-oic-build/act-runner:local}
SUITE=trixie
STATE_DIR=${OIC_CI_STATE:-/var/tmp/oic-build-ci}
DOCKERD_LOG=$STATE_DIR/dockerd.log
DOCKERD_TIMEOUT=${OIC_DOCKERD_TIMEOUT:-90}

die() { echo "base-image.sh: FAILED: $*" >&2; exit 1; }
say() { echo "base-image.sh: $*"; }
elapsed() { echo "$(( $(date +%s) - $1 ))s"; }

mkdir -p "$STATE_DIR" || die "cannot create state folder $STATE_DIR"

# First Debian archive URI this host's apt uses (deb822 .sources, then one-line .list files),
# else Debian's CDN. $1 is the path suffix: /debian or /debian-security.
host_mirror() {
    local suffix=$1 uri=""
    uri=$( (grep -hsE '^[[:space:]]*URIs:' /etc/apt/sources.list.d/*.sources || true) \
        | awk '{for (i = 2; i <= NF; i++) print $i}' | grep -E "${suffix}/?\$" | head -n1 || true)
    if [ -z "$uri" ]; then
        uri=$( (grep -hsE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list \
            /etc/apt/sources.list.d/*.list || true) | sed -E 's/\[[^]]*\]//' \
            | awk '{print $2}' | grep -E "${suffix}/?\$" | head -n1 || true)
    fi
    echo "${uri:-http://deb.debian.org${suffix}}" | sed -E 's#/$##'
}

# --- 1. packages -----------------------------------------------------------------------------
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
    t=$(date +%s)
    say "installing ${need[*]} from Debian"
    [ "$(id -u)" = 0 ] || die "installing ${need[*]} needs root"
    apt-get update -qq >"$STATE_DIR/apt.log" 2>&1 \
        || { tail -n 20 "$STATE_DIR/apt.log" >&2; die "apt-get update failed"; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >>"$STATE_DIR/apt.log" 2>&1 \
        || { tail -n 20 "$STATE_DIR/apt.log" >&2; die "apt-get install ${need[*]} failed"; }
    say "installed ${need[*]} in $(elapsed "$t")"
fi
command -v docker >/dev/null 2>&1 || die "no docker client on PATH after installing docker.io"

# --- 2. engine -------------------------------------------------------------------------------
# Is $1 the pid of a live (not zombie) dockerd?
live_dockerd() {
    [ -n "$1" ] && [ -r "/proc/$1/comm" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = dockerd ] \
        && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}
if ! docker info >/dev/null 2>&1; then
    t=$(date +%s)
    [ "$(id -u)" = 0 ] || die "docker info fails and starting dockerd needs root"
    old_pid=$(cat /var/run/docker.pid 2>/dev/null || true)
    started=""
    if live_dockerd "$old_pid"; then
        say "dockerd (pid $old_pid) is running but not answering yet; waiting for it"
    else
        # A pid file left by a dockerd that died stops a new one from starting.
        rm -f /var/run/docker.pid
        say "starting dockerd (log: $DOCKERD_LOG)"
        setsid nohup dockerd >"$DOCKERD_LOG" 2>&1 </dev/null &
        started=$!
    fi
    for _ in $(seq 1 "$DOCKERD_TIMEOUT"); do
        docker info >/dev/null 2>&1 && break
        if [ -n "$started" ] && ! kill -0 "$started" 2>/dev/null; then
            break   # it exited: no point waiting
        fi
        sleep 1
    done
    if ! docker info >/dev/null 2>&1; then
        echo "---- last lines of $DOCKERD_LOG ----" >&2
        tail -n 30 "$DOCKERD_LOG" >&2 || true
        if [ -n "$started" ] && ! kill -0 "$started" 2>/dev/null; then
            die "dockerd exited at start (see its log above)"
        fi
        die "Docker engine did not answer within ${DOCKERD_TIMEOUT}s (see the dockerd log above)"
    fi
    say "dockerd up in $(elapsed "$t")"
fi
say "Docker engine $(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?')"

# --- 3. base image ---------------------------------------------------------------------------
if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    say "$BASE_IMAGE present"
else
    t=$(date +%s)
    [ "$(id -u)" = 0 ] || die "debootstrap needs root"
    mirror=${OIC_DEBIAN_MIRROR:-$(host_mirror /debian)}
    security=${OIC_DEBIAN_SECURITY_MIRROR:-$(host_mirror /debian-security)}
    rootfs=$(mktemp -d /var/tmp/oic-rootfs.XXXXXX) || die "mktemp failed"
    trap 'rm -rf --one-file-system "$rootfs"' EXIT
    say "building stand-in $BASE_IMAGE: debootstrap --variant=minbase $SUITE from $mirror"
    debootstrap --variant=minbase "$SUITE" "$rootfs" "$mirror" >"$STATE_DIR/debootstrap.log" 2>&1 \
        || { tail -n 20 "$STATE_DIR/debootstrap.log" >&2; \
             die "debootstrap $SUITE from $mirror failed (full log: $STATE_DIR/debootstrap.log)"; }

    # Same apt sources as the official image (deb822, with updates and security).
    rm -f "$rootfs/etc/apt/sources.list"
    cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    # The official slim image's trimming: no docs, man pages or translations, no kept .debs.
    mkdir -p "$rootfs/etc/dpkg/dpkg.cfg.d" "$rootfs/etc/apt/apt.conf.d"
    cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
    cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
    echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
    find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
    find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
    rm -rf "$rootfs"/usr/share/{info,linda,locale,man}/* "$rootfs"/var/lib/apt/lists/* \
        "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin \
        "$rootfs"/var/log/{dpkg.log,bootstrap.log,alternatives.log,apt/*}
    # No host specifics: Docker provides resolv.conf, hosts and hostname at run time.
    : >"$rootfs/etc/resolv.conf"
    printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$rootfs/etc/hosts"

    # This host's CA bundle (it trusts the network's TLS egress proxy), and its local CAs where
    # update-ca-certificates will keep them when an image build installs ca-certificates.
    [ -s /etc/ssl/certs/ca-certificates.crt ] \
        || die "host CA bundle /etc/ssl/certs/ca-certificates.crt is missing"
    mkdir -p "$rootfs/etc/ssl/certs" "$rootfs/usr/local/share/ca-certificates"
    cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
    if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
        cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
    fi

    tar -C "$rootfs" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' \
        -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' \
        --message "stand-in for $BASE_IMAGE: debootstrap minbase $SUITE" \
        - "$BASE_IMAGE" >/dev/null \
        || die "docker import of the $SUITE root filesystem as $BASE_IMAGE failed"
    rm -rf --one-file-system "$rootfs"
    trap - EXIT
    say "built $BASE_IMAGE ($(docker image inspect -f '{{.Size}}' "$BASE_IMAGE" \
        | awk '{printf "%.1f MB", $1 / 1e6}')) in $(elapsed "$t")"
fi

# --- 4. act job container --------------------------------------------------------------------
t=$(date +%s)
docker build --network host -q -t "$RUNNER_IMAGE" --build-arg "BASE_IMAGE=$BASE_IMAGE" \
    - <"$REPO_ROOT/tests/container/act-runner.Dockerfile" >"$STATE_DIR/runner-build.log" 2>&1 \
    || { tail -n 20 "$STATE_DIR/runner-build.log" >&2; die "building $RUNNER_IMAGE failed"; }
say "$RUNNER_IMAGE ready in $(elapsed "$t")"
