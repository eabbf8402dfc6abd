#!/usr/bin/env bash
# Does the cluster grow with its workers? A docker-compose cluster whose
# coordinator and workers each get the same CPU cap (BENCH_CPUS, 0.3 of a
# core) runs one big count job over the same data with 1, 2 and 3 workers,
# three ways:
#   streamed  --server-path, to workers without the shared volume: the
#             coordinator reads every byte and streams it over gRPC
#   shared    --server-path, to workers that mount the data at the same path
#             (--shared-root): each reads its own splits
#   s3        s3://bench/, objects put through the S3 API (with ETags) into
#             the compose s3 service: each worker reads its own ranges
# Two jobs: the seed's (whole tokens, 2 rare targets: light per byte) and a
# heavy one (words, ignore case, 10 targets: about 5x the CPU per byte).
# Then, on loopback without caps, a coordinator and one worker reading by
# reference (a shared directory, and S3 from a versitygw on the host)
# against the embedded mode on the same cores, interleaved, with the peak
# memory of the coordinator and the worker.
#
#   scripts/bench-scaling.sh            # about 15 minutes on 2 cores
#
# Settings (environment): BENCH_CORPORA (../shared/corpora: the directory
# whose *.txt files make one copy), BENCH_CPUS (0.3), BENCH_COPIES (40: copies of the
# corpora, 52 MB each, in the data; the heavy job reads the first quarter),
# BENCH_BLOCK (16MiB, the coordinator's default: --block-size of every job),
# BENCH_REPS (5: runs per row, the median is reported), BENCH_PORT (18070,
# the S3 service on the next port), BENCH_WORK (/tmp/tally-scaling: data,
# kept between runs), BENCH_OUT (bench: scaling.txt and scaling.csv).
# Every container and process it starts is stopped when it exits.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PROJECT=tally-scaling
CPUS=${BENCH_CPUS:-0.3}
COPIES=${BENCH_COPIES:-40}
CORPORA=${BENCH_CORPORA:-../shared/corpora}
REPS=${BENCH_REPS:-5}
BLOCK=${BENCH_BLOCK:-16MiB}
PORT=${BENCH_PORT:-18070}
S3PORT=$((PORT + 1))
WORK=${BENCH_WORK:-${TMPDIR:-/tmp}/tally-scaling}
OUT=${BENCH_OUT:-bench}
IMAGE=tally-scaling:latest
S3IMAGE=tally-scaling-s3:latest
KEY=bench$RANDOM$RANDOM
SECRET=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
SEED=(-e Holmes -e sand --block-size "$BLOCK")
HEAVY=(--mode word -i -e the -e holmes -e sand -e whale -e love -e alice -e god -e war -e peace -e time --block-size "$BLOCK")
while read -r v; do unset "$v"; done < <(compgen -e | grep '^TALLY_' || true)

docker info >/dev/null 2>&1 || { echo "bench-scaling: no Docker engine answers" >&2; exit 1; }
COMPOSE=(docker-compose)
command -v docker-compose >/dev/null || COMPOSE=(docker compose)
mkdir -p "$WORK/data" "$OUT"
TMP=$(mktemp -d)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	compose down -v -t 5 >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
trap cleanup EXIT
now() { echo "${EPOCHREALTIME//[.,]/}"; }
compose() {
	TALLY_PORT=127.0.0.1:$PORT TALLY_S3_PORT=127.0.0.1:$S3PORT TALLY_CORPORA=$WORK/data \
		TALLY_S3_ACCESS_KEY=$KEY TALLY_S3_SECRET_KEY=$SECRET \
		"${COMPOSE[@]}" -p "$PROJECT" -f docker-compose.yml -f "$TMP/override.yml" "$@"
}
S3ENV=(env AWS_ACCESS_KEY_ID="$KEY" AWS_SECRET_ACCESS_KEY="$SECRET" AWS_ENDPOINT_URL="http://127.0.0.1:$S3PORT" TALLY_S3_PATH_STYLE=true)

# ---- build, data, cluster ---------------------------------------------------------
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o bin/tally-static ./cmd/tally
go build -o bin/tally ./cmd/tally
go build -o bin/s3put ./scripts/s3put
go build -modfile=scripts/versitygw.mod -o bin/versitygw github.com/versity/versitygw/cmd/versitygw
# s3-image.sh builds the compose file's toolchain image (tally-go) first,
# which the tally image is built FROM.
scripts/s3-image.sh "$S3IMAGE"
docker build -q -t "$IMAGE" . >/dev/null
if [[ ! -s $WORK/data/c$(printf %02d "$COPIES").txt ]]; then
	echo "bench-scaling: writing $COPIES copies of the corpora to $WORK/data"
	cat "$CORPORA"/*.txt >"$WORK/one.txt"
	for ((i = 1; i <= COPIES; i++)); do cp "$WORK/one.txt" "$WORK/data/c$(printf %02d "$i").txt"; done
	rm "$WORK/one.txt"
fi
mapfile -t FILES < <(cd "$WORK/data" && ls c[0-9]*.txt | sort | head -n "$COPIES")
HEAVY_FILES=("${FILES[@]:0:$(((COPIES + 3) / 4))}")
cat >"$TMP/override.yml" <<EOF
version: "2.4"
services:
  coordinator:
    image: $IMAGE
    cpus: $CPUS
  worker:
    image: $IMAGE
    cpus: $CPUS
  # A worker without the shared volume: --server-path is streamed to it.
  streamer:
    image: $IMAGE
    command: ["worker"]
    cpus: $CPUS
    environment:
      TALLY_JOIN: "coordinator:7946"
      TALLY_LISTEN: "0.0.0.0:7071"
      TALLY_GOSSIP: "0.0.0.0:7947"
    depends_on: [coordinator]
    tmpfs: [/tmp]
  s3:
    image: $S3IMAGE
EOF
compose down -v -t 5 >/dev/null 2>&1 || true
compose up -d --scale worker=0 --scale streamer=0 >"$TMP/up.log" 2>&1 || { cat "$TMP/up.log"; exit 1; }
for _ in $(seq 100); do "${S3ENV[@]}" bin/s3put -bucket probe "$0" >/dev/null 2>&1 && break; sleep 0.2; done
echo "bench-scaling: putting ${#FILES[@]} objects through the S3 API"
(cd "$WORK/data" && "${S3ENV[@]}" "$ROOT/bin/s3put" -bucket bench "${FILES[@]}" >"$TMP/put.log")
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
BYTES=$(cd "$WORK/data" && cat "${FILES[@]}" | wc -c)
HEAVY_BYTES=$(cd "$WORK/data" && cat "${HEAVY_FILES[@]}" | wc -c)
echo "bench-scaling: $CPU, $(nproc) cores; cap $CPUS CPU per container; $((BYTES / 1000000)) MB ($((HEAVY_BYTES / 1000000)) MB for the heavy job), $REPS runs per row"

ready() { bin/tally cluster --json --coordinator "127.0.0.1:$PORT" 2>/dev/null | python3 -c 'import json,sys; print(sum(w.get("state")=="ready" for w in json.load(sys.stdin).get("workers",[])))' 2>/dev/null || echo 0; }
scale() {
	compose up -d --no-recreate --scale worker="$1" --scale streamer="$2" >"$TMP/scale.log" 2>&1 || { cat "$TMP/scale.log"; exit 1; }
	local want=$(($1 + $2))
	for _ in $(seq 300); do [[ $(ready) == "$want" ]] && return 0; sleep 0.2; done
	echo "bench-scaling: $want workers not ready" >&2
	exit 1
}

# timed OUT ARGS...: runs tally ARGS with --json into OUT, prints the seconds.
timed() {
	local out=$1 t0 t1
	shift
	t0=$(now)
	"$@" --json >"$out" 2>"$out.err" || { echo "bench-scaling: $* failed: $(cat "$out.err")" >&2; exit 1; }
	t1=$(now)
	python3 -c "print(($t1 - $t0) / 1e6)"
}

# total OUT: the total counts of an answer, to check every way agrees.
total() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["total"])' "$1"; }

# row JOB HOW WORKERS BYTES ARGS...: REPS runs; records the median.
declare -A WANT
row() {
	local job=$1 how=$2 n=$3 bytes=$4 secs=() s
	shift 4
	for ((r = 0; r < REPS; r++)); do
		s=$(timed "$TMP/answer.json" "$@")
		secs+=("$s")
		local got
		got=$(total "$TMP/answer.json")
		[[ -n ${WANT[$job]:-} ]] || WANT[$job]=$got
		[[ $got == "${WANT[$job]}" ]] || { echo "bench-scaling: $job $how $n workers: total $got, want ${WANT[$job]}" >&2; exit 1; }
	done
	python3 - "$job" "$how" "$n" "$bytes" "${secs[@]}" >>"$TMP/rows.csv" <<-'EOF'
		import statistics, sys
		job, how, n, size, *secs = sys.argv[1:]
		m = statistics.median(float(s) for s in secs)
		print(f"{job},{how},{n},{m:.3f},{int(size) / 1e6 / m:.0f},{min(map(float, secs)):.3f},{max(map(float, secs)):.3f}")
	EOF
	tail -1 "$TMP/rows.csv" | awk -F, '{printf "  %-6s %-9s %s workers  %6s s  %5s MB/s\n", $1, $2, $3, $4, $5}'
}

: >"$TMP/rows.csv"
for how in streamed shared s3; do
	for n in 1 2 3; do
		if [[ $how == streamed ]]; then scale 0 "$n"; else scale "$n" 0; fi
		for job in seed heavy; do
			inputs=()
			if [[ $job == seed ]]; then q=("${SEED[@]}") files=("${FILES[@]}") bytes=$BYTES; else q=("${HEAVY[@]}") files=("${HEAVY_FILES[@]}") bytes=$HEAVY_BYTES; fi
			if [[ $how == s3 ]]; then
				for f in "${files[@]}"; do inputs+=("s3://bench/$f"); done
			else
				for f in "${files[@]}"; do inputs+=(--server-path "$f"); done
			fi
			row "$job" "$how" "$n" "$bytes" bin/tally count "${q[@]}" --coordinator "127.0.0.1:$PORT" "${inputs[@]}"
		done
	done
done

# ---- loopback, no caps: by reference against the embedded mode ----------------------
# The S3 server runs on the host too: a published container port goes
# through docker's userland proxy, which costs a copy of every byte.
compose down -v -t 5 >/dev/null 2>&1
mkdir -p "$TMP/s3"
ROOT_ACCESS_KEY=$KEY ROOT_SECRET_KEY=$SECRET bin/versitygw --port "127.0.0.1:$S3PORT" posix "$TMP/s3" >"$TMP/versitygw.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do "${S3ENV[@]}" bin/s3put -bucket probe "$0" >/dev/null 2>&1 && break; sleep 0.2; done
(cd "$WORK/data" && "${S3ENV[@]}" "$ROOT/bin/s3put" -bucket bench "${FILES[@]}" >"$TMP/put.log")
# The coordinator lists s3:// itself, so it has the keys too.
"${S3ENV[@]}" bin/tally coordinator --listen 127.0.0.1:0 --gossip 127.0.0.1:0 --data-dir "$WORK/data" --log-level warn >"$TMP/coord.out" 2>"$TMP/coord.err" &
PIDS+=($!)
for _ in $(seq 100); do grep -q listening "$TMP/coord.out" 2>/dev/null && break; sleep 0.1; done
COORD_PID=${PIDS[-1]}
LADDR=$(sed -n 's/^coordinator listening on \([^,]*\), gossip on \(.*\)$/\1/p' "$TMP/coord.out")
LGOSSIP=$(sed -n 's/^coordinator listening on \([^,]*\), gossip on \(.*\)$/\2/p' "$TMP/coord.out")
"${S3ENV[@]}" bin/tally worker --join "$LGOSSIP" --shared-root "$WORK/data" --log-level warn >/dev/null 2>"$TMP/worker.err" &
PIDS+=($!)
WORKER_PID=$!
for _ in $(seq 300); do [[ $(bin/tally cluster --json --coordinator "$LADDR" 2>/dev/null | grep -c '"ready"') == 1 ]] && break; sleep 0.1; done
server=() s3urls=() paths=()
for f in "${FILES[@]}"; do server+=(--server-path "$f"); s3urls+=("s3://bench/$f"); paths+=("$WORK/data/$f"); done
: >"$TMP/loop.csv"
for ((r = 0; r < REPS; r++)); do
	e=$(timed "$TMP/e.json" bin/tally count "${SEED[@]}" "${paths[@]}")
	s=$(timed "$TMP/s.json" bin/tally count "${SEED[@]}" --coordinator "$LADDR" "${server[@]}")
	t=$(timed "$TMP/t.json" bin/tally count "${SEED[@]}" --coordinator "$LADDR" "${s3urls[@]}")
	for a in "$TMP/s.json" "$TMP/t.json"; do
		[[ $(total "$a") == "$(total "$TMP/e.json")" ]] || { echo "bench-scaling: loopback answers differ" >&2; exit 1; }
	done
	echo "$e,$s,$t" >>"$TMP/loop.csv"
done
# Peak resident memory after every loopback job, $((REPS * 2)) x $((BYTES / 1000000)) MB read by reference.
peak() { awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$1/status"; }
echo "$(peak "$COORD_PID"),$(peak "$WORKER_PID"),$((REPS * 2 * BYTES / 1000000))" >"$TMP/peak.csv"

# ---- report -----------------------------------------------------------------------
python3 - "$TMP/rows.csv" "$TMP/loop.csv" "$BYTES" "$CPU" "$CPUS" "$REPS" "$TMP/peak.csv" "$BLOCK" >"$OUT/scaling.txt" <<'EOF'
import csv, statistics, sys
rows, loop, size, cpu, cap, reps, peak, block = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7], sys.argv[8]
data = list(csv.reader(open(rows)))
print(f"Scaling: a docker-compose cluster, coordinator and each worker capped at {cap} CPU; {cpu}; --block-size {block}; median of {reps} runs.")
print("streamed = --server-path to workers without the shared volume (the coordinator carries every byte);")
print("shared = --server-path to workers with it (--shared-root); s3 = s3://bench/ objects with ETags.\n")
print(f"{'job':<6} {'input':<9} {'workers':>7} {'seconds':>8} {'MB/s':>6} {'x 1 worker':>10}")
base = {}
for job, how, n, secs, mbs, lo, hi in data:
    if n == "1":
        base[(job, how)] = float(mbs)
    print(f"{job:<6} {how:<9} {n:>7} {float(secs):>8.2f} {mbs:>6} {float(mbs) / base[(job, how)]:>10.2f}")
runs = [list(map(float, r)) for r in csv.reader(open(loop))]
e, s, t = (statistics.median(c) for c in zip(*runs))
print(f"\nLoopback, no caps, seed job over {size / 1e6:.0f} MB, interleaved, median of {len(runs)} runs:")
print(f"  embedded (one process, all cores)         {e:6.2f} s  {size / 1e6 / e:6.0f} MB/s")
print(f"  coordinator + 1 worker, shared volume      {s:6.2f} s  {size / 1e6 / s:6.0f} MB/s  {e / s:.2f}x embedded")
print(f"  coordinator + 1 worker, S3 (versitygw)     {t:6.2f} s  {size / 1e6 / t:6.0f} MB/s  {e / t:.2f}x embedded")
cmb, wmb, read = open(peak).read().strip().split(",")
print(f"  peak resident memory after {int(read) / 1000:.0f} GB read by reference: coordinator {cmb} MiB, worker {wmb} MiB")
EOF
cp "$TMP/rows.csv" "$OUT/scaling.csv"
echo
cat "$OUT/scaling.txt"
