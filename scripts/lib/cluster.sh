# Helpers for scripts that start a coordinator and workers on loopback
# (source it). The coordinator's first line on stdout is
#   coordinator listening on ADDR, gossip on GOSSIP
# which names the ports it picked for --listen/--gossip 127.0.0.1:0.

# coordinator_addrs FILE: waits (10 s at most) for that line in FILE and sets
# ADDR and GOSSIP from it; fails if it does not come.
coordinator_addrs() {
	local line=
	for _ in $(seq 100); do
		line=$(grep -m1 '^coordinator listening on ' "$1" 2>/dev/null) && break
		sleep 0.1
	done
	[[ -n $line ]] || return 1
	ADDR=$(sed -E 's/^coordinator listening on ([^,]+), gossip on (.*)$/\1/' <<<"$line")
	GOSSIP=$(sed -E 's/^coordinator listening on ([^,]+), gossip on (.*)$/\2/' <<<"$line")
}

# wait_ready BIN ADDR: waits (15 s at most) until a worker is ready.
wait_ready() {
	for _ in $(seq 150); do
		"$1" cluster --coordinator "$2" 2>/dev/null | grep -q ready && return 0
		sleep 0.1
	done
	return 1
}

# stop_all stops every process in the array pids, newest first (workers
# before their coordinator; nodes leaving memberlist all at once can time
# out): SIGCONT for a stopped one, SIGTERM, and SIGKILL after 15 s.
stop_all() {
	local i
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		local p=${pids[i]}
		if kill -0 "$p" 2>/dev/null; then
			kill -CONT "$p" 2>/dev/null || true
			kill -TERM "$p" 2>/dev/null || true
			local n=0
			while kill -0 "$p" 2>/dev/null && [ $n -lt 150 ]; do sleep 0.1; n=$((n + 1)); done
			kill -KILL "$p" 2>/dev/null || true
		fi
		wait "$p" 2>/dev/null || true
	done
	pids=()
}
