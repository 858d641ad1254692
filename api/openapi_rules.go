package api

import "hotline/controller"

// Request-body rules as OpenAPI keywords, so that clients can validate
// before sending. They restate what validate.go and resources.go enforce
// (the tests check each against the server); nested objects are checked
// by the server only.
var (
	nameRule      = map[string]any{"minLength": 1, "maxLength": maxName}
	shortTextRule = map[string]any{"maxLength": maxName}
	textRule      = map[string]any{"maxLength": maxText}
	extensionRule = map[string]any{"pattern": "^[0-9]{2,8}$"}
	phoneRule     = map[string]any{"pattern": `^\+?[0-9]{1,32}$`}
	// Optional fields may be empty: "" means none.
	optPhoneRule = map[string]any{"pattern": `^(\+?[0-9]{1,32})?$`}
	optIDRule    = map[string]any{"pattern": "^([A-Za-z0-9_-]{1,64})?$"}
)

func intRange(lo, hi int) map[string]any { return map[string]any{"minimum": lo, "maximum": hi} }

func secretRule(lo, hi int) map[string]any { return map[string]any{"minLength": lo, "maxLength": hi} }

// inputRequired lists, per request schema, the fields without a default.
var inputRequired = map[string][]string{
	"UserInput":      {"username"},
	"AgentInput":     {"name", "extension"},
	"SkillInput":     {"name"},
	"QueueInput":     {"name"},
	"NumberInput":    {"number", "route"},
	"TrunkInput":     {"name", "host"},
	"ScheduleInput":  {"name"},
	"ListEntryInput": {"list", "pattern"},
	"LoginInput":     {"username", "password"},
	"TokenInput":     {"name"},
	// The supervisor actions (supervise.go).
	"SuperviseRequest":   {"mode", "device"},
	"SuperviseModeInput": {"mode"},
}

// inputRules are the bounds of request-schema fields.
var inputRules = map[string]map[string]map[string]any{
	"UserInput": {
		"username":     {"minLength": 1, "maxLength": maxName, "pattern": "^[A-Za-z0-9._@-]+$"},
		"display_name": shortTextRule,
		"team":         shortTextRule,
		"agent_id":     optIDRule,
		"password":     secretRule(8, 72),
	},
	"AgentInput": {
		"name":          nameRule,
		"extension":     extensionRule,
		"team":          shortTextRule,
		"mobile_number": optPhoneRule,
		"sip_password":  secretRule(8, 128),
	},
	"SkillInput": {
		"name":        nameRule,
		"description": textRule,
	},
	"QueueInput": {
		"name":            nameRule,
		"priority":        intRange(0, 100),
		"ring_timeout":    intRange(5, 300),
		"wrap_up":         intRange(0, 3600),
		"max_wait":        intRange(0, 86400),
		"max_length":      intRange(0, 10000),
		"no_answer_limit": intRange(0, 100),
		"music_on_hold":   textRule,
		"members":         {"maxItems": maxItems},
		"required_skills": {"maxItems": maxItems},
	},
	"NumberInput": {
		"number":      phoneRule,
		"name":        shortTextRule,
		"schedule_id": optIDRule,
		"greeting":    textRule,
	},
	"TrunkInput": {
		"name":              nameRule,
		"host":              {"minLength": 1, "maxLength": 253},
		"port":              intRange(1, 65535),
		"username":          shortTextRule,
		"password":          secretRule(1, 128),
		"priority":          intRange(0, 1000),
		"inbound_addresses": {"maxItems": 100},
		"caller_id":         optPhoneRule,
		"max_channels":      intRange(0, 100000),
	},
	"ScheduleInput": {
		"name": nameRule,
	},
	"ListEntryInput": {
		"pattern": phoneRule,
		"note":    textRule,
	},
	"SuperviseRequest":   {"mode": superviseModeRule, "device": {"minLength": 1, "maxLength": 256}},
	"SuperviseModeInput": {"mode": superviseModeRule},
}

// superviseModeRule lists the supervision modes.
var superviseModeRule = map[string]any{"enum": controller.SuperviseModes}

// applyInputRules adds required and bounds to a request schema component.
func applyInputRules(name string, comp map[string]any) {
	if req, ok := inputRequired[name]; ok {
		comp["required"] = req
	}
	props, _ := comp["properties"].(map[string]any)
	for field, kw := range inputRules[name] {
		p, ok := props[field].(map[string]any)
		if !ok {
			continue
		}
		merged := make(map[string]any, len(p)+len(kw))
		for k, v := range p {
			merged[k] = v
		}
		for k, v := range kw {
			merged[k] = v
		}
		props[field] = merged
	}
}
