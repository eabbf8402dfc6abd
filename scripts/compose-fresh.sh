#!/usr/bin/env bash
# The README's docker-compose commands on a fresh clone:  scripts/compose-fresh.sh
#
# Clones the repository's HEAD (committed work only; FRESH_REF names another commit) into a temporary
# directory and runs there, as the README says, with no .env, no certs/, no
# binaries and nothing but Docker, git and the host's Go installation:
#   docker-compose up -d --build              (builds every image; makes certs/)
#   docker cp "$(docker-compose ps -q coordinator)":/tally bin/tally-static
#   docker-compose up -d --scale worker=2     (certs/ kept)
# then checks that the coordinator is healthy with 2 ready workers, that the
# build-only services left no container, that certs/ belongs to the owner of
# the clone (a user other than root when run as root: FRESH_UID) who can use
# the client's key, and that count over the cluster (--server-path, uploaded
# and s3://corpora/) equals embedded mode's answer. It always tears the
# project down and removes its containers, volumes and images (also on
# failure or Ctrl-C), and ends with "compose-fresh: ok" or "compose-fresh:
# FAILED"; without a Docker engine it prints why and exits 0.
#
# Settings (environment): FRESH_PROJECT (tally-fresh), FRESH_PORT (17270 on
# 127.0.0.1; S3 on the next port), FRESH_UID (4242: the clone's owner when run
# as root), FRESH_BUILD_TIMEOUT (1200 s for the first up, a cold build).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

PROJECT=${FRESH_PROJECT:-tally-fresh}
PORT=${FRESH_PORT:-17270}
ADDR=127.0.0.1:$PORT
BUILD_TIMEOUT=${FRESH_BUILD_TIMEOUT:-1200}
# Private image tags and a label on the build stages: what the clean-up removes.
TAG=$PROJECT-$$
T_START=$SECONDS
T_EPOCH=$(date +%s)
# shellcheck source=scripts/compose-lib.sh
. scripts/compose-lib.sh

say() { printf '      %s\n' "$*"; }
FAILED=0
fail() {
	printf '      FAIL: %s\n' "$*"
	FAILED=1
}

if ! docker info >/dev/null 2>&1; then
	echo "compose-fresh: skipped: 'docker info' failed (no reachable Docker engine)"
	exit 0
fi
command -v docker-compose >/dev/null || { echo "compose-fresh: skipped: docker-compose is not installed"; exit 0; }
for tool in git python3 timeout flock setpriv; do
	command -v "$tool" >/dev/null || { echo "compose-fresh: $tool is required" >&2; exit 1; }
done
exec 9>"/tmp/$PROJECT.fresh.lock"
flock -n 9 || { echo "compose-fresh: another run holds /tmp/$PROJECT.fresh.lock" >&2; exit 1; }

# Only what a user's shell would hold: no TALLY_* (they would steer the CLI
# and the compose file), and the settings of this run for the compose file.
while read -r v; do unset "$v"; done < <(compgen -e | grep '^TALLY_' || true)
TMP=$(mktemp -d "/tmp/$PROJECT.XXXXXX")
chmod 755 "$TMP"
CLONE=$TMP/tally
COMPOSE_ENV=(TALLY_PORT="$ADDR" TALLY_S3_PORT="127.0.0.1:$((PORT + 1))" TALLY_TAG="$TAG" TALLY_BUILD_ID="$TAG")
compose() { (cd "$CLONE" && env "${COMPOSE_ENV[@]}" timeout "$1" docker-compose -p "$PROJECT" "${@:2}"); }

cleanup() {
	local rc=$? left
	trap '' INT TERM
	remove_build_leftovers "$TAG" "$T_EPOCH"
	if [[ -f $CLONE/docker-compose.yml ]]; then
		compose 120 down -v --rmi all -t 5 --remove-orphans >"$TMP/down.log" 2>&1 || {
			echo "      docker-compose down failed:"
			sed 's/^/        /' "$TMP/down.log"
		}
	fi
	left=$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT"; docker volume ls -q --filter "label=com.docker.compose.project=$PROJECT";
		docker images -q --filter "label=org.tallyhq.build-id=$TAG"; docker images --format '{{.Repository}}:{{.Tag}}' | grep ":$TAG\$") || true
	[[ -z $left ]] || { echo "      NOTE: left behind: $left"; FAILED=1; }
	rm -rf "$TMP"
	echo "[teardown] done; total $((SECONDS - T_START)) s"
	if ((rc == 0 && FAILED == 0)); then
		echo "compose-fresh: ok"
		exit 0
	fi
	echo "compose-fresh: FAILED"
	exit 1
}
trap cleanup EXIT
trap 'exit 130' INT TERM

COMMIT=$(git -C "$ROOT" rev-parse --verify "${FRESH_REF:-HEAD}^{commit}")
echo "[fresh] git clone $ROOT into $CLONE, at ${FRESH_REF:-HEAD} (${COMMIT:0:7})"
git -c advice.detachedHead=false clone -q --no-hardlinks "$ROOT" "$CLONE"
git -C "$CLONE" -c advice.detachedHead=false checkout -q --detach "$COMMIT"
# The Go installation the images are built with: the README's default
# (/usr/local/go) unless GOROOT or the go command on PATH names another.
if [[ -z ${GOROOT:-} ]] && command -v go >/dev/null; then
	GOROOT=$(go env GOROOT)
	export GOROOT
fi
# A user other than root owns the clone, as on a developer's machine: the
# certs service must give certs/ to that user, not to root.
OWNER=$(id -u)
if ((OWNER == 0)); then
	OWNER=${FRESH_UID:-4242}
	chown -R "$OWNER:$OWNER" "$CLONE"
fi
as_owner() { setpriv --reuid "$OWNER" --regid "$OWNER" --clear-groups "$@"; }

echo "[fresh] docker-compose up -d --build (project $PROJECT, images *:$TAG) ..."
t0=$SECONDS
if ! compose "$BUILD_TIMEOUT" up -d --build >"$TMP/up.log" 2>&1; then
	fail "docker-compose up -d --build (after $((SECONDS - t0)) s):"
	grep -v -e '^ ---> ' -e '^Removing intermediate' "$TMP/up.log" | tail -30 | sed 's/^/        /'
	exit 1
fi
say "built and started in $((SECONDS - t0)) s: $(grep -c '^Successfully tagged' "$TMP/up.log") images built"

mkdir -p "$CLONE/bin"
docker cp "$(compose 30 ps -q coordinator)":/tally "$CLONE/bin/tally-static"
chown "$OWNER:$OWNER" "$CLONE/bin/tally-static"
if ! compose 120 up -d --scale worker=2 >"$TMP/up2.log" 2>&1; then
	fail "docker-compose up -d --scale worker=2:"
	sed 's/^/        /' "$TMP/up2.log"
	exit 1
fi

# The host's CLI as the owner of the clone, with the README's export line.
CLI=(env TALLY_TLS_CA=certs/ca.pem TALLY_TLS_CERT=certs/client.pem TALLY_TLS_KEY=certs/client-key.pem "$CLONE/bin/tally-static")
cli() { (cd "$CLONE" && as_owner timeout 60 "${CLI[@]}" "$@"); }

# ---- state: certs/, services, health ----
read -r owner mode < <(stat -c '%u %a' "$CLONE/certs/client-key.pem") || owner=missing
[[ $owner == "$OWNER" && $mode == 600 ]] && say "certs/client-key.pem: owner $owner, mode $mode" ||
	fail "certs/client-key.pem: owner $owner mode ${mode:-?}, want owner $OWNER mode 600"
grep -q 'kept /certs' <(compose 30 logs --no-color certs) && say "second up: the certs service kept certs/" ||
	fail "the certs service did not keep certs/ on the second up: $(compose 30 logs --no-color certs | tail -3)"
services=$(compose 30 ps --services --filter status=running 2>/dev/null | sort | tr '\n' ' ')
all=$(docker ps -a --filter "label=com.docker.compose.project=$PROJECT" --format '{{.Label "com.docker.compose.service"}}' | sort | uniq -c | awk '{printf "%s=%s ", $2, $1}')
[[ $all == "certs=1 coordinator=1 s3=1 worker=2 " ]] && say "containers: $all(running: $services)" ||
	fail "containers: $all, want certs=1 coordinator=1 s3=1 worker=2 (no cacerts, no go)"
state=$(docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$(compose 30 ps -q certs)")
[[ $state == "exited 0" ]] || fail "the certs service: $state, want exited 0"

deadline=$((SECONDS + 90))
until [[ $(docker inspect -f '{{.State.Health.Status}}' "$(compose 30 ps -q coordinator)") == healthy ]] &&
	cli cluster --json --coordinator "$ADDR" >"$TMP/cluster.json" 2>"$TMP/cluster.err" &&
	[[ $(python3 -c 'import json,sys; print(sum(w.get("state") == "ready" for w in json.load(open(sys.argv[1])).get("workers", [])))' "$TMP/cluster.json") == 2 ]]; do
	if ((SECONDS > deadline)); then
		fail "no healthy coordinator with 2 ready workers after 90 s: $(tail -2 "$TMP/cluster.err")"
		compose 30 logs --no-color --tail=20 coordinator worker | sed 's/^/        /'
		exit 1
	fi
	sleep 1
done
say "coordinator healthy, 2 workers ready $((SECONDS - t0)) s after the first up:"
cli cluster --coordinator "$ADDR" | sed 's/^/        /'

# ---- answers: the cluster against embedded mode ----
cat >"$TMP/same.py" <<'EOF'
import json, sys
volatile = {"job", "workers", "elapsed_seconds"}  # differ between runs
a, b = ({k: v for k, v in json.load(open(p)).items() if k not in volatile} for p in sys.argv[1:3])
if a != b:
    sys.exit(f"got {json.dumps(b)[:300]}, want {json.dumps(a)[:300]}")
print(f"{len(a.get('documents', []))} documents, counts {a['total'].get('counts')}")
EOF
QUERY=(count --json -e the -e Alice -e sand -e Holmes)
same() { # WHAT WANT GOT
	local out
	if out=$(python3 "$TMP/same.py" "$2" "$3" 2>&1); then say "$1: equal to embedded mode ($out)"; else fail "$1: $out"; fi
}
(cd "$CLONE/testdata/text" && as_owner timeout 60 "$CLONE/bin/tally-static" "${QUERY[@]}" .) >"$TMP/ref.json" || fail "embedded count"
(cd "$CLONE" && cli "${QUERY[@]}" --coordinator "$ADDR" --server-path .) >"$TMP/server.json" || fail "count --server-path ."
same "count --server-path ." "$TMP/ref.json" "$TMP/server.json"
(cd "$CLONE/testdata/text" && as_owner timeout 60 env TALLY_TLS_CA=../../certs/ca.pem TALLY_TLS_CERT=../../certs/client.pem \
	TALLY_TLS_KEY=../../certs/client-key.pem "$CLONE/bin/tally-static" "${QUERY[@]}" --coordinator "$ADDR" .) >"$TMP/upload.json" || fail "count, uploaded"
same "count, uploaded" "$TMP/ref.json" "$TMP/upload.json"
# The S3 service with the compose file's default keys (no .env on a fresh clone).
S3=(AWS_ACCESS_KEY_ID=tally-dev AWS_SECRET_ACCESS_KEY=tally-dev-secret AWS_ENDPOINT_URL="http://127.0.0.1:$((PORT + 1))" TALLY_S3_PATH_STYLE=true)
(cd "$CLONE" && as_owner timeout 60 env "${S3[@]}" bin/tally-static "${QUERY[@]}" s3://corpora/) >"$TMP/s3ref.json" || fail "embedded count of s3://corpora/"
(cd "$CLONE" && cli "${QUERY[@]}" --coordinator "$ADDR" s3://corpora/) >"$TMP/s3.json" || fail "count s3://corpora/"
same "count s3://corpora/ (embedded mode reads it from the host)" "$TMP/s3ref.json" "$TMP/s3.json"
exit "$FAILED"
