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
#   NODE=native      the media node the calls go through: native, or a real
#                    freeswitch or asterisk started with ../shared/peers/peers.sh
#                    (PEERS_SH) on loopback; the callers dial it and it dials
#                    the agents, Hotline drives it over ESL or ARI
#   DIRECT=0         1: the switch's own dialplan bridges the calls (number 901), Hotline idle
#   LATENCY=0        1: both SIPps log each INVITE's (and the answerer each
#                    BYE's) time (-trace_logs), every CDR is saved, and
#                    latency.py prints caller INVITE -> agent INVITE, agent
#                    BYE -> next INVITE and the callers overtaken in queue
#   PROFILE=0        1: perf record the daemon while the callers run
#                    ($OUT/perf.data, top functions in $OUT/perf.top)
#   OUT=/tmp/hotline-callpath-<time>
# A caller that waits over 120 s for an answer is counted failed (SIPp -recv_timeout).
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
NODE=${NODE:-native}
# DIRECT=1 (with NODE=freeswitch or asterisk): the switch's own dialplan
# bridges each call straight to the answerer (number 901), Hotline idle:
# the baseline that "the switch driven by Hotline" is compared with.
DIRECT=${DIRECT:-0}
LATENCY=${LATENCY:-0}
PROFILE=${PROFILE:-0}
PEERS_SH=${PEERS_SH:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/peers/peers.sh}
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
peer=""
stop_peer() {
	if [ -n "$peer" ]; then
		"$PEERS_SH" stop "$peer" >/dev/null 2>&1 || :
	fi
}
trap 'cleanup; stop_peer' EXIT
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

node_port=$sip_port # where the callers dial
case "$NODE" in
native)
	cat >"$work/hotline.yaml" <<EOF
media_nodes:
  - name: native
    kind: native
    config:
      listen: 127.0.0.1:$sip_port
      allow_unknown_sources: true
      # One SIPp is every caller: the per-source INVITE limit (5/s) is
      # for strangers, not for the load generator.
      invite_rate: -1
      rtp_port_min: 20000
      rtp_port_max: 29999
EOF
	;;
freeswitch | asterisk)
	peer="hlload$$"
	node_port=$("$OUT/harness" freeport -n 1)
	ctl_port=$("$OUT/harness" freeport -n 1)
	pw="load-$(head -c 9 /dev/urandom | base64 | tr -d '/+=')"
	log "starting $NODE $peer (SIP $node_port)"
	# The switch's RTP ports lie below the kernel's ephemeral range
	# (32768-60999) and the native core's default block (16384-32767):
	# FreeSWITCH refuses a call (488, "RTP Bind Error") when the port it
	# picked is held by any other socket.
	direct=()
	if [ "$DIRECT" = 1 ]; then
		mkdir -p "$work/direct/dialplan/public" "$work/direct/extensions.d"
		cat >"$work/direct/dialplan/public/00_direct.xml" <<'EOF'
<include>
  <extension name="direct">
    <condition field="destination_number" expression="^901$">
      <action application="bridge" data="sofia/hotline/agent1@127.0.0.1:@UAS_PORT@"/>
    </condition>
  </extension>
</include>
EOF
		printf '[from-hotline]\nexten => 901,1,Dial(PJSIP/hotline/sip:agent1@127.0.0.1:@UAS_PORT@)\n same => n,Hangup()\n' \
			>"$work/direct/extensions.d/10-direct.conf"
		direct=(--overlay "$work/direct" --var "UAS_PORT=$uas_port")
	fi
	if [ "$NODE" = freeswitch ]; then
		"$PEERS_SH" start freeswitch "$peer" --sip-port "$node_port" --esl-port "$ctl_port" --esl-password "$pw" \
			--rtp-min 10000 --rtp-max 14999 --overlay "$repo/deploy/freeswitch/conf" "${direct[@]}" >/dev/null
		printf 'media_nodes:\n  - name: fs\n    kind: freeswitch\n    config: {address: "127.0.0.1:%s", password: "%s"}\n' \
			"$ctl_port" "$pw" >"$work/hotline.yaml"
	else
		"$PEERS_SH" start asterisk "$peer" --sip-port "$node_port" --http-port "$ctl_port" --ari-password "$pw" \
			--rtp-min 10000 --rtp-max 14999 --overlay "$repo/deploy/asterisk" "${direct[@]}" >/dev/null
		printf 'media_nodes:\n  - name: ast\n    kind: asterisk\n    config: {url: "http://127.0.0.1:%s/ari", user: hotline, password: "%s"}\n' \
			"$ctl_port" "$pw" >"$work/hotline.yaml"
	fi
	;;
*)
	echo "callpath.sh: NODE must be native, freeswitch or asterisk" >&2
	exit 2
	;;
esac
log "starting the daemon on core $DAEMON_CPU (SIP $sip_port, HTTP $http_port)"
HOTLINE_BOOTSTRAP_TOKEN=$token taskset -c "$DAEMON_CPU" "$OUT/hotline" serve --config "$work/hotline.yaml" \
	--data "$work/data" --http "127.0.0.1:$http_port" --log-level warn >"$OUT/daemon.out" 2>&1 &
pids+=($!)
daemon=$!
# cpu PID: the process's user+system CPU time so far, in clock ticks.
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# runwait PID: nanoseconds the process's threads spent runnable but waiting
# for a CPU (schedstat's second field, summed over threads): on a shared
# core, the time other work took from the daemon.
runwait() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $2} END {printf "%.0f", s}'; }
peer_pid() { "$PEERS_SH" status "$peer" 2>/dev/null | awk 'NR > 1 {print $3}'; }
for _ in $(seq 100); do
	curl -sf "http://127.0.0.1:$http_port/healthz" >/dev/null && break
	sleep 0.1
done

uas_log=() uac_log=()
if [ "$LATENCY" = 1 ]; then
	uas_log=(-trace_logs -log_file "$OUT/uas.log")
	uac_log=(-trace_logs -log_file "$OUT/uac.log")
fi
log "starting the SIPp answerer (the agents' devices) on $uas_port"
(cd "$work" && exec taskset -c "$SIPP_CPU" sipp -sf "$here/uas.xml" -i 127.0.0.1 -mi 127.0.0.1 \
	-p "$uas_port" -mp "$uas_mp" -nostdin -trace_err -error_file "$OUT/uas_errors.log" "${uas_log[@]}" \
	>"$OUT/uas.out" 2>&1) &
pids+=($!)

post() { curl -sf -X "$1" "$api/$2" "${auth[@]}" -H "Content-Type: application/json" -d "$3"; }
log "configuring $AGENTS agents, the queue and the number 900"
# id_of: the "id" of the JSON object on stdin (no python3 per agent: a
# thousand agents are set up in seconds, not minutes, on a loaded machine).
id_of() { grep -o '"id": *"[^"]*"' | head -n 1 | sed 's/.*"\([^"]*\)"$/\1/'; }
ids=()
for i in $(seq "$AGENTS"); do
	id=$(post POST agents "{\"name\":\"load $i\",\"extension\":\"$((20000 + i))\"}" | id_of)
	[ -n "$id" ] || { echo "callpath.sh: agent $i was not created" >&2; exit 1; }
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

dialled=900
[ "$DIRECT" = 1 ] && dialled=901
log "calling $dialled: $CALLS calls at $RATE/s, $HOLD s each"
start=$SECONDS
daemon_cpu0=$(cpu "$daemon")
daemon_wait0=$(runwait "$daemon")
[ -z "$peer" ] || peer_cpu0=$(cpu "$(peer_pid)")
perf_pid=""
if [ "$PROFILE" = 1 ]; then
	perf record -F 499 -g -o "$OUT/perf.data" -p "$daemon" >/dev/null 2>&1 &
	perf_pid=$!
fi
(cd "$work" && exec taskset -c "$SIPP_CPU" sipp -sf "$here/uac.xml" -i 127.0.0.1 -mi 127.0.0.1 -mp "$uac_mp" \
	-s "$dialled" "127.0.0.1:$node_port" -m "$CALLS" -r "$RATE" -d "$((HOLD * 1000))" -recv_timeout 120000 -nostdin \
	-trace_stat -stf "$OUT/uac_stats.csv" -trace_err -error_file "$OUT/uac_errors.log" "${uac_log[@]}" \
	>"$OUT/uac.out" 2>&1) || :
elapsed=$((SECONDS - start))
if [ -n "$perf_pid" ]; then
	kill -INT "$perf_pid" 2>/dev/null || :
	wait "$perf_pid" 2>/dev/null || :
	perf report -i "$OUT/perf.data" --no-children --percent-limit 0.7 --stdio 2>/dev/null |
		grep -E '^ +[0-9.]+%' >"$OUT/perf.top" || :
fi
# Let the daemon end what SIPp ended (its BYEs, CDRs and counters trail a
# loaded run): wait until every inbound call it counted has ended, at most
# 30 s, so the CDRs below are complete. (DIRECT=1: Hotline sees no call.)
[ "$DIRECT" = 1 ] || for _ in $(seq 60); do
	curl -sf "http://127.0.0.1:$http_port/metrics" | awk '
		/^hotline_calls_inbound_total/ {in_ += $2}
		/^hotline_calls_ended_total/ {ended += $2}
		END {exit !(in_ > 0 && ended >= in_)}' && break
	sleep 0.5
done
sleep 2
hz=$(getconf CLK_TCK)
daemon_cpu=$(awk -v a="$daemon_cpu0" -v b="$(cpu "$daemon")" -v hz="$hz" 'BEGIN {printf "%.2f", (b - a) / hz}')
daemon_wait=$(awk -v a="$daemon_wait0" -v b="$(runwait "$daemon")" 'BEGIN {printf "%.2f", (b - a) / 1e9}')
[ -z "$peer" ] || peer_cpu=$(awk -v a="$peer_cpu0" -v b="$(cpu "$(peer_pid)")" -v hz="$hz" 'BEGIN {printf "%.2f", (b - a) / hz}')

{
	echo "node=$NODE direct=$DIRECT agents=$AGENTS rate=$RATE calls=$CALLS hold=${HOLD}s record=$RECORD elapsed=${elapsed}s"
	echo "daemon cpu: ${daemon_cpu}s ($(awk -v c="$daemon_cpu" -v n="$CALLS" 'BEGIN {printf "%.1f", 1000 * c / n}') ms per call)," \
		"waited ${daemon_wait}s runnable for its core (other processes, or its own threads), load $(cut -d' ' -f1 /proc/loadavg)"
	[ -z "$peer" ] || echo "$NODE cpu: ${peer_cpu}s ($(awk -v c="$peer_cpu" -v n="$CALLS" -v h="$HOLD" 'BEGIN {printf "%.5f", c / (n * h)}') s per call-second)"
	tail -n 1 "$OUT/uac_stats.csv" | awk -F';' '{print "sipp: successful " $16 ", failed " $18}' 2>/dev/null || :
	curl -sf "$api/cdrs?limit=500" "${auth[@]}" | python3 -c '
import collections, json, sys
items = json.load(sys.stdin).get("items", [])
print("cdrs (first page):", dict(collections.Counter(c["outcome"] for c in items)))' || echo "cdrs: unavailable"
	curl -sf "http://127.0.0.1:$http_port/metrics" | grep -E '^hotline_calls_(inbound|ended|rejected)_total' || :
	if [ "$LATENCY" = 1 ]; then
		# Every CDR, page by page, for the queue order check.
		python3 - "$api/cdrs" "$token" >"$OUT/cdrs.json" <<'PY' || echo "cdrs: unavailable"
import json, sys, urllib.parse, urllib.request
url, token, items, after = sys.argv[1], sys.argv[2], [], ""
while True:
    q = "?limit=500" + ("&after=" + urllib.parse.quote(after) if after else "")
    req = urllib.request.Request(url + q, headers={"Authorization": "Bearer " + token})
    page = json.load(urllib.request.urlopen(req))
    items += page.get("items", [])
    after = page.get("next", "")
    if not after:
        break
json.dump(items, sys.stdout)
PY
		python3 "$here/latency.py" "$OUT"
	fi
} | tee "$OUT/results.txt"
