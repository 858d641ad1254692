#!/usr/bin/env bash
# Load test of the native media core: SIPp caller -> core (2-party bridge)
# -> SIPp answerer, both SIPp sides streaming G.711 (50 packets/s each
# way). Two scenarios: "te" (PCMU + telephone-event, as phones offer) and
# "pcma" (PCMA only, no telephone-event, as many carrier trunks offer).
# First measures the idle harness (0 calls), then steps the number of
# concurrent bridged calls, without and with a stereo recording of every
# bridge, and prints per step the core's CPU seconds per call-second (total
# and marginal: minus the idle harness), RSS per call, failed calls and
# whether RTP kept flowing both ways. See deploy/loadtest/README.md for what
# each column means and how RTP flow is established.
#
# Usage: deploy/loadtest/run.sh            (from anywhere; defaults below)
#   SCENARIOS="te pcma"      te: uac.xml/uas.xml; pcma: uac-pcma.xml/uas-pcma.xml
#   STEPS="50 100 200 400"   concurrent bridged calls per step
#   MODES="relay record"     relay: bridge only; record: + stereo recording
#   IDLE=1                   0: skip the idle (0 calls) measurement
#   WINDOW=20                measured seconds per step (after ramp-up)
#   RATE=50                  new calls per second during ramp-up
#   SETTLE=3                 seconds between "all bridged" and the window
#   HARNESS_CPU=0 SIPP_CPU=1 cores to pin the core and both SIPps to
#   PROFILE=0                1: take a CPU profile of each window (pprof top)
#   RTP_MIN=20000 RTP_MAX=29999  the core's RTP port range
#   OUT=/tmp/hotline-loadtest-<time>  logs, profiles and results.txt
#   UAC_SCENARIO, UAS_SCENARIO  other SIPp scenarios for every scenario
#                            (default per scenario, see SCENARIOS)
#   SYSTEM=native            the system under test: native (the harness), or
#                            asterisk or freeswitch from ../shared/peers
#                            (PEERS_SH), whose own dialplan bridges each call
#                            to the SIPp answerer (record: MixMonitor D /
#                            record_session with RECORD_STEREO), for the
#                            side-by-side comparison; fresh switch per step
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
SCENARIOS=${SCENARIOS:-"te pcma"}
STEPS=${STEPS:-"50 100 200 400"}
IDLE=${IDLE:-1}
MODES=${MODES:-"relay record"}
WINDOW=${WINDOW:-20}
RATE=${RATE:-50}
SETTLE=${SETTLE:-3}
HARNESS_CPU=${HARNESS_CPU:-0}
SIPP_CPU=${SIPP_CPU:-1}
PROFILE=${PROFILE:-0}
RTP_MIN=${RTP_MIN:-20000}
RTP_MAX=${RTP_MAX:-29999}
OUT=${OUT:-/tmp/hotline-loadtest-$(date -u +%Y%m%dT%H%M%SZ)}
UAC_SCENARIO=${UAC_SCENARIO:-}
UAS_SCENARIO=${UAS_SCENARIO:-}
SYSTEM=${SYSTEM:-native}
PEERS_SH=${PEERS_SH:-$(cd "$here/../../.." && pwd)/shared/peers/peers.sh}
TAIL=5 # seconds between the window's end and the first BYE
case $SYSTEM in
native | asterisk | freeswitch) ;;
*)
	echo "run.sh: SYSTEM must be native, asterisk or freeswitch" >&2
	exit 2
	;;
esac

for tool in sipp sox taskset curl go awk; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool is required" >&2; exit 2; }
done
mkdir -p "$OUT"
recdir=/dev/shm/hotline-loadtest-$$
harness="$OUT/harness"
pids=()
sw_name="" # the running switch instance (SYSTEM asterisk or freeswitch)

cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || :
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || :
	done
	[ -z "$sw_name" ] || "$PEERS_SH" stop "$sw_name" >/dev/null 2>&1 || :
	rm -rf "$recdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# forget PID: a reaped process leaves the cleanup list, so cleanup never
# signals a recycled PID.
forget() {
	local p keep=()
	for p in "${pids[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	pids=("${keep[@]}")
}

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

# kv KEY < line: the value of KEY in a key=value line.
kv() { awk -v k="$1" '{for (i = 1; i <= NF; i++) { n = index($i, "="); if (substr($i, 1, n - 1) == k) { print substr($i, n + 1); exit } } }'; }

# cputicks PID: utime+stime of the process, all threads (clock ticks).
# A process that is gone reads as 0: the row then shows the failure.
cputicks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# rsskb PID: VmRSS in kB.
rsskb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
# cpu0 CPU: "total steal" jiffies of one core from /proc/stat.
cpuline() { awk -v c="cpu$1" '$1 == c { t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $9 }' /proc/stat; }
now() { date +%s.%N; }
# sockval PID KEY LINES: KEY of PID's line in harness sockstat output.
sockval() { grep "^pid=$1 " <<<"$3" | kv "$2" || :; }

log "building the harness"
(cd "$repo" && go build -o "$harness" ./deploy/loadtest/harness)
tck=$(getconf CLK_TCK)

# G.711 audio: the caller streams 1 kHz, the answerer 400 Hz, so a stereo
# recording can be checked channel by channel.
work="$OUT/work"
mkdir -p "$work"
sox -n -r 8000 -c 1 -e u-law -t raw "$work/caller.ulaw" synth 10 sine 1000 vol 0.3
sox -n -r 8000 -c 1 -e u-law -t raw "$work/callee.ulaw" synth 10 sine 400 vol 0.3
sox -n -r 8000 -c 1 -e a-law -t raw "$work/caller.alaw" synth 10 sine 1000 vol 0.3
sox -n -r 8000 -c 1 -e a-law -t raw "$work/callee.alaw" synth 10 sine 400 vol 0.3

# start_uas SCENARIO: the SIPp answerer for one scenario (uas_pid, uas_port).
uas_pid="" uas_port=""
start_uas() {
	local xml=${UAS_SCENARIO:-$here/uas.xml}
	[ "$1" = pcma ] && xml=${UAS_SCENARIO:-$here/uas-pcma.xml}
	uas_port=$("$harness" freeport -n 1)
	local uas_mp
	uas_mp=$("$harness" freeport -n 4)
	log "starting the SIPp answerer ($1) on 127.0.0.1:$uas_port (media $uas_mp), core $SIPP_CPU"
	(cd "$work" && exec taskset -c "$SIPP_CPU" sipp -sf "$xml" -i 127.0.0.1 -mi 127.0.0.1 \
		-p "$uas_port" -mp "$uas_mp" -nostdin -trace_err -error_file "$OUT/uas-$1_errors.log" \
		>"$OUT/uas-$1.out" 2>&1) &
	uas_pid=$!
	pids+=("$uas_pid")
	sleep 1
	kill -0 "$uas_pid" 2>/dev/null || { echo "run.sh: SIPp answerer did not start, see $OUT/uas-$1.out" >&2; exit 1; }
}

stop_uas() {
	kill "$uas_pid" 2>/dev/null || :
	wait "$uas_pid" 2>/dev/null || :
	forget "$uas_pid"
}

# start_harness TAG CALLEE [FLAG...]: the harness on core HARNESS_CPU,
# originating to CALLEE; sets hpid, sip and http from its READY line.
start_harness() {
	local tag=$1 callee=$2 i ready
	shift 2
	taskset -c "$HARNESS_CPU" "$harness" -callee "$callee" -rtp-min "$RTP_MIN" -rtp-max "$RTP_MAX" "$@" \
		>"$OUT/harness-$tag.out" 2>"$OUT/harness-$tag.err" &
	hpid=$!
	pids+=("$hpid")
	for i in $(seq 50); do
		grep -q '^READY' "$OUT/harness-$tag.out" 2>/dev/null && break
		sleep 0.1
	done
	ready=$(grep '^READY' "$OUT/harness-$tag.out") || {
		echo "run.sh: harness did not start, see $OUT/harness-$tag.err" >&2
		exit 1
	}
	sip=$(kv sip <<<"$ready")
	http=$(kv http <<<"$ready")
}

# stop_harness: ends the harness started by start_harness (it prints its
# final counters on the way out).
stop_harness() {
	kill "$hpid" 2>/dev/null || :
	wait "$hpid" || :
	forget "$hpid"
}

# start_switch MODE TAG: a fresh FreeSWITCH or Asterisk on core
# HARNESS_CPU whose own dialplan bridges number 901 to the SIPp answerer,
# with MODE record recording each call in stereo into $recdir/TAG. Sets
# hpid (the switch's PID) and sip (its SIP address).
start_switch() {
	local mode=$1 tag=$2 ov="$work/overlay-$2" sport ctl
	sw_name="hlrun$$$tag"
	sport=$("$harness" freeport -n 1)
	ctl=$("$harness" freeport -n 1)
	mkdir -p "$ov" "$recdir/$tag"
	# RTP ports below the kernel's ephemeral range and the core's
	# RTP_MIN..RTP_MAX (see callpath.sh).
	local common=(--sip-port "$sport" --rtp-min 10000 --rtp-max 14999 --overlay "$ov"
		--var "UAS_PORT=$uas_port" --var "RECDIR=$recdir/$tag")
	if [ "$SYSTEM" = freeswitch ]; then
		mkdir -p "$ov/dialplan/public"
		local rec=""
		[ "$mode" != record ] ||
			rec='<action application="set" data="RECORD_STEREO=true"/><action application="record_session" data="@RECDIR@/${uuid}.wav"/>'
		cat >"$ov/dialplan/public/00_load.xml" <<EOF
<include>
  <extension name="load">
    <condition field="destination_number" expression="^901\$">
      $rec
      <action application="bridge" data="sofia/hotline/uas@127.0.0.1:@UAS_PORT@"/>
    </condition>
  </extension>
</include>
EOF
		taskset -c "$HARNESS_CPU" "$PEERS_SH" start freeswitch "$sw_name" --esl-port "$ctl" \
			--esl-password "load$$" "${common[@]}" >"$OUT/switch-$tag.out" 2>&1
	else
		mkdir -p "$ov/extensions.d"
		{
			printf '[from-hotline]\nexten => 901,1,NoOp()\n'
			[ "$mode" != record ] || printf ' same => n,MixMonitor(@RECDIR@/${UNIQUEID}.raw,D)\n'
			printf ' same => n,Dial(PJSIP/hotline/sip:uas@127.0.0.1:@UAS_PORT@)\n same => n,Hangup()\n'
		} >"$ov/extensions.d/10-load.conf"
		taskset -c "$HARNESS_CPU" "$PEERS_SH" start asterisk "$sw_name" --http-port "$ctl" \
			"${common[@]}" >"$OUT/switch-$tag.out" 2>&1
	fi || {
		echo "run.sh: $SYSTEM did not start, see $OUT/switch-$tag.out" >&2
		exit 1
	}
	hpid=$("$PEERS_SH" status "$sw_name" | awk 'NR > 1 { print $3 }')
	sip="127.0.0.1:$sport"
}

# switch_active: calls the switch has bridged now.
switch_active() {
	if [ "$SYSTEM" = freeswitch ]; then
		"$PEERS_SH" cli "$sw_name" "show calls count" 2>/dev/null | awk '/total/ { print $1; exit }'
	else
		"$PEERS_SH" cli "$sw_name" "bridge show all" 2>/dev/null | awk '/^Bridge-ID/ { n = 0; next } { n++ } END { print n + 0 }'
	fi
}

stop_switch() {
	"$PEERS_SH" stop "$sw_name" >/dev/null 2>&1 || :
	sw_name=""
}

# active_now: calls bridged by the system under test now.
active_now() {
	if [ "$SYSTEM" = native ]; then
		curl -sf "http://$http/stats" | kv active || :
	else
		switch_active
	fi
}

results="$OUT/results.txt"
header=$(printf "%-5s %-7s %5s %7s %8s %6s %16s %12s %11s %6s %15s %6s %8s %13s %13s %7s %14s %5s %10s %9s" \
	scen mode calls bridged window_s cpu_s cpu_s_per_call_s marginal_per_call_s rss_base_mb rss_mb rss_mb_per_call failed media_to \
	rtp_to_caller rtp_to_callee rec_ok flow_both_ways load1 "cpu${HARNESS_CPU}_steal" sipp_cpu)
printf '%s\n' "$header" >"$results"

# idle_step: the harness alone, 0 calls, over WINDOW: its fixed cost
# (idle_cpu_s, used by the marginal column).
idle_cpu_s=0
idle_step() {
	local tag=idle hpid sip http
	log "idle: starting the $SYSTEM system on core $HARNESS_CPU, 0 calls"
	if [ "$SYSTEM" = native ]; then
		start_harness "$tag" "sip:uas@127.0.0.1:9"
	else
		uas_port=9
		start_switch relay "$tag"
	fi
	sleep "$SETTLE"
	local c0 c1 t0 t1 rss
	c0=$(cputicks "$hpid")
	t0=$(now)
	sleep "$WINDOW"
	c1=$(cputicks "$hpid")
	t1=$(now)
	rss=$(rsskb "$hpid")
	if [ "$SYSTEM" = native ]; then
		stop_harness
	else
		stop_switch
	fi
	idle_cpu_s=$(awk -v c0="$c0" -v c1="$c1" -v tck="$tck" -v t0="$t0" -v t1="$t1" -v w="$WINDOW" 'BEGIN { printf "%.4f", (c1 - c0) / tck * w / (t1 - t0) }')
	awk -v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" -v tck="$tck" -v rss="$rss" -v load1="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
		printf "%-5s %-7s %5d %7d %8.1f %6.2f %16s %12s %11.1f %6.1f %15s %6s %8s %13s %13s %7s %14s %5s %10s %9s\n",
			"-", "idle", 0, 0, t1 - t0, (c1 - c0) / tck, "-", "-", rss / 1024, rss / 1024, "-", "-", "-", "-", "-", "-", "-", load1, "-", "-"
	}' | tee -a "$results"
}

run_step() {
	local scen=$1 mode=$2 n=$3 tag="$1-$2-$3"
	local hpid i sip http="" dial=hotline
	if [ "$SYSTEM" = native ]; then
		local rec_flag=()
		[ "$mode" = record ] && rec_flag=(-record -record-dir "$recdir/$tag")
		log "step $tag: starting the harness on core $HARNESS_CPU"
		start_harness "$tag" "sip:uas@127.0.0.1:$uas_port" "${rec_flag[@]}"
	else
		log "step $tag: starting $SYSTEM on core $HARNESS_CPU"
		start_switch "$mode" "$tag"
		dial=901
	fi
	sleep 2
	local rss_base
	rss_base=$(rsskb "$hpid")

	local ramp=$(((n + RATE - 1) / RATE))
	local hold_s=$((ramp + SETTLE + WINDOW + TAIL + 5))
	local uac_mp
	uac_mp=$("$harness" freeport -n 4)
	log "step $tag: $n calls at $RATE/s, each held ${hold_s}s"
	local uac_xml=${UAC_SCENARIO:-$here/uac.xml}
	[ "$scen" = pcma ] && uac_xml=${UAC_SCENARIO:-$here/uac-pcma.xml}
	(cd "$work" && exec taskset -c "$SIPP_CPU" sipp -sf "$uac_xml" -i 127.0.0.1 -mi 127.0.0.1 \
		-mp "$uac_mp" -s "$dial" "$sip" -m "$n" -l "$n" -r "$RATE" -d "$((hold_s * 1000))" \
		-nostdin -trace_err -error_file "$OUT/uac-$tag-errors.log" >"$OUT/uac-$tag.out" 2>&1) &
	local uac_pid=$!
	pids+=("$uac_pid")

	# Ramp-up: wait until every call is bridged (or the ramp clearly failed).
	local st active=0 deadline=$((SECONDS + ramp + 20))
	while [ "$SECONDS" -lt "$deadline" ]; do
		active=$(active_now)
		[ "${active:-0}" -ge "$n" ] && break
		kill -0 "$uac_pid" 2>/dev/null || break
		sleep 0.5
	done
	[ "${active:-0}" -ge "$n" ] || log "step $tag: only ${active:-0} of $n calls bridged after ramp-up"
	sleep "$SETTLE"

	local prof_pid=""
	if [ "$PROFILE" = 1 ] && [ "$SYSTEM" = native ]; then
		taskset -c "$SIPP_CPU" curl -sf -o "$OUT/cpu-$tag.pprof" "http://$http/debug/pprof/profile?seconds=$WINDOW" &
		prof_pid=$!
		pids+=("$prof_pid")
	fi
	# Kernel counters and their own clock first (one sockstat reads both
	# SIPps at one instant), then the CPU counters back to back with theirs.
	local t0 c0 cpu0 a0 ts0 socks0 sp0 sp1
	a0=$(active_now)
	ts0=$(now)
	socks0=$("$harness" sockstat "$uac_pid" "$uas_pid" 2>/dev/null) || :
	cpu0=$(cpuline "$HARNESS_CPU")
	sp0=$(($(cputicks "$uac_pid") + $(cputicks "$uas_pid")))
	c0=$(cputicks "$hpid")
	t0=$(now)
	sleep "$WINDOW"
	local t1 c1 rss1 cpu1 a1 ts1 socks1
	c1=$(cputicks "$hpid")
	t1=$(now)
	sp1=$(($(cputicks "$uac_pid") + $(cputicks "$uas_pid")))
	cpu1=$(cpuline "$HARNESS_CPU")
	rss1=$(rsskb "$hpid")
	ts1=$(now)
	socks1=$("$harness" sockstat "$uac_pid" "$uas_pid" 2>/dev/null) || :
	a1=$(active_now)
	local load1
	load1=$(cut -d' ' -f1 /proc/loadavg)
	if [ -n "$prof_pid" ]; then
		wait "$prof_pid" || log "step $tag: CPU profile failed"
		forget "$prof_pid"
	fi

	log "step $tag: window done, waiting for the calls to end"
	local limit=$((SECONDS + hold_s + ramp + 30))
	while kill -0 "$uac_pid" 2>/dev/null && [ "$SECONDS" -lt "$limit" ]; do
		sleep 1
	done
	kill "$uac_pid" 2>/dev/null || :
	wait "$uac_pid" 2>/dev/null || :
	forget "$uac_pid"
	# Let the last BYEs, bridge teardowns and recording checks finish.
	local stf
	if [ "$SYSTEM" = native ]; then
		for i in $(seq 30); do
			stf=$(curl -sf "http://$http/stats") || stf=""
			[ "$(kv active <<<"$stf")" = 0 ] && { [ "$mode" != record ] || [ "$(kv rec_finished <<<"$stf")" = "$(kv rec_started <<<"$stf")" ]; } && break
			sleep 1
		done
		stop_harness
		# The harness prints its final counters once its recording checks ended.
		stf=$(grep '^FINAL' "$OUT/harness-$tag.out" | sed 's/^FINAL //') || stf=""
	else
		for i in $(seq 30); do
			[ "$(switch_active)" = 0 ] && break
			sleep 1
		done
		stop_switch
		# No failure or media-timeout counters of the switch's own: SIPp's
		# failed calls and the flow figures tell; recordings are checked
		# like the harness's (harness checkrecs).
		stf="failed=0 media_timeouts=- bridged=$a1"
		if [ "$mode" = record ]; then
			local raw=() files=("$recdir/$tag"/*)
			[ "$SYSTEM" = asterisk ] && raw=(-raw)
			[ -e "${files[0]}" ] || files=()
			stf="$stf $("$harness" checkrecs "${raw[@]}" "${files[@]}" 2>"$OUT/checkrecs-$tag.err")"
		fi
	fi
	echo "$stf" >"$OUT/stats-$tag.txt"
	local uac_failed
	uac_failed=$(grep -E '^ +Failed call' "$OUT/uac-$tag.out" | tail -1 | awk -F'|' '{ gsub(/ /, "", $3); print $3 }')

	if [ "$PROFILE" = 1 ] && [ -s "$OUT/cpu-$tag.pprof" ]; then
		(cd "$repo" && go tool pprof -top -nodecount=30 "$harness" "$OUT/cpu-$tag.pprof") >"$OUT/cpu-$tag.top" 2>/dev/null || :
	fi

	awk -v scen="$scen" -v mode="$mode" -v n="$n" -v tck="$tck" -v idle="$idle_cpu_s" -v window="$WINDOW" \
		-v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" \
		-v rb="$rss_base" -v r1="$rss1" \
		-v a0="$a0" -v a1="$a1" \
		-v failed="$(kv failed <<<"$stf")" -v uacfailed="${uac_failed:-0}" \
		-v mto="$(kv media_timeouts <<<"$stf")" \
		-v ts0="$ts0" -v ts1="$ts1" \
		-v uacd0="$(sockval "$uac_pid" drops "$socks0")" -v uacd1="$(sockval "$uac_pid" drops "$socks1")" \
		-v uasd0="$(sockval "$uas_pid" drops "$socks0")" -v uasd1="$(sockval "$uas_pid" drops "$socks1")" \
		-v uacq0="$(sockval "$uac_pid" rx_queue "$socks0")" -v uacq1="$(sockval "$uac_pid" rx_queue "$socks1")" \
		-v uasq0="$(sockval "$uas_pid" rx_queue "$socks0")" -v uasq1="$(sockval "$uas_pid" rx_queue "$socks1")" \
		-v recok="$(kv rec_ok <<<"$stf")" -v bridged="$(kv bridged <<<"$stf")" \
		-v load1="$load1" -v cpu0="$cpu0" -v cpu1="$cpu1" -v sp0="$sp0" -v sp1="$sp1" '
	BEGIN {
		el = t1 - t0
		act = (a0 + a1) / 2
		cs = act * el
		cpu = (c1 - c0) / tck
		per = cs > 0 ? cpu / cs : 0
		# marginal: minus what the idle harness spends over the same time
		marg = cs > 0 ? (cpu - idle * el / window) / cs : 0
		rss = r1 / 1024; base = rb / 1024
		perc = n > 0 ? (r1 - rb) / 1024 / n : 0
		# Packets the core sent to each SIPp during the window: the
		# socket is never read, so once its queue is full every arrival
		# is a drop; a queue still filling adds its growth (~768 bytes of
		# truesize per 172-byte datagram).
		want = 50 * act * (ts1 - ts0)
		toc = want > 0 ? ((uacd1 - uacd0) + (uacq1 - uacq0) / 768) / want : 0
		toe = want > 0 ? ((uasd1 - uasd0) + (uasq1 - uasq0) / 768) / want : 0
		rec = mode == "record" ? recok "/" bridged : "-"
		fail = failed + uacfailed
		flow = (toc >= 0.95 && toe >= 0.95 && (mto == "-" || mto == 0) && (mode != "record" || recok == bridged)) ? "yes" : "NO"
		split(cpu0, x0, " "); split(cpu1, x1, " ")
		steal = (x1[1] - x0[1]) > 0 ? 100 * (x1[2] - x0[2]) / (x1[1] - x0[1]) : 0
		sipp = 100 * (sp1 - sp0) / tck / el
		printf "%-5s %-7s %5d %7d %8.1f %6.2f %16.5f %12.5f %11.1f %6.1f %15.4f %6d %8s %13.3f %13.3f %7s %14s %5s %9.1f%% %8.0f%%\n",
			scen, mode, n, a1, el, cpu, per, marg, base, rss, perc, fail, mto, toc, toe, rec, flow, load1, steal, sipp
	}' | tee -a "$results"
}

[ "$IDLE" = 1 ] && idle_step
for scen in $SCENARIOS; do
	start_uas "$scen"
	for mode in $MODES; do
		for n in $STEPS; do
			run_step "$scen" "$mode" "$n"
		done
	done
	stop_uas
done

{
	echo
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  machine: $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
	echo "system under test: $SYSTEM"
	echo "harness on core $HARNESS_CPU, both SIPps on core $SIPP_CPU; window ${WINDOW}s; ramp $RATE calls/s; idle harness ${idle_cpu_s} CPU-s per ${WINDOW}s"
	echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "aims (issue 14, native): <= 0.0010 CPU-s per call-second bridged, <= 0.0012 with stereo recording, <= 0.1 MB per call"
} >>"$results"
log "results in $results"
cat "$results"
