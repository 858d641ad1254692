// Package erlang holds Erlang C staffing math (M/M/N queue with infinite
// patience) for supervisors' what-if views and the dialer: probability of
// waiting, service level, average speed of answer, and the agents needed for
// a service-level target.
//
// Traffic A is in Erlangs: arrival rate x average handle time. The formulas
// are the textbook ones (e.g. Gans, Koole & Mandelbaum, "Telephone call
// centers: tutorial, review and research prospects", 2003, section 4.1):
//
//	C(N, A)  = N*B / (N - A*(1-B)), with B the Erlang B blocking probability,
//	SL(t)    = 1 - C(N, A) * exp(-(N-A) * t / AHT),
//	ASA      = C(N, A) * AHT / (N - A).
//
// Erlang B is computed by its recurrence B(0)=1, B(k)=A*B(k-1)/(k+A*B(k-1)),
// which is stable for thousands of agents where factorials overflow.
//
// It must import only the standard library and do no I/O: it is pure math
// shared by acd, the controller's supervisor views and campaigns.
package erlang
