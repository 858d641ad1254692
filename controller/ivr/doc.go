// Package ivr owns IVR flows (R2.1-R2.4): their JSON form, their
// validation on save, and their execution against one call through a small
// interface the controller's call actor implements.
//
// It must not import a media backend (mediacore and below), net/http, gin
// or a database driver: time comes from hotline/internal/clock, the call
// from a Session, schedules, lists and HTTP lookups from an Env. The
// net/http Lookuper lives in the subpackage ivr/ivrhttp.
//
// # Flows
//
// A flow is a graph of named nodes entered at "start". A customer edits it
// as JSON (R2.1): Parse decodes it strictly (an unknown field is refused
// and named) and Validate checks it; both return a *ValidationError naming
// the node and the field. An example, a card service line in the style of a
// bank hotline (balance enquiry by the last four digits of a card, a person
// on 0 from any menu or gather, voicemail after hours):
//
//	{
//	  "id": "bank-main",
//	  "name": "Card services",
//	  "version": 3,
//	  "language": "zh",
//	  "start": "hours",
//	  "escape": {"key": "0", "target": "agent"},
//	  "nodes": {
//	    "hours": {"type": "condition", "schedule": "service-hours",
//	      "open": "vip", "closed": "after_hours", "holiday": "after_hours"},
//	    "vip": {"type": "condition", "list": "vip", "then": "agent_vip", "else": "main"},
//	    "main": {"type": "menu",
//	      "prompt": [
//	        {"file": "prompts/main.wav", "text": "查询余额请按1，人工服务请按0。"},
//	        {"text": "For your balance, press 1. For an agent, press 0.", "voice": "en"}],
//	      "choices": {"1": "card"},
//	      "timeout_ms": 5000, "retries": 2,
//	      "invalid_prompt": [{"text": "输入有误。"}],
//	      "timeout_prompt": [{"text": "没有收到您的输入。"}],
//	      "on_failure": "agent"},
//	    "card": {"type": "gather",
//	      "prompt": [{"text": "请输入卡号后四位，以井号键结束。"}],
//	      "var": "last4", "min_digits": 4, "max_digits": 4, "terminator": "#",
//	      "pattern": "[0-9]{4}", "retries": 2,
//	      "invalid_prompt": [{"text": "卡号有误。"}],
//	      "next": "lookup", "on_failure": "agent"},
//	    "lookup": {"type": "http", "method": "GET",
//	      "url": "https://core.bank.example/ivr/balance?caller=${caller}&card=${last4}",
//	      "timeout_ms": 3000, "result": {"balance": "data.balance"},
//	      "next": "say_balance", "on_failure": "sorry"},
//	    "say_balance": {"type": "play", "prompt": [{"text": "您的余额是${balance}元。"}], "next": "main"},
//	    "sorry": {"type": "play", "prompt": [{"text": "系统繁忙，为您转接人工。"}], "next": "agent"},
//	    "agent": {"type": "queue", "queue": "cards", "skills": [{"skill": "zh", "min_level": 1}]},
//	    "agent_vip": {"type": "queue", "queue": "cards", "priority": 10},
//	    "after_hours": {"type": "voicemail", "box": "cards"}
//	  }
//	}
//
// Nodes ("type", then its fields; every node may carry a "note"):
//
//	play       prompt[], next
//	menu       prompt[], choices{key: node}, timeout_ms, retries,
//	           invalid_prompt[], timeout_prompt[], on_failure
//	gather     prompt[], var, min_digits, max_digits, terminator, pattern,
//	           timeout_ms, inter_digit_timeout_ms, retries, invalid_prompt[],
//	           timeout_prompt[], next, on_failure
//	http       method (GET|POST), url, body, timeout_ms, result{var: path},
//	           next, on_failure
//	condition  schedule + open, closed, holiday
//	           | list (+ number) + then, else
//	           | var, op (eq ne prefix regex lt le gt ge), value + then, else
//	set        vars{var: template}, next
//	goto       target
//	queue      queue, priority, skills[{skill, min_level}]   (terminal)
//	transfer   extension | number                            (terminal)
//	voicemail  box                                           (terminal)
//	hangup                                                   (terminal)
//
// A prompt is {"file"}, {"text", "voice"} or {"tone", "duration_ms"}; a
// recorded file wins over a text given with it, and a text without a voice
// is spoken in the flow's "language" ("zh" or "en"), so one flow can speak
// both (the demo flow, DemoFlow, does). Texts, set values, list numbers,
// comparison values, URLs and bodies are templates: ${var} is replaced by
// a call variable (caller, called, and what set, gather and http nodes
// assigned), URL-escaped in URLs and JSON-escaped in bodies.
//
// A menu or gather that gets an invalid entry or none plays invalid_prompt
// or timeout_prompt and its prompt again, at most "retries" times, then
// goes to on_failure. The flow's "escape" key reaches its target (usually
// a queue, a person) from any menu or gather (R2.4).
//
// The only nodes that wait for the caller are menus and gathers, so
// Validate refuses a cycle of nodes without one (it would run without end);
// Run also stops after Env.MaxSteps nodes.
//
// # Execution
//
// Run executes a flow in the caller's goroutine, the call actor: prompts
// and DTMF through the Session (Play, PlayAndCollect), schedules, lists and
// lookups through the Env. It returns a Result: how the flow ended (a queue
// to enqueue to, a transfer target, a voicemail box, a hangup, or the
// caller hanging up), the variables, the path of nodes with time stamps
// (the CDR's IVR path) and the version of the flow it ran: a call keeps the
// version it started on because the controller hands Run the *Flow it
// loaded when the call arrived.
package ivr
