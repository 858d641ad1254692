package storetest

import (
	"context"
	"fmt"
	"time"

	"hotline/controller/store"
)

// The fixtures fill every field, so a column that is not written or read
// back shows up as a round-trip difference. Mutators replace slices instead
// of editing them in place, because copies of a record share backing arrays.

var userSuite = repoSuite[store.User]{
	repo: func(s store.Store) store.Repo[store.User] { return s.Users() },
	make: func(i int) store.User {
		return store.User{
			Username:     fmt.Sprintf("user%04d", i),
			DisplayName:  fmt.Sprintf("User 张%d", i),
			PasswordHash: "$2a$10$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01",
			Role:         store.Roles[i%len(store.Roles)],
			AgentID:      fmt.Sprintf("agent-%d", i),
			Team:         "blue",
			Disabled:     i%2 == 1,
		}
	},
	mutate: func(v *store.User) {
		v.DisplayName += " (edited)"
		v.Role = store.RoleSupervisor
		v.Disabled = !v.Disabled
		v.Team = ""
	},
	setKey: func(v *store.User, from store.User) { v.Username = from.Username },
	getByKey: func(ctx context.Context, s store.Store, like store.User) (store.User, error) {
		return s.Users().GetByUsername(ctx, like.Username)
	},
}

var agentSuite = repoSuite[store.Agent]{
	repo: func(s store.Store) store.Repo[store.Agent] { return s.Agents() },
	make: func(i int) store.Agent {
		a := store.Agent{
			Name:         fmt.Sprintf("Agent %d", i),
			Extension:    fmt.Sprintf("%04d", 1000+i),
			SIPHA1MD5:    "0123456789abcdef0123456789abcdef",
			SIPHA1SHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			Team:         "red",
			MobileNumber: "+8613800138000",
			Disabled:     i%2 == 1,
		}
		if i%2 == 0 {
			a.Skills = []store.SkillLevel{{Skill: "billing", Level: 3}, {Skill: "普通话", Level: 10}}
			a.PBX = agentPBX()
		}
		return a
	},
	mutate: func(v *store.Agent) {
		v.Name += "+"
		v.Skills = append(append([]store.SkillLevel(nil), v.Skills...), store.SkillLevel{Skill: "english", Level: 1})
		v.MobileNumber = ""
		if v.PBX == nil {
			v.PBX = agentPBX()
		} else {
			v.PBX = nil
		}
	},
	setKey: func(v *store.Agent, from store.Agent) { v.Extension = from.Extension },
	getByKey: func(ctx context.Context, s store.Store, like store.Agent) (store.Agent, error) {
		return s.Agents().GetByExtension(ctx, like.Extension)
	},
}

var skillSuite = repoSuite[store.Skill]{
	repo: func(s store.Store) store.Repo[store.Skill] { return s.Skills() },
	make: func(i int) store.Skill {
		return store.Skill{Name: fmt.Sprintf("skill-%d", i), Description: fmt.Sprintf("Skill %d's \"quoted\" text", i)}
	},
	mutate: func(v *store.Skill) { v.Description += "!" },
	setKey: func(v *store.Skill, from store.Skill) { v.Name = from.Name },
	getByKey: func(ctx context.Context, s store.Store, like store.Skill) (store.Skill, error) {
		return s.Skills().GetByName(ctx, like.Name)
	},
}

var queueSuite = repoSuite[store.Queue]{
	repo: func(s store.Store) store.Repo[store.Queue] { return s.Queues() },
	make: func(i int) store.Queue {
		q := store.Queue{
			Name:              fmt.Sprintf("queue-%d", i),
			Strategy:          store.Strategies[i%len(store.Strategies)],
			Priority:          i % 10,
			RingTimeout:       15,
			WrapUp:            10,
			MaxWait:           300,
			MaxLength:         50,
			NoAnswerLimit:     3,
			JoinWhenNoAgents:  true,
			LeaveWhenNoAgents: i%2 == 1,
			MusicOnHold:       "moh/default",
			Announcements:     store.Announcements{Greeting: "welcome", PositionEvery: 30, ExpectedWait: true},
			Recording:         store.RecordingPolicy{Mode: store.RecordSample, SamplePercent: 20, Stereo: true},
		}
		if i%2 == 0 {
			q.Members = []store.QueueMember{{AgentID: "a1", Penalty: 0}, {AgentID: "a2", Penalty: 2}}
			q.RequiredSkills = []store.SkillLevel{{Skill: "billing", Level: 5}}
			q.Overflow = &store.Target{Kind: store.TargetVoicemail, Value: "box-1"}
			q.Survey = true
		} else {
			q.Members = []store.QueueMember{} // empty, not nil: must stay empty
		}
		return q
	},
	mutate: func(v *store.Queue) {
		v.Members = []store.QueueMember{{AgentID: "a3", Penalty: 1}}
		v.RequiredSkills = nil
		if v.Overflow == nil {
			v.Overflow = &store.Target{Kind: store.TargetQueue, Value: "q-2"}
		} else {
			v.Overflow = nil
		}
		v.Announcements.PositionEvery++
		v.Recording = store.RecordingPolicy{Mode: store.RecordAll}
	},
	setKey: func(v *store.Queue, from store.Queue) { v.Name = from.Name },
	getByKey: func(ctx context.Context, s store.Store, like store.Queue) (store.Queue, error) {
		return s.Queues().GetByName(ctx, like.Name)
	},
}

var numberSuite = repoSuite[store.Number]{
	repo: func(s store.Store) store.Repo[store.Number] { return s.Numbers() },
	make: func(i int) store.Number {
		n := store.Number{
			Number:   fmt.Sprintf("+86105555%04d", i),
			Name:     "sales line",
			Route:    store.Target{Kind: store.TargetQueue, Value: "queue-1"},
			Greeting: "greeting.wav",
		}
		if i%2 == 0 {
			n.ScheduleID = "sched-1"
			n.AfterHours = &store.Target{Kind: store.TargetVoicemail, Value: "after"}
			n.Survey = true
		}
		return n
	},
	mutate: func(v *store.Number) {
		v.Route = store.Target{Kind: store.TargetIVR, Value: "flow-9"}
		if v.AfterHours == nil {
			v.AfterHours = &store.Target{Kind: store.TargetHangup}
		} else {
			v.AfterHours = nil
		}
	},
	setKey: func(v *store.Number, from store.Number) { v.Number = from.Number },
	getByKey: func(ctx context.Context, s store.Store, like store.Number) (store.Number, error) {
		return s.Numbers().GetByNumber(ctx, like.Number)
	},
}

var trunkSuite = repoSuite[store.Trunk]{
	repo: func(s store.Store) store.Repo[store.Trunk] { return s.Trunks() },
	make: func(i int) store.Trunk {
		tr := store.Trunk{
			Name:        fmt.Sprintf("carrier-%d", i),
			Host:        "sip.example.net",
			Port:        5060 + i,
			Transport:   store.TransportTLS,
			Username:    "acct",
			Password:    "s3cret'; DROP TABLE trunks; --",
			Register:    true,
			Priority:    i,
			CallerID:    "+861055550000",
			MaxChannels: 30,
			Enabled:     i%2 == 0,
		}
		if i%2 == 0 {
			tr.InboundAddresses = []string{"192.0.2.10", "198.51.100.0/24"}
		}
		return tr
	},
	mutate: func(v *store.Trunk) {
		v.InboundAddresses = []string{"203.0.113.7"}
		v.Enabled = !v.Enabled
		v.Port++
	},
	setKey: func(v *store.Trunk, from store.Trunk) { v.Name = from.Name },
}

var scheduleSuite = repoSuite[store.Schedule]{
	repo: func(s store.Store) store.Repo[store.Schedule] { return s.Schedules() },
	make: func(i int) store.Schedule {
		sc := store.Schedule{
			Name:     fmt.Sprintf("hours-%d", i),
			TimeZone: "Asia/Shanghai",
		}
		if i%2 == 0 {
			sc.Weekly = []store.WeeklyHours{{Weekday: time.Monday, Start: "09:00", End: "12:00"}, {Weekday: time.Monday, Start: "13:00", End: "18:00"}}
			sc.Holidays = []store.Holiday{{Date: "2026-10-01", Name: "国庆节"}}
			sc.ExtraWorkdays = []string{"2026-09-27"}
			sc.ExtraWorkdayAs = time.Friday
		}
		return sc
	},
	mutate: func(v *store.Schedule) {
		v.Weekly = []store.WeeklyHours{{Weekday: time.Saturday, Start: "10:00", End: "14:00"}}
		v.Holidays = []store.Holiday{}
		v.ExtraWorkdays = nil
		v.ExtraWorkdayAs = time.Monday
	},
	setKey: func(v *store.Schedule, from store.Schedule) { v.Name = from.Name },
}

var listSuite = repoSuite[store.ListEntry]{
	repo: func(s store.Store) store.Repo[store.ListEntry] { return s.Lists() },
	make: func(i int) store.ListEntry {
		e := store.ListEntry{
			List:    store.ListWhitelist,
			Pattern: fmt.Sprintf("+86139%06d", i),
			Match:   store.MatchExact,
			Note:    "VIP",
		}
		if i%2 == 0 {
			e.Target = &store.Target{Kind: store.TargetQueue, Value: "vip"}
			e.ExpiresAt = ptr(at(20, i%60))
		}
		return e
	},
	mutate: func(v *store.ListEntry) {
		v.Note += "!"
		if v.ExpiresAt == nil {
			v.ExpiresAt = ptr(at(21, 0))
		} else {
			v.ExpiresAt = nil
		}
	},
	setKey: func(v *store.ListEntry, from store.ListEntry) {
		v.List, v.Pattern, v.Match = from.List, from.Pattern, from.Match
	},
}
