#!/usr/bin/env python3
"""Issue 9's call path latencies and queue order, from callpath.sh LATENCY=1 output.

Inputs (all in callpath.sh's $OUT):
  uac.log   lines "INVITE <s> <us> callerN": the caller's INVITE send time (uac.xml)
  uas.log   lines "INVITE <s> <us> agentM callerN" and "BYE <s> <us> agentM callerN":
            when the answerer (every agent's device) received the offer or the BYE (uas.xml)
  cdrs.json every CDR of the run (GET /api/v1/cdrs, all pages)

Figures (all times from one host clock, gettimeofday in both SIPps):
  offer      caller INVITE sent -> first INVITE for that caller received by an agent
             device. With free agents this is Hotline's routing + offer latency;
             when callers queue it is their wait.
  next-offer BYE received by agent M -> the next INVITE received by agent M: an agent
             freed (its leg hung up; wrap-up 0) to the next waiting caller offered.
             Only meaningful while callers are waiting (fewer agents than callers);
             with free agents it is the agent's idle time.
  overtaken  answered callers who reached an agent while a caller who joined the same
             queue earlier was still waiting (answered later, or gave up later), from
             the CDRs' enqueued_at, answer and end. One priority here (callpath.sh).
"""
import json
import re
import sys
from collections import defaultdict
from datetime import datetime


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(p * (len(values) - 1) + 0.5))]


def stamp(s, us):
    # SIPp prints variables as doubles ("1765123456.000000"); us is the
    # microseconds part.
    return float(s) + float(us) / 1e6


def read_log(path):
    out = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 4 and parts[0] in ("INVITE", "BYE"):
                out.append((parts[0], stamp(parts[1], parts[2]), parts[3:]))
    return out


def when(s):
    """Seconds since the epoch of an RFC 3339 time with up to nanoseconds
    (Go's time.Time JSON); Python's parser takes at most microseconds."""
    if not s:
        return None
    s = s.replace("Z", "+00:00")
    m = re.match(r"^([^.]*)(?:\.(\d+))?(.*)$", s)
    frac = ((m.group(2) or "") + "000000")[:6]
    return datetime.fromisoformat(f"{m.group(1)}.{frac}{m.group(3)}").timestamp()


def summary(name, ms):
    if not ms:
        print(f"{name}: no samples")
        return
    print(f"{name}: n={len(ms)} p50={pct(ms, .5):.2f} ms p95={pct(ms, .95):.2f} ms "
          f"p99={pct(ms, .99):.2f} ms max={max(ms):.2f} ms")


def main(out):
    sent = {}
    for kind, t, rest in read_log(f"{out}/uac.log"):
        sent.setdefault(rest[0], t)
    offered = {}
    by_agent = defaultdict(list)
    for kind, t, rest in read_log(f"{out}/uas.log"):
        agent = rest[0]
        caller = rest[1] if len(rest) > 1 else ""
        by_agent[agent].append((t, kind))
        if kind == "INVITE" and caller in sent:
            offered.setdefault(caller, t)
    offer = [1000 * (offered[c] - sent[c]) for c in offered]
    summary("caller INVITE -> agent INVITE", offer)
    print(f"  callers sent {len(sent)}, offered {len(offered)}")
    gaps = []
    for evs in by_agent.values():
        evs.sort()
        for (t0, k0), (t1, k1) in zip(evs, evs[1:]):
            if k0 == "BYE" and k1 == "INVITE":
                gaps.append(1000 * (t1 - t0))
    summary("agent BYE -> next INVITE to that agent", gaps)

    try:
        with open(f"{out}/cdrs.json") as f:
            cdrs = json.load(f)
    except FileNotFoundError:
        return
    by_queue = defaultdict(list)
    for c in cdrs:
        enq = when(c.get("enqueued_at"))
        if enq is None:
            continue
        ans = when(c.get("answer"))
        served = ans if ans is not None else when(c.get("end"))
        by_queue[c.get("queue")].append((enq, ans, served))
    overtaken = overtaken_10ms = answered = 0
    for rows in by_queue.values():
        rows.sort(key=lambda r: r[0])
        latest = float("-inf")  # the latest time an earlier caller stopped waiting
        i = 0
        while i < len(rows):
            # Callers who joined at the very same instant are not ordered.
            j = i
            while j < len(rows) and rows[j][0] == rows[i][0]:
                j += 1
            for enq, ans, served in rows[i:j]:
                if ans is None:
                    continue
                answered += 1
                if latest > ans:
                    overtaken += 1
                    if latest - ans > 0.010:
                        overtaken_10ms += 1
            for _, _, served in rows[i:j]:
                latest = max(latest, served)
            i = j
    print(f"queued CDRs {sum(len(r) for r in by_queue.values())}, answered {answered}: "
          f"overtaken {overtaken} (by more than 10 ms: {overtaken_10ms})")

    # The same by offer: the first INVITE an agent's device received for
    # each caller (uas.log), against the callers' order of joining the
    # queue. It leaves out how fast each agent answered, which a starved
    # daemon or answerer stretches at random.
    joined = {}
    for c in cdrs:
        enq = when(c.get("enqueued_at"))
        if enq is not None:
            joined[c.get("caller")] = (c.get("queue"), enq, when(c.get("end")))
    by_queue = defaultdict(list)
    for caller, (queue, enq, end) in joined.items():
        by_queue[queue].append((enq, offered.get(caller), end))
    over = over_10ms = 0
    for rows in by_queue.values():
        rows.sort(key=lambda r: r[0])
        latest = float("-inf")  # the latest an earlier caller was still unoffered
        for enq, off, end in rows:
            if off is not None and latest > off:
                over += 1
                if latest - off > 0.010:
                    over_10ms += 1
            stop = off if off is not None else end
            if stop is not None:
                latest = max(latest, stop)
    print(f"offered before an earlier-queued caller: {over} (by more than 10 ms: {over_10ms})")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
