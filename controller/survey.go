package controller

import (
	"strconv"

	"hotline/controller/store"
	"hotline/mediacore"
)

// The post-call survey (R2.6). When the agent hangs up on a caller whose
// queue or access number has Survey set, the caller is not hung up:
// after the conversation is over for the ACD (the agent is in wrap-up),
// the caller hears the question and presses 1-5; the score goes to the
// CDR's survey field, which the reports average per agent (docs/METRICS.md
// "survey score"). No key, or another key twice, leaves the CDR without
// a score. The caller hanging up first skips it.

// surveyTries is how many times the question is asked (each waits
// vmKeyTimeout for the key).
const surveyTries = 2

var (
	surveyAsk    = vmText{"请对本次服务进行评价，非常满意请按5，非常不满意请按1。", "Please rate our service from 1 to 5, 5 being very satisfied."}
	surveyThanks = vmText{"感谢您的评价，再见。", "Thank you for your feedback. Goodbye."}
)

// wantSurvey says whether the caller goes to the survey once the agent
// hung up (an agent conversation of a queue or number asking for it).
func (c *call) wantSurvey(l *leg) bool {
	if l == nil || l.agent == "" || c.gone {
		return false
	}
	if c.queue != nil && c.queue.Survey {
		return true
	}
	n, ok := c.cc.ctl.routes.Lookup(c.in.Called)
	return ok && n.Survey
}

// runSurvey asks the survey when the agent's hangup left it due.
func (c *call) runSurvey() {
	if !c.surveyDue || c.gone {
		return
	}
	c.surveyDue = false
	c.destroyBridge()
	// The conversation's recording ends with the conversation.
	if c.rec != nil && c.rec.kind == "call" {
		c.stopRecording()
	}
	c.setView(func(v *LiveCall) { v.State = "survey" })
	for range surveyTries {
		d, ok := c.menuAsk([]mediacore.Media{mediacore.TTS(c.voice(), surveyAsk.in(c.lang)), mediacore.ToneFor(mediacore.ToneBeep, 0)}, 1, "")
		if !ok {
			return
		}
		if n, err := strconv.Atoi(d); err == nil && n >= 1 && n <= 5 {
			c.cdr.Survey = &n
			c.publish("call.survey", c.agentID(), nil, map[string]any{"score": n})
			c.sayAndWait([]mediacore.Media{mediacore.TTS(c.voice(), surveyThanks.in(c.lang))})
			break
		}
	}
	c.hangupCaller(mediacore.CauseNormal, store.SideSystem)
}
