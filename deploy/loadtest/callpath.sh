#!/usr/bin/env bash
# Load test of the whole call path: SIPp callers at a fixed rate -> the
# daemon (hotline serve: route, queue, ACD offer, bridge) -> N agents at
# fixed sip: devices, all played by one SIPp answerer. Both SIPp sides
# stream G.711 for the whole call (uac.xml, uas.xml of this directory).
# Prints the callers' successful and failed calls, the CDRs by outcome
# and the calls the daemon counted; logs and the daemon's output in $OUT.
#
# Usage: deploy/loadtest/callpath.sh          (from anywhere; defaults below)
#   AGENTS=50        agents in the queue, each at sip:agentN@<answerer>
#   RATE=20          new calls per second
#   CALLS=600        calls in all
#   HOLD=5           seconds each caller stays connected
#   DAEMON_CPU=0 SIPP_CPU=1  cores for the daemon and for both SIPps
#   RECORD=none      the queue's recording mode (none, all)
#   OUT=/tmp/hotline-callpath-<time>
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
AGENTS=${AGENTS:-50}
RATE=${RATE:-20}
CALLS=${CALLS:-600}
HOLD=${HOLD:-5}
DAEMON_CPU=${DAEMON_CPU:-0}
SIPP_CPU=${SIPP_CPU:-1}
RECORD=${RECORD:-none}
OUT=${OUT:-/tmp/hotline-callpath-$(date -u +%Y%m%dT%H%M%SZ)}

for tool in sipp sox taskset curl go python3; do
	command -v "$tool" >/dev/null || { echo "callpath.sh: $tool is required" >&2; exit 2; }
done
mkdir -p "$OUT"
work=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || :
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || :
	done
	rm -rf "$work"
}
trap cleanup EXIT
log() { echo "callpath.sh: $*" >&2; }

log "building the daemon and the port helper"
(cd "$repo" && go build -o "$OUT/hotline" ./cmd/hotline && go build -o "$OUT/harness" ./deploy/loadtest/harness)
sox -n -r 8000 -c 1 -e u-law -t raw "$work/caller.ulaw" synth 10 sine 1000 vol 0.3
sox -n -r 8000 -c 1 -e u-law -t raw "$work/callee.ulaw" synth 10 sine 400 vol 0.3

http_port=$("$OUT/harness" freeport -n 1)
sip_port=$("$OUT/harness" freeport -n 1)
uas_port=$("$OUT/harness" freeport -n 1)
uas_mp=$("$OUT/harness" freeport -n 4)
uac_mp=$("$OUT/harness" freeport -n 4)
token=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
api="http://127.0.0.1:$http_port/api/v1"
auth=(-H "Authorization: Bearer $token")

cat >"$work/hotline.yaml" <<EOF
media_nodes:
  - name: native
    kind: native
    config:
      listen: 127.0.0.1:$sip_port
      allow_unknown_sources: true
      rtp_port_min: 20000
      rtp_port_max: 29999
EOF
log "starting the daemon on core $DAEMON_CPU (SIP $sip_port, HTTP $http_port)"
HOTLINE_BOOTSTRAP_TOKEN=$token taskset -c "$DAEMON_CPU" "$OUT/hotline" serve --config "$work/hotline.yaml" \
	--data "$work/data" --http "127.0.0.1:$http_port" --log-level warn >"$OUT/daemon.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
	curl -sf "http://127.0.0.1:$http_port/healthz" >/dev/null && break
	sleep 0.1
done

log "starting the SIPp answerer (the agents' devices) on $uas_port"
(cd "$work" && exec taskset -c "$SIPP_CPU" sipp -sf "$here/uas.xml" -i 127.0.0.1 -mi 127.0.0.1 \
	-p "$uas_port" -mp "$uas_mp" -nostdin -trace_err -error_file "$OUT/uas_errors.log" >"$OUT/uas.out" 2>&1) &
pids+=($!)

post() { curl -sf -X "$1" "$api/$2" "${auth[@]}" -d "$3"; }
log "configuring $AGENTS agents, the queue and the number 900"
ids=()
for i in $(seq "$AGENTS"); do
	id=$(post POST agents "{\"name\":\"load $i\",\"extension\":\"$((20000 + i))\"}" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
	ids+=("$id")
done
members=$(printf '{"agent_id":"%s"},' "${ids[@]}")
queue=$(post POST queues "{\"name\":\"load\",\"strategy\":\"longest-idle\",\"ring_timeout\":10,\"wrap_up\":0,
	\"join_when_no_agents\":true,\"members\":[${members%,}],\"recording\":{\"mode\":\"$RECORD\",\"stereo\":true}}" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
post POST numbers "{\"number\":\"900\",\"route\":{\"kind\":\"queue\",\"value\":\"$queue\"}}" >/dev/null
for i in "${!ids[@]}"; do
	post PUT "agents/${ids[$i]}/state" "{\"state\":\"ready\",\"device\":\"sip:agent$((i + 1))@127.0.0.1:$uas_port\"}" >/dev/null
done

log "calling 900: $CALLS calls at $RATE/s, $HOLD s each"
start=$SECONDS
(cd "$work" && exec taskset -c "$SIPP_CPU" sipp -sf "$here/uac.xml" -i 127.0.0.1 -mi 127.0.0.1 -mp "$uac_mp" \
	-s 900 "127.0.0.1:$sip_port" -m "$CALLS" -r "$RATE" -d "$((HOLD * 1000))" -nostdin \
	-trace_stat -stf "$OUT/uac_stats.csv" -trace_err -error_file "$OUT/uac_errors.log" >"$OUT/uac.out" 2>&1) || :
elapsed=$((SECONDS - start))
sleep 2

{
	echo "agents=$AGENTS rate=$RATE calls=$CALLS hold=${HOLD}s record=$RECORD elapsed=${elapsed}s"
	tail -n 1 "$OUT/uac_stats.csv" | awk -F';' '{print "sipp: successful " $16 ", failed " $18}' 2>/dev/null || :
	curl -sf "$api/cdrs?limit=500" "${auth[@]}" | python3 -c '
import collections, json, sys
items = json.load(sys.stdin).get("items", [])
print("cdrs (first page):", dict(collections.Counter(c["outcome"] for c in items)))' || echo "cdrs: unavailable"
	curl -sf "http://127.0.0.1:$http_port/metrics" | grep -E '^hotline_calls_(inbound|ended|rejected)_total' || :
} | tee "$OUT/results.txt"
