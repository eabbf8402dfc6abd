#!/usr/bin/env bash
# End-to-end test of the docker-compose cluster:  scripts/e2e-compose.sh
#
# Builds and starts docker-compose.yml (docker-compose up --build, as the README
# says, but with private image tags, project name and host port; the certs
# service makes the cluster's certificates into a private directory), and
# checks with the CLI copied out of the image that every answer equals
# embedded mode's (the reference) while workers join, die and are cut off
# mid-job:
#   step 0  build, up with 3 workers, wait for 3 ready workers
#   step 1  count (token, several targets), count (word -i) and top, uploaded and
#           --server-path, each equal to embedded mode
#   step 2  scale 3 -> 5 during a long throttled job: exact, new workers counted chunks
#   step 3  docker kill a worker holding chunks mid-job: exact; it restarts and rejoins
#   step 4  docker network disconnect a worker mid-job: exact, the coordinator drops it;
#           reconnect: it is ready again within the deadline
#   step 5  S3: a long job over the s3 service's corpora bucket, read by the workers
#           themselves, while the cluster scales 1 -> 3 -> 5: exact, equal to the
#           embedded mode reading the same bucket from the host
#   step 6  scripts/compose-fresh.sh: the README's commands on a fresh clone (while
#           this run's images are there, its build is mostly cached)
# It always tears the project down (also on failure or Ctrl-C) and ends with the
# line "e2e-compose: N passed, M failed"; the exit status is 1 if a step failed.
# Without a Docker engine it prints why and exits 0.
#
# Settings (environment): E2E_PROJECT (tally-e2e), E2E_PORT (17070, on 127.0.0.1;
# the S3 service is published on the next port), E2E_BUILD_TIMEOUT (1200 s for
# the build and first up),
# E2E_THROTTLE (2MB: bytes/s per worker thread), E2E_LONG_MB (150: size of the
# long jobs of steps 2-4, made by counting the data directory several times),
# E2E_REF (unset: build the working tree; a git ref, e.g. HEAD: build that
# commit's tree, with its Dockerfile and compose file, via git archive — for a
# working tree that others are editing; step 6 clones that commit).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

PROJECT=${E2E_PROJECT:-tally-e2e}
PORT=${E2E_PORT:-17070}
THROTTLE=${E2E_THROTTLE:-2MB}
LONG_MB=${E2E_LONG_MB:-150}
ADDR=127.0.0.1:$PORT
S3_ADDR=127.0.0.1:$((PORT + 1))
BUILD_TIMEOUT=${E2E_BUILD_TIMEOUT:-1200}
# Private image tags (tally:$TAG, ...): a concurrent scripts/up.sh retagging
# tally:latest cannot change the image of the workers this script starts
# (scaling creates new ones). The build stages are labelled with it too.
TAG=$PROJECT
# The S3 service's keys for this run; the host reads the bucket with them too.
S3_KEY=e2e$RANDOM$RANDOM
S3_SECRET=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')

# The CLI reads every flag from TALLY_* variables (TALLY_COORDINATOR would turn
# the embedded reference into a cluster run): start from none of them.
while read -r v; do unset "$v"; done < <(compgen -e | grep '^TALLY_' || true)

T_START=${EPOCHREALTIME//[.,]/}
T_EPOCH=$(date +%s)
# shellcheck source=scripts/compose-lib.sh
. scripts/compose-lib.sh
now_us() { echo "${EPOCHREALTIME//[.,]/}"; }
# secs_since T0_US: seconds since T0_US with one decimal.
secs_since() {
	local d=$(($(now_us) - $1))
	printf '%d.%d' $((d / 1000000)) $((d % 1000000 / 100000))
}
# tmo SECONDS COMMAND...: a time limit that leaves COMMAND in the foreground
# process group, so that Ctrl-C reaches it (and our trap runs) at once.
tmo() { timeout --foreground "$@"; }
say() { printf '      %s\n' "$*"; }
fail() { printf '      FAIL: %s\n' "$*"; }

# ---- preconditions: skip without Docker ---------------------------------------
if ! docker info >/dev/null 2>&1; then
	echo "e2e-compose: skipped: 'docker info' failed (no reachable Docker engine)"
	exit 0
fi
if command -v docker-compose >/dev/null; then
	COMPOSE=(docker-compose)
elif docker compose version >/dev/null 2>&1; then
	COMPOSE=(docker compose)
else
	echo "e2e-compose: skipped: neither docker-compose nor 'docker compose' is installed"
	exit 0
fi
for tool in git python3 timeout flock; do
	command -v "$tool" >/dev/null || { echo "e2e-compose: $tool is required" >&2; exit 1; }
done

# One run per project name at a time: two runs would tear down each other's cluster.
exec 9>"/tmp/$PROJECT.e2e.lock"
flock -n 9 || { echo "e2e-compose: another run holds /tmp/$PROJECT.e2e.lock (project $PROJECT)" >&2; exit 1; }

# ---- data: the corpora if present, else testdata/text ----------------------------
if [[ -d $ROOT/../shared/corpora ]]; then
	DATA=$(cd "$ROOT/../shared/corpora" && pwd)
else
	DATA=$ROOT/testdata/text
fi
mapfile -t FILES < <(cd "$DATA" && find . -maxdepth 1 -type f -name '*.txt' -printf '%P\n' | LC_ALL=C sort)
((${#FILES[@]} > 0)) || { echo "e2e-compose: no *.txt files in $DATA" >&2; exit 1; }
DATA_BYTES=$(find "$DATA" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
# The long jobs count the whole data directory (--server-path .) REPEAT times.
REPEAT=$(((LONG_MB * 1000000 + DATA_BYTES - 1) / DATA_BYTES))
((REPEAT >= 1)) || REPEAT=1
LONG_PATHS=()
for ((i = 0; i < REPEAT; i++)); do LONG_PATHS+=(--server-path .); done
LONG_QUERY=(-e the -e Holmes -e whale -e Alice -e love)

PASSED=0
FAILED=0
ABORTED=""
INTERRUPTED=0
CURRENT=""   # the running step, for the report of an interrupt
CURRENT_T0=0
BG_PIDS=()
NET=""
PARTITIONED="" # a container step 4 disconnected and has not reconnected yet
FIRST_SET=()
TMP=$(mktemp -d "/tmp/$PROJECT.XXXXXX")
trap cleanup EXIT
trap 'INTERRUPTED=1; exit 130' INT TERM
BIN=$TMP/bin/tally-static # the CLI, copied out of the image
PY=$TMP/e2e.py
SRC=$ROOT # the tree built and whose Dockerfile and compose file are used
if [[ -n ${E2E_REF:-} ]]; then
	SRC=$TMP/src
	mkdir -p "$SRC"
	git -C "$ROOT" archive --format=tar "$E2E_REF" | tar -x -C "$SRC" || {
		echo "e2e-compose: cannot export $E2E_REF" >&2
		exit 1
	}
fi

# ---- JSON helpers (python3: jq is not guaranteed) ------------------------------
cat >"$PY" <<'EOF'
import json, sys

VOLATILE = {"job", "workers", "elapsed_seconds"}  # differ between runs

def load(path):
    with open(path) as f:
        return json.load(f)

def compare(want, got):
    """Equal apart from VOLATILE: exit 0; else print up to 10 differences, exit 1."""
    a = {k: v for k, v in load(want).items() if k not in VOLATILE}
    b = {k: v for k, v in load(got).items() if k not in VOLATILE}
    if a == b:
        return 0
    diffs = []
    def walk(x, y, path):
        if len(diffs) >= 10:
            return
        if isinstance(x, dict) and isinstance(y, dict):
            for k in sorted(set(x) | set(y), key=str):
                if k not in y:
                    diffs.append(f"{path}.{k}: missing (want {x[k]!r})")
                elif k not in x:
                    diffs.append(f"{path}.{k}: unexpected {y[k]!r}")
                else:
                    walk(x[k], y[k], f"{path}.{k}")
        elif isinstance(x, list) and isinstance(y, list):
            if len(x) != len(y):
                diffs.append(f"{path}: {len(y)} entries, want {len(x)}")
            for i, (p, q) in enumerate(zip(x, y)):
                label = f"[{i}]"
                if isinstance(p, dict) and "name" in p:
                    label = f"[{i}]({p['name']})"
                walk(p, q, path + label)
        elif x != y:
            diffs.append(f"{path}: got {y!r}, want {x!r}")
    walk(a, b, "")
    print("\n".join(diffs[:10]))
    return 1

def table(path):
    """One line per worker: name state in_flight chunks_done address."""
    for w in load(path).get("workers", []):
        print(w.get("name", "?"), w.get("state", "?"), int(w.get("in_flight", 0)),
              int(w.get("chunks_done", 0)), w.get("address", "?"))

def summary(path):
    """documents, total bytes and the JSON workers field of a job's answer."""
    d = load(path)
    print(f"{len(d.get('documents', []))} documents, {d['total']['bytes'] / 1e6:.1f} MB, workers={d.get('workers')}")

cmd = sys.argv[1]
if cmd == "compare":
    sys.exit(compare(sys.argv[2], sys.argv[3]))
elif cmd == "table":
    table(sys.argv[2])
elif cmd == "summary":
    summary(sys.argv[2])
else:
    sys.exit(f"unknown command {cmd}")
EOF

# ---- cluster helpers --------------------------------------------------------------
# The Go installation the images are built with (the compose file's default
# is /usr/local/go).
if [[ -z ${GOROOT:-} ]] && command -v go >/dev/null; then
	GOROOT=$(go env GOROOT)
	export GOROOT
fi
# compose [--timeout S] ARGS...: docker-compose on this run's project (180 s by default).
compose() {
	local limit=180
	if [[ $1 == --timeout ]]; then
		limit=$2
		shift 2
	fi
	# Variables for the compose file only, not for the CLI. PWD: the
	# build-only services find their Dockerfiles through it.
	TALLY_PORT=$ADDR TALLY_S3_PORT=$S3_ADDR TALLY_CORPORA=$DATA TALLY_S3_ACCESS_KEY=$S3_KEY TALLY_S3_SECRET_KEY=$S3_SECRET \
		TALLY_CERTS=$TMP/certs TALLY_TAG=$TAG TALLY_BUILD_ID=$TAG PWD=$SRC \
		tmo "$limit" "${COMPOSE[@]}" -p "$PROJECT" -f "$SRC/docker-compose.yml" -f "$TMP/override.yml" "$@"
}

# cluster_table: the workers as the coordinator lists them (see table in e2e.py).
cluster_table() {
	tmo 10 "$BIN" cluster --json --coordinator "$ADDR" >"$TMP/cluster.json" 2>"$TMP/cluster.err" &&
		python3 "$PY" table "$TMP/cluster.json"
}

# ready_names: names of the workers in state ready.
ready_names() { cluster_table | awk '$2 == "ready" {print $1}'; }

# wait_ready N DEADLINE_S: until exactly N workers are listed, all ready.
wait_ready() {
	local want=$1 t0 n all
	t0=$(now_us)
	while :; do
		n=$(ready_names 2>/dev/null | wc -l) || n=0
		# Workers scaled away are listed (not ready) until memberlist drops
		# them; their chunks would count in a step's baseline and vanish.
		all=$(cluster_table 2>/dev/null | wc -l) || all=0
		((n == want && all == want)) && return 0
		if (($(now_us) - t0 > $2 * 1000000)); then
			fail "$n ready workers after $2 s, want $want:"
			cluster_table 2>&1 | sed 's/^/        /' || cat "$TMP/cluster.err"
			return 1
		fi
		sleep 0.5
	done
}

# worker_state NAME: the state of worker NAME, or "absent".
worker_state() {
	local s
	s=$(cluster_table 2>/dev/null | awk -v n="$1" '$1 == n {print $2}') || true
	echo "${s:-absent}"
}

# container_of NAME: the container (running or not) of worker NAME, whose
# default name is worker-HOSTNAME-PORT and whose hostname is the container's.
container_of() {
	local id host
	for id in $(docker ps -aq --no-trunc --filter "label=com.docker.compose.project=$PROJECT" \
		--filter "label=com.docker.compose.service=worker"); do
		host=$(docker inspect -f '{{.Config.Hostname}}' "$id")
		if [[ $1 == *"-$host-"* ]]; then
			echo "$id"
			return 0
		fi
	done
	return 1
}

container_ip() { docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$1" | awk '{print $1}'; }

# busiest_worker: the ready worker holding the most chunks, if it holds any.
busiest_worker() { cluster_table | awk '$2 == "ready" && $3 > 0' | sort -k3,3nr | awk 'NR == 1 {print $1}'; }

# chunks_total: chunks done by all workers listed.
chunks_total() { cluster_table | awk '{s += $4} END {print s + 0}'; }

# start_long_job NAME: the long throttled count, in the background, answer in $TMP/NAME.json.
LONG_PID=""
start_long_job() {
	(cd "$DATA" && exec timeout 180 "$BIN" count --json --coordinator "$ADDR" "${LONG_QUERY[@]}" "${LONG_PATHS[@]}") \
		>"$TMP/$1.json" 2>"$TMP/$1.err" &
	LONG_PID=$!
	BG_PIDS+=("$LONG_PID")
}

# wait_mid_job NAME BASE DEADLINE_S: until the long job NAME has had at least 8
# more chunks merged than BASE and workers hold chunks, i.e. it is well under way.
wait_mid_job() {
	local base=$2 t0 done inflight
	t0=$(now_us)
	while :; do
		if ! kill -0 "$LONG_PID" 2>/dev/null; then
			fail "the long job ended before it was under way (too short: raise E2E_LONG_MB or lower E2E_THROTTLE) $(tail -3 "$TMP/$1.err")"
			return 1
		fi
		done=$(chunks_total 2>/dev/null) || done=0
		inflight=$(cluster_table 2>/dev/null | awk '{s += $3} END {print s + 0}') || inflight=0
		((done - base >= 8 && inflight > 0)) && return 0
		if (($(now_us) - t0 > $3 * 1000000)); then
			fail "the long job was not under way after $3 s ($((done - base)) chunks done, $inflight in flight)"
			return 1
		fi
		sleep 0.3
	done
}

# finish_long_job NAME T0: waits for the long job and checks its answer.
finish_long_job() {
	local rc=0
	wait "$LONG_PID" || rc=$?
	if ((rc != 0)); then
		fail "long job exited $rc after $(secs_since "$2") s: $(tail -3 "$TMP/$1.err")"
		return 1
	fi
	check_equal "$TMP/long-ref.json" "$TMP/$1.json" "long job ($(python3 "$PY" summary "$TMP/$1.json"), $(secs_since "$2") s since start)"
}

# long_reference: embedded mode's answer to the long job, computed once.
long_reference() {
	[[ -s $TMP/long-ref.json ]] && return 0
	(cd "$DATA" && tmo 180 "$BIN" count --json "${LONG_QUERY[@]}" "${LONG_PATHS[@]}") >"$TMP/long-ref.json" 2>"$TMP/long-ref.err" || {
		fail "embedded reference of the long job failed: $(tail -3 "$TMP/long-ref.err")"
		rm -f "$TMP/long-ref.json"
		return 1
	}
}

# check_equal WANT GOT WHAT: the answers agree apart from job, workers and elapsed_seconds.
check_equal() {
	local out
	if out=$(python3 "$PY" compare "$1" "$2" 2>&1); then
		say "$3: exact"
		return 0
	fi
	fail "$3 differs from embedded mode:"
	printf '%s\n' "$out" | sed 's/^/        /'
	return 1
}

dump_logs() {
	echo "      ---- the coordinator's jobs (tally jobs list) ----"
	tmo 10 "$BIN" jobs list --coordinator "$ADDR" 2>&1 | sed 's/^/      | /' || true
	echo "      ---- last 50 log lines of the coordinator and of each worker ----"
	compose logs --no-color --tail=50 coordinator worker 2>&1 | sed 's/^/      | /' || true
}

# ---- steps ----------------------------------------------------------------------
step0() {
	local t0 out
	cat >"$TMP/override.yml" <<-EOF
		# Written by scripts/e2e-compose.sh: throttled workers.
		version: "2.4"
		services:
		  worker:
		    environment:
		      TALLY_THROTTLE: "$THROTTLE"
	EOF
	compose down -v -t 5 --remove-orphans >"$TMP/compose-down0.log" 2>&1 || true # leftovers of an aborted run
	t0=$(now_us)
	# As the README says; the certs service makes $TMP/certs.
	if ! compose --timeout "$BUILD_TIMEOUT" up -d --build --scale worker=3 >"$TMP/compose-up.log" 2>&1; then
		fail "docker-compose up -d --build:"
		grep -v -e '^ ---> ' -e '^Removing intermediate' "$TMP/compose-up.log" | tail -40 | sed 's/^/        /'
		return 1
	fi
	say "built $SRC${E2E_REF:+ ($E2E_REF = $(git -C "$ROOT" rev-parse --short "$E2E_REF"))} into tally:$TAG and started it in $(secs_since "$t0") s ($(grep -c '^Successfully tagged' "$TMP/compose-up.log") images built)"
	# The host's CLI: the image's own binary, with the client's certificate.
	mkdir -p "$TMP/bin"
	if ! out=$(docker cp "$(compose ps -q coordinator)":/tally "$BIN" 2>&1); then
		fail "docker cp the CLI out of the coordinator: $out"
		return 1
	fi
	export TALLY_TLS_CA=$TMP/certs/ca.pem TALLY_TLS_CERT=$TMP/certs/client.pem TALLY_TLS_KEY=$TMP/certs/client-key.pem
	NET=$(docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$(compose ps -q coordinator)" | awk '{print $1}')
	wait_ready 3 60 || return 1
	mapfile -t FIRST_SET < <(ready_names)
	say "3 workers ready $(secs_since "$t0") s after up (network $NET, coordinator on $ADDR, /data = $DATA):"
	cluster_table | sed 's/^/        /'
}

step1() {
	local ok=0 kind how args t0 s rc
	local -a count_token=(count --json -e the -e The -e Alice -e Holmes -e whale -e God -e Mr. -e naïve)
	local -a count_word=(count --json --mode word -i -e the -e alice -e holmes -e whale -e god -e mr -e naïve)
	local -a top=(top -n 20 --json)
	local -a server=()
	for s in "${FILES[@]}"; do server+=(--server-path "$s"); done
	say "${#FILES[@]} files of $DATA ($((DATA_BYTES / 1000000)) MB)"
	for kind in count_token count_word top; do
		local -n cmd=$kind
		# The reference: embedded mode, run in the data directory so that
		# document names are the same relative paths as with --server-path.
		if ! (cd "$DATA" && tmo 120 "$BIN" "${cmd[@]}" "${FILES[@]}") >"$TMP/$kind.ref.json" 2>"$TMP/$kind.ref.err"; then
			fail "$kind, embedded: $(tail -3 "$TMP/$kind.ref.err")"
			ok=1
			continue
		fi
		for how in uploaded server-path; do
			if [[ $how == uploaded ]]; then
				# A smaller chunk size than the reference's: it must not change the answer.
				args=(--chunk-size 256KiB "${FILES[@]}")
			else
				args=("${server[@]}")
			fi
			t0=$(now_us)
			rc=0
			(cd "$DATA" && tmo 120 "$BIN" "${cmd[@]}" --coordinator "$ADDR" "${args[@]}") >"$TMP/$kind.$how.json" 2>"$TMP/$kind.$how.err" || rc=$?
			if ((rc != 0)); then
				fail "$kind, $how: exit $rc after $(secs_since "$t0") s: $(tail -3 "$TMP/$kind.$how.err")"
				ok=1
				continue
			fi
			check_equal "$TMP/$kind.ref.json" "$TMP/$kind.$how.json" \
				"${kind/_/ }, $how ($(python3 "$PY" summary "$TMP/$kind.$how.json"), $(secs_since "$t0") s)" || ok=1
		done
		unset -n cmd
	done
	# The image's HEALTHCHECK (tally health on $TALLY_LISTEN) must pass in every
	# tally container (the S3 service's image has none).
	local id st bad=""
	for id in $(compose ps -q coordinator worker); do
		st=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$id")
		[[ $st == healthy || $st == starting ]] || bad+=" $(docker inspect -f '{{.Name}}' "$id")=$st"
	done
	if [[ -n $bad ]]; then
		fail "container health:$bad"
		ok=1
	else
		say "container health checks: healthy (or still starting)"
	fi
	return $ok
}

step2() {
	local t0 base w n new=() ok=0 tup
	long_reference || return 1
	base=$(chunks_total) || { fail "tally cluster: $(cat "$TMP/cluster.err")"; return 1; }
	t0=$(now_us)
	start_long_job step2
	wait_mid_job step2 "$base" 30 || return 1
	say "long job ($((REPEAT * DATA_BYTES / 1000000)) MB, throttle $THROTTLE per thread) under way after $(secs_since "$t0") s; scaling to 5"
	tup=$(now_us)
	if ! compose up -d --no-recreate --scale worker=5 >"$TMP/compose-scale.log" 2>&1; then
		fail "docker-compose up --scale worker=5:"
		sed 's/^/        /' "$TMP/compose-scale.log"
		return 1
	fi
	wait_ready 5 60 || return 1
	if kill -0 "$LONG_PID" 2>/dev/null; then
		say "5 workers ready $(secs_since "$tup") s after the scale command; the job is still running"
	else
		fail "the long job ended before the new workers were ready: raise E2E_LONG_MB or lower E2E_THROTTLE"
		ok=1
	fi
	finish_long_job step2 "$t0" || ok=1
	for w in $(ready_names); do
		[[ " ${FIRST_SET[*]} " == *" $w "* ]] || new+=("$w")
	done
	if ((${#new[@]} != 2)); then
		fail "want 2 new workers, found ${#new[@]}: ${new[*]}"
		return 1
	fi
	for w in "${new[@]}"; do
		n=$(cluster_table | awk -v n="$w" '$1 == n {print $4}')
		if ((${n:-0} > 0)); then
			say "new worker $w: chunksDone=$n"
		else
			fail "new worker $w counted no chunk (chunksDone=${n:-?})"
			ok=1
		fi
	done
	return $ok
}

step3() {
	local t0 base victim cid held ok=0 tk st
	long_reference || return 1
	base=$(chunks_total) || { fail "tally cluster: $(cat "$TMP/cluster.err")"; return 1; }
	t0=$(now_us)
	start_long_job step3
	wait_mid_job step3 "$base" 30 || return 1
	victim=$(busiest_worker) || true
	[[ -n $victim ]] || { fail "no worker holds a chunk"; return 1; }
	cid=$(container_of "$victim") || { fail "no container for worker $victim"; return 1; }
	held=$(cluster_table | awk -v n="$victim" '$1 == n {print $3}')
	docker kill "$cid" >/dev/null || { fail "docker kill $cid"; return 1; }
	tk=$(now_us)
	say "killed $victim (container ${cid:0:12}, holding ${held:-?} chunks) $(secs_since "$t0") s into the job"
	kill -0 "$LONG_PID" 2>/dev/null || { fail "the long job ended before the kill took effect"; ok=1; }
	finish_long_job step3 "$t0" || ok=1
	say "job finished $(secs_since "$tk") s after the kill"
	# Start the killed container again, with its name and (the only free) IP: it
	# must rejoin. This also keeps step 4 valid: a reconnected container takes the
	# lowest free IP of the network, and the kill freed one (see step 4).
	st=$(worker_state "$victim")
	if [[ $st == ready ]]; then
		fail "the coordinator still lists the killed $victim as ready"
		ok=1
	fi
	docker start "$cid" >/dev/null || { fail "docker start $cid"; return 1; }
	tk=$(now_us)
	wait_ready 5 60 || return 1
	[[ $(worker_state "$victim") == ready ]] || { fail "$victim is not ready after its restart"; return 1; }
	say "restarted $victim (listed as $st before): ready again after $(secs_since "$tk") s"
	return $ok
}

step4() {
	local t0 base victim cid ip ip2 ok=0 tc st
	long_reference || return 1
	base=$(chunks_total) || { fail "tally cluster: $(cat "$TMP/cluster.err")"; return 1; }
	t0=$(now_us)
	start_long_job step4
	wait_mid_job step4 "$base" 30 || return 1
	victim=$(busiest_worker) || true
	[[ -n $victim ]] || { fail "no worker holds a chunk"; return 1; }
	cid=$(container_of "$victim") || { fail "no container for worker $victim"; return 1; }
	ip=$(container_ip "$cid")
	docker network disconnect "$NET" "$cid" || { fail "docker network disconnect $NET $cid"; return 1; }
	PARTITIONED=$cid
	tc=$(now_us)
	say "disconnected $victim (container ${cid:0:12}, $ip) from $NET $(secs_since "$t0") s into the job"
	# Watch the coordinator's view of the victim while the job runs, until the
	# job has ended and the coordinator has dropped the victim (memberlist
	# declared it dead): reconnecting must test a real rejoin, not the redial
	# of a session the coordinator still had.
	local notready="" dropped="" jobend=""
	while :; do
		st=$(worker_state "$victim")
		[[ -n $notready || $st == ready ]] || notready=$(secs_since "$tc")
		[[ -n $dropped || $st != absent ]] || dropped=$(secs_since "$tc")
		[[ -n $jobend ]] || kill -0 "$LONG_PID" 2>/dev/null || jobend=$(secs_since "$tc")
		[[ -n $jobend && -n $dropped ]] && break
		if (($(now_us) - tc > 60 * 1000000)); then
			[[ -n $dropped ]] || fail "the coordinator still lists $victim (state $st) 60 s after the partition"
			ok=1
			break
		fi
		sleep 0.5
	done
	say "after the partition: $victim ${notready:+not ready after $notready s, }${dropped:+dropped after $dropped s, }job ended after ${jobend:-more than 60} s"
	finish_long_job step4 "$t0" || ok=1
	docker network connect "$NET" "$cid" || { fail "docker network connect $NET $cid"; return 1; }
	PARTITIONED=""
	tc=$(now_us)
	ip2=$(container_ip "$cid")
	if [[ $ip2 != "$ip" ]]; then
		# tally fixes its advertised gossip and gRPC address at startup: with a new
		# IP it cannot rejoin (see the report of this script).
		say "NOTE: the container came back with a new IP: $ip -> $ip2"
	fi
	while [[ $(worker_state "$victim") != ready ]]; do
		if (($(now_us) - tc > 90 * 1000000)); then
			fail "$victim is not ready 90 s after reconnecting (state $(worker_state "$victim"), IP $ip -> $ip2)"
			cluster_table 2>&1 | sed 's/^/        /'
			return 1
		fi
		sleep 1
	done
	say "reconnected $victim ($ip2): ready again after $(secs_since "$tc") s"
	wait_ready 5 30 || ok=1
	return $ok
}

# S3_CLI is the host CLI, reading the S3 service through its published port.
S3_CLI=(env AWS_ACCESS_KEY_ID="$S3_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET" AWS_ENDPOINT_URL="http://$S3_ADDR" TALLY_S3_PATH_STYLE=true "$BIN")

# scale_to N: the cluster's workers become N (stopped ones leave gracefully).
scale_to() {
	compose up -d --no-recreate --scale worker="$1" >"$TMP/compose-scale$1.log" 2>&1 || {
		fail "docker-compose up --scale worker=$1:"
		sed 's/^/        /' "$TMP/compose-scale$1.log"
		return 1
	}
	wait_ready "$1" 60
}

step5() {
	local t0 base n ok=0 urls=()
	for ((n = 0; n < REPEAT; n++)); do urls+=(s3://corpora/); done
	scale_to 1 || return 1
	# The reference: embedded mode on the host, reading the same bucket.
	if ! tmo 180 "${S3_CLI[@]}" count --json "${LONG_QUERY[@]}" "${urls[@]}" >"$TMP/s3-ref.json" 2>"$TMP/s3-ref.err"; then
		fail "embedded reference over S3 failed: $(tail -3 "$TMP/s3-ref.err")"
		return 1
	fi
	base=$(chunks_total) || return 1
	t0=$(now_us)
	(exec timeout 180 "$BIN" count --json --coordinator "$ADDR" "${LONG_QUERY[@]}" "${urls[@]}") >"$TMP/step5.json" 2>"$TMP/step5.err" &
	LONG_PID=$!
	BG_PIDS+=("$LONG_PID")
	wait_mid_job step5 "$base" 60 || return 1
	say "S3 job ($(python3 "$PY" summary "$TMP/s3-ref.json")) under way on 1 worker after $(secs_since "$t0") s; scaling to 3"
	scale_to 3 || return 1
	say "3 workers ready after $(secs_since "$t0") s; scaling to 5"
	scale_to 5 || return 1
	kill -0 "$LONG_PID" 2>/dev/null && say "5 workers ready after $(secs_since "$t0") s; the job is still running" ||
		{ fail "the S3 job ended before 5 workers were ready: raise E2E_LONG_MB or lower E2E_THROTTLE"; ok=1; }
	local rc=0
	wait "$LONG_PID" || rc=$?
	if ((rc != 0)); then
		fail "S3 job exited $rc after $(secs_since "$t0") s: $(tail -3 "$TMP/step5.err")"
		return 1
	fi
	check_equal "$TMP/s3-ref.json" "$TMP/step5.json" "S3 job over 1 -> 3 -> 5 workers ($(secs_since "$t0") s)" || ok=1
	n=$(cluster_table | awk '$4 > 0' | wc -l)
	if ((n < 5)); then
		fail "only $n of 5 workers counted chunks"
		ok=1
	fi
	return $ok
}

# ---- running, counting, tearing down --------------------------------------------
# run_step N DESCRIPTION FUNCTION: runs a step, prints its result and wall time.
# A step function runs in an || context, so errexit is off inside it: every
# step checks its commands itself and returns non-zero on failure.
run_step() {
	local t0 rc=0
	if [[ -n $ABORTED ]]; then
		echo "[step $1] $2 ... skipped ($ABORTED)"
		return 0
	fi
	echo "[step $1] $2 ..."
	t0=$(now_us)
	CURRENT="[step $1] $2 ... interrupted"
	CURRENT_T0=$t0
	"$3" || rc=$?
	CURRENT=""
	if ((rc == 0)); then
		PASSED=$((PASSED + 1))
		echo "[step $1] $2 ... ok ($(secs_since "$t0") s)"
	else
		FAILED=$((FAILED + 1))
		echo "[step $1] $2 ... FAILED ($(secs_since "$t0") s)"
		[[ -f $TMP/override.yml ]] && dump_logs
	fi
	return 0
}

cleanup() {
	local rc=$?
	trap '' INT TERM
	local t0 pid
	t0=$(now_us)
	[[ -z $CURRENT ]] || echo "$CURRENT ($(secs_since "$CURRENT_T0") s)"
	for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	echo "[teardown] docker-compose down -v -t 5 ..."
	if [[ -n $PARTITIONED ]]; then docker network connect "$NET" "$PARTITIONED" >/dev/null 2>&1 || true; fi
	remove_build_leftovers "$TAG" "$T_EPOCH"
	if [[ -f $TMP/override.yml ]]; then
		# SIGTERM must stop every server within 5 s, with status 0 (README).
		local bad
		compose stop -t 5 >"$TMP/compose-stop.log" 2>&1 || true
		bad=$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT" |
			xargs -r docker inspect -f '{{.Name}} exit {{.State.ExitCode}}' | awk '$3 != 0' | tr '\n' ' ') || true
		[[ -z $bad ]] || echo "      NOTE: containers that did not stop with status 0 on SIGTERM within 5 s: $bad"
		compose down -v --rmi all -t 5 --remove-orphans >"$TMP/compose-down.log" 2>&1 || {
			echo "      docker-compose down failed:"
			sed 's/^/        /' "$TMP/compose-down.log"
		}
	fi
	rm -rf "$TMP"
	echo "[teardown] done ($(secs_since "$t0") s); total $(secs_since "$T_START") s"
	if ((INTERRUPTED)); then
		echo "e2e-compose: interrupted"
		rc=130
	elif ((FAILED > 0)); then
		rc=1
	fi
	echo "e2e-compose: $PASSED passed, $FAILED failed"
	exit "$rc"
}
run_step 0 "build and start 3 workers" step0
((FAILED == 0)) || ABORTED="no cluster"
run_step 1 "count and top, uploaded and --server-path, vs embedded" step1
run_step 2 "scale to 5 mid-job" step2
run_step 3 "docker kill a worker mid-job" step3
run_step 4 "partition a worker mid-job, then reconnect" step4
run_step 5 "S3: scale 1 -> 3 -> 5 mid-job" step5

step6() {
	local rc=0
	FRESH_REF=${E2E_REF:-HEAD} FRESH_PROJECT=$PROJECT-fresh FRESH_PORT=$((PORT + 100)) "$ROOT/scripts/compose-fresh.sh" 2>&1 |
		sed 's/^/      /' || rc=$?
	return "$rc"
}
run_step 6 "a fresh clone: the README's docker-compose commands" step6
