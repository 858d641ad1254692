package api

import (
	"context"

	"golang.org/x/crypto/bcrypt"

	"hotline/controller/store"
	"hotline/internal/sipdigest"
)

// Request bodies embed the stored record, so a record read with GET is a
// valid PUT body (id and timestamps are ignored, version is the expected
// version), and add the write-only secrets, which no answer ever contains.

// userBody is the body of POST/PUT /api/v1/users.
type userBody struct {
	store.User
	// Password is write-only. Absent on PUT keeps the current one; a user
	// without a password cannot log in (API tokens only).
	Password *string `json:"password,omitempty" openapi:"writeOnly"`
}

// agentBody is the body of POST/PUT /api/v1/agents.
type agentBody struct {
	store.Agent
	// SIPPassword is write-only: only its HA1 digests are stored.
	SIPPassword *string `json:"sip_password,omitempty" openapi:"writeOnly"`
}

type skillBody struct{ store.Skill }

type queueBody struct{ store.Queue }

type numberBody struct{ store.Number }

// trunkBody is the body of POST/PUT /api/v1/trunks.
type trunkBody struct {
	store.Trunk
	// Password is write-only; absent on PUT keeps the current one.
	Password *string `json:"password,omitempty" openapi:"writeOnly"`
}

type scheduleBody struct{ store.Schedule }

type listEntryBody struct{ store.ListEntry }

func (s *Server) buildUser(ctx context.Context, b *userBody, old *store.User) (store.User, error) {
	u := b.User
	if err := checkUsername("username", u.Username); err != nil {
		return u, err
	}
	if err := checkText("display_name", u.DisplayName, maxName); err != nil {
		return u, err
	}
	if err := oneOf("role", u.Role, store.Roles); err != nil {
		return u, err
	}
	if err := checkText("team", u.Team, maxName); err != nil {
		return u, err
	}
	if u.Role == store.RoleAgent && u.AgentID == "" {
		return u, invalidValue("agent_id", "is required for role agent")
	}
	if u.AgentID != "" {
		if err := checkID("agent_id", u.AgentID); err != nil {
			return u, err
		}
		if _, err := s.st.Agents().Get(ctx, u.AgentID); err != nil {
			return u, refErr("agent_id", err)
		}
	}
	switch {
	case b.Password != nil:
		// bcrypt reads 72 bytes at most: refuse longer rather than truncate.
		if err := checkSecret("password", *b.Password, 8, 72); err != nil {
			return u, err
		}
		h, err := bcrypt.GenerateFromPassword([]byte(*b.Password), s.cost)
		if err != nil {
			return u, invalidValue("password", "cannot be hashed")
		}
		u.PasswordHash = string(h)
	case old != nil:
		u.PasswordHash = old.PasswordHash
	}
	return u, nil
}

func (s *Server) buildAgent(ctx context.Context, b *agentBody, old *store.Agent) (store.Agent, error) {
	a := b.Agent
	if err := checkName("name", a.Name); err != nil {
		return a, err
	}
	if err := checkExtension("extension", a.Extension); err != nil {
		return a, err
	}
	if err := s.checkDialClash(ctx, "extension", a.Extension); err != nil {
		return a, err
	}
	if err := s.checkSkills(ctx, "skills", a.Skills); err != nil {
		return a, err
	}
	if err := checkText("team", a.Team, maxName); err != nil {
		return a, err
	}
	if a.MobileNumber != "" {
		if err := checkPhone("mobile_number", a.MobileNumber); err != nil {
			return a, err
		}
	}
	if err := s.checkPBX(ctx, "pbx", a.PBX, a.Extension); err != nil {
		return a, err
	}
	a.Skills = nonNil(a.Skills)
	switch {
	case b.SIPPassword != nil:
		if err := checkSecret("sip_password", *b.SIPPassword, 8, 128); err != nil {
			return a, err
		}
		// The digest username is the extension (RFC 7616 §3.4.2: HA1 =
		// H(username ":" realm ":" password)); MD5 for old phones, SHA-256
		// per RFC 8760.
		a.SIPHA1MD5 = sipdigest.HA1(sipdigest.MD5, a.Extension, s.realm, *b.SIPPassword)
		a.SIPHA1SHA256 = sipdigest.HA1(sipdigest.SHA256, a.Extension, s.realm, *b.SIPPassword)
	case old != nil:
		if old.Extension != a.Extension && old.SIPHA1MD5 != "" {
			// HA1 binds the username: the old digests would no longer verify.
			return a, invalidValue("sip_password", "is required when the extension changes")
		}
		a.SIPHA1MD5, a.SIPHA1SHA256 = old.SIPHA1MD5, old.SIPHA1SHA256
	}
	return a, nil
}

func (s *Server) buildSkill(_ context.Context, b *skillBody, _ *store.Skill) (store.Skill, error) {
	k := b.Skill
	if err := checkName("name", k.Name); err != nil {
		return k, err
	}
	return k, checkText("description", k.Description, maxText)
}

var recordingModes = []store.RecordingMode{store.RecordNone, store.RecordAll, store.RecordSample, store.RecordOnDemand}

func (s *Server) buildQueue(ctx context.Context, b *queueBody, old *store.Queue) (store.Queue, error) {
	q := b.Queue
	self := ""
	if old != nil {
		self = old.ID
	}
	checks := []func() error{
		func() error { return checkName("name", q.Name) },
		func() error { return oneOf("strategy", q.Strategy, store.Strategies) },
		func() error { return checkRange("priority", q.Priority, 0, 100) },
		func() error { return checkRange("ring_timeout", q.RingTimeout, 5, 300) },
		func() error { return checkRange("wrap_up", q.WrapUp, 0, 3600) },
		func() error { return checkRange("max_wait", q.MaxWait, 0, 86400) },
		func() error { return checkRange("max_length", q.MaxLength, 0, 10000) },
		func() error { return checkRange("no_answer_limit", q.NoAnswerLimit, 0, 100) },
		func() error { return checkText("music_on_hold", q.MusicOnHold, maxText) },
		func() error { return checkText("announcements.greeting", q.Announcements.Greeting, maxText) },
		func() error {
			return checkRange("announcements.position_every", q.Announcements.PositionEvery, 0, 3600)
		},
		func() error { return oneOf("recording.mode", q.Recording.Mode, recordingModes) },
		func() error {
			if q.Recording.Mode == store.RecordSample {
				return checkRange("recording.sample_percent", q.Recording.SamplePercent, 1, 100)
			}
			if q.Recording.SamplePercent != 0 {
				return invalidValue("recording.sample_percent", "is only valid with mode sample")
			}
			return nil
		},
		func() error { return s.checkSkills(ctx, "required_skills", q.RequiredSkills) },
		func() error {
			seen := map[string]bool{}
			for i, m := range q.Members {
				f := idx("members", i)
				if err := checkID(f+".agent_id", m.AgentID); err != nil {
					return err
				}
				if seen[m.AgentID] {
					return invalidValue(f+".agent_id", "is listed twice")
				}
				seen[m.AgentID] = true
				if err := checkRange(f+".penalty", m.Penalty, 0, 100); err != nil {
					return err
				}
				if _, err := s.st.Agents().Get(ctx, m.AgentID); err != nil {
					return refErr(f+".agent_id", err)
				}
			}
			return nil
		},
		func() error {
			if q.Overflow == nil {
				return nil
			}
			return s.checkTarget(ctx, "overflow", *q.Overflow, self)
		},
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return q, err
		}
	}
	q.Members = nonNil(q.Members)
	q.RequiredSkills = nonNil(q.RequiredSkills)
	return q, nil
}

func (s *Server) buildNumber(ctx context.Context, b *numberBody, _ *store.Number) (store.Number, error) {
	n := b.Number
	if err := checkPhone("number", n.Number); err != nil {
		return n, err
	}
	if err := s.checkDialClash(ctx, "number", n.Number); err != nil {
		return n, err
	}
	if err := checkText("name", n.Name, maxName); err != nil {
		return n, err
	}
	if err := s.checkTarget(ctx, "route", n.Route, ""); err != nil {
		return n, err
	}
	if n.ScheduleID != "" {
		if err := checkID("schedule_id", n.ScheduleID); err != nil {
			return n, err
		}
		if _, err := s.st.Schedules().Get(ctx, n.ScheduleID); err != nil {
			return n, refErr("schedule_id", err)
		}
	}
	if n.AfterHours != nil {
		if n.ScheduleID == "" {
			return n, invalidValue("after_hours", "needs a schedule_id")
		}
		if err := s.checkTarget(ctx, "after_hours", *n.AfterHours, ""); err != nil {
			return n, err
		}
	}
	return n, checkText("greeting", n.Greeting, maxText)
}

var transports = []store.Transport{store.TransportUDP, store.TransportTCP, store.TransportTLS}

func (s *Server) buildTrunk(_ context.Context, b *trunkBody, old *store.Trunk) (store.Trunk, error) {
	t := b.Trunk
	switch {
	case b.Password != nil:
		if err := checkSecret("password", *b.Password, 1, 128); err != nil {
			return t, err
		}
		t.Password = *b.Password
	case old != nil:
		t.Password = old.Password
	}
	checks := []func() error{
		func() error { return checkName("name", t.Name) },
		func() error { return checkHost("host", t.Host) },
		func() error { return checkRange("port", t.Port, 1, 65535) },
		func() error { return oneOf("transport", t.Transport, transports) },
		func() error {
			if t.Username != "" && (len(t.Username) > maxName || hasControl(t.Username) || containsSpace(t.Username)) {
				return invalidValue("username", "must be at most %d characters without spaces", maxName)
			}
			return nil
		},
		func() error {
			if t.Register && (t.Username == "" || t.Password == "") {
				return invalidValue("register", "needs a username and a password")
			}
			return nil
		},
		func() error { return checkRange("priority", t.Priority, 0, 1000) },
		func() error {
			if len(t.InboundAddresses) > 100 {
				return invalidValue("inbound_addresses", "at most 100 entries")
			}
			for i, a := range t.InboundAddresses {
				if err := checkAddress(idx("inbound_addresses", i), a); err != nil {
					return err
				}
			}
			return nil
		},
		func() error {
			if t.CallerID == "" {
				return nil
			}
			return checkPhone("caller_id", t.CallerID)
		},
		func() error { return checkRange("max_channels", t.MaxChannels, 0, 100000) },
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return t, err
		}
	}
	t.InboundAddresses = nonNil(t.InboundAddresses)
	return t, nil
}

func containsSpace(s string) bool {
	for _, r := range s {
		if r == ' ' || r == '\t' {
			return true
		}
	}
	return false
}

func (s *Server) buildSchedule(_ context.Context, b *scheduleBody, _ *store.Schedule) (store.Schedule, error) {
	c := b.Schedule
	if err := checkName("name", c.Name); err != nil {
		return c, err
	}
	if err := checkTimeZone("time_zone", c.TimeZone); err != nil {
		return c, err
	}
	for i, w := range c.Weekly {
		f := idx("weekly", i)
		if err := checkWeekday(f+".weekday", w.Weekday); err != nil {
			return c, err
		}
		start, ok := parseClock(w.Start)
		if !ok || start == 24*60 {
			return c, invalidValue(f+".start", "must be a time HH:MM")
		}
		end, ok := parseClock(w.End)
		if !ok {
			return c, invalidValue(f+".end", "must be a time HH:MM (24:00 for midnight)")
		}
		if end <= start {
			return c, invalidValue(f+".end", "must be after start")
		}
	}
	for i, h := range c.Holidays {
		f := idx("holidays", i)
		if err := checkDate(f+".date", h.Date); err != nil {
			return c, err
		}
		if err := checkText(f+".name", h.Name, maxName); err != nil {
			return c, err
		}
	}
	for i, d := range c.ExtraWorkdays {
		if err := checkDate(idx("extra_workdays", i), d); err != nil {
			return c, err
		}
	}
	if err := checkWeekday("extra_workday_as", c.ExtraWorkdayAs); err != nil {
		return c, err
	}
	c.Weekly, c.Holidays, c.ExtraWorkdays = nonNil(c.Weekly), nonNil(c.Holidays), nonNil(c.ExtraWorkdays)
	return c, nil
}

var (
	listKinds  = []store.ListKind{store.ListBlacklist, store.ListWhitelist, store.ListDNC}
	matchKinds = []store.MatchKind{store.MatchExact, store.MatchPrefix}
)

func (s *Server) buildListEntry(ctx context.Context, b *listEntryBody, _ *store.ListEntry) (store.ListEntry, error) {
	e := b.ListEntry
	if err := oneOf("list", e.List, listKinds); err != nil {
		return e, err
	}
	if err := checkPhone("pattern", e.Pattern); err != nil {
		return e, err
	}
	if err := oneOf("match", e.Match, matchKinds); err != nil {
		return e, err
	}
	if e.Target != nil {
		if e.List != store.ListWhitelist {
			return e, invalidValue("target", "is only valid on the whitelist")
		}
		if err := s.checkTarget(ctx, "target", *e.Target, ""); err != nil {
			return e, err
		}
	}
	return e, checkText("note", e.Note, maxText)
}
