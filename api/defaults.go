package api

import (
	"time"

	"hotline/controller/store"
)

// Every default of the API lives here. A request body is decoded over a
// record pre-filled by the functions below, so a field the client omits
// takes its default while an explicit value (even 0 or false) is kept; the
// same holds for PUT, which replaces the whole record.
const (
	defaultSIPRealm    = "hotline"
	defaultSessionTTL  = 12 * time.Hour
	defaultBcryptCost  = 10
	readyTimeout       = time.Second
	loginMaxFailures   = 10              // failed logins per username+address ...
	loginFailureWindow = 5 * time.Minute // ... within this window lock that pair out
	// touchEvery throttles writes of a token's LastUsedAt.
	touchEvery = time.Minute
)

func defaultUser() store.User { return store.User{Role: store.RoleAgent} }

func defaultAgent() store.Agent { return store.Agent{Skills: []store.SkillLevel{}} }

func defaultSkill() store.Skill { return store.Skill{} }

func defaultQueue() store.Queue {
	return store.Queue{
		Strategy:         store.StrategyLongestIdle,
		Members:          []store.QueueMember{},
		RequiredSkills:   []store.SkillLevel{},
		RingTimeout:      20,
		WrapUp:           10,
		MaxWait:          0, // unlimited
		MaxLength:        0, // unlimited
		NoAnswerLimit:    3, // three missed offers in a row set the agent not-ready
		JoinWhenNoAgents: true,
		Announcements:    store.Announcements{PositionEvery: 0, ExpectedWait: false},
		Recording:        store.RecordingPolicy{Mode: store.RecordNone},
	}
}

func defaultNumber() store.Number { return store.Number{} }

func defaultTrunk() store.Trunk {
	return store.Trunk{
		Port: 5060, Transport: store.TransportUDP, Priority: 10,
		InboundAddresses: []string{}, Enabled: true,
	}
}

func defaultSchedule() store.Schedule {
	return store.Schedule{
		TimeZone: "UTC", Weekly: []store.WeeklyHours{}, Holidays: []store.Holiday{},
		ExtraWorkdays: []string{}, ExtraWorkdayAs: time.Monday,
	}
}

func defaultListEntry() store.ListEntry { return store.ListEntry{Match: store.MatchExact} }
