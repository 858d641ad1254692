package sqlstore

import (
	"context"
	"fmt"

	"hotline/controller/store"
)

// The column lists below must match the migrations of both dialects.

var userTable = table[store.User]{
	name: "users", what: "user", kind: store.KindUser,
	cols: []string{"username", "display_name", "password_hash", "role", "agent_id", "team", "disabled"},
	args: func(_ *Store, v *store.User) ([]any, error) {
		return []any{v.Username, v.DisplayName, v.PasswordHash, string(v.Role), v.AgentID, v.Team, v.Disabled}, nil
	},
	dest: func(v *store.User) []any {
		return []any{&v.Username, &v.DisplayName, &v.PasswordHash, &v.Role, &v.AgentID, &v.Team, &v.Disabled}
	},
}

var agentTable = table[store.Agent]{
	name: "agents", what: "agent", kind: store.KindAgent,
	cols: []string{"name", "extension", "sip_ha1_md5", "sip_ha1_sha256", "skills", "team", "mobile_number", "disabled",
		"pbx", "auto_answer"},
	args: func(_ *Store, v *store.Agent) ([]any, error) {
		skills, err := jsonArg(v.Skills)
		if err != nil {
			return nil, err
		}
		pbx, err := jsonArg(v.PBX)
		if err != nil {
			return nil, err
		}
		return []any{v.Name, v.Extension, v.SIPHA1MD5, v.SIPHA1SHA256, skills, v.Team, v.MobileNumber, v.Disabled,
			pbx, v.AutoAnswer}, nil
	},
	dest: func(v *store.Agent) []any {
		return []any{&v.Name, &v.Extension, &v.SIPHA1MD5, &v.SIPHA1SHA256, jsonCol{&v.Skills}, &v.Team, &v.MobileNumber, &v.Disabled,
			jsonCol{&v.PBX}, &v.AutoAnswer}
	},
}

var skillTable = table[store.Skill]{
	name: "skills", what: "skill", kind: store.KindSkill,
	cols: []string{"name", "description"},
	args: func(_ *Store, v *store.Skill) ([]any, error) { return []any{v.Name, v.Description}, nil },
	dest: func(v *store.Skill) []any { return []any{&v.Name, &v.Description} },
}

var queueTable = table[store.Queue]{
	name: "queues", what: "queue", kind: store.KindQueue,
	cols: []string{"name", "strategy", "members", "required_skills", "priority", "ring_timeout", "wrap_up",
		"max_wait", "max_length", "no_answer_limit", "join_when_no_agents", "leave_when_no_agents",
		"overflow", "music_on_hold", "announcements", "recording",
		"keep_entered_at", "survey"},
	args: func(_ *Store, v *store.Queue) ([]any, error) {
		j, err := jsonArgs(v.Members, v.RequiredSkills, v.Overflow, v.Announcements, v.Recording)
		if err != nil {
			return nil, err
		}
		return []any{v.Name, string(v.Strategy), j[0], j[1], v.Priority, v.RingTimeout, v.WrapUp,
			v.MaxWait, v.MaxLength, v.NoAnswerLimit, v.JoinWhenNoAgents, v.LeaveWhenNoAgents,
			j[2], v.MusicOnHold, j[3], j[4],
			v.KeepEnteredAt, v.Survey}, nil
	},
	dest: func(v *store.Queue) []any {
		return []any{&v.Name, &v.Strategy, jsonCol{&v.Members}, jsonCol{&v.RequiredSkills}, &v.Priority,
			&v.RingTimeout, &v.WrapUp, &v.MaxWait, &v.MaxLength, &v.NoAnswerLimit, &v.JoinWhenNoAgents,
			&v.LeaveWhenNoAgents, jsonCol{&v.Overflow}, &v.MusicOnHold, jsonCol{&v.Announcements},
			jsonCol{&v.Recording},
			&v.KeepEnteredAt, &v.Survey}
	},
}

var numberTable = table[store.Number]{
	name: "numbers", what: "number", kind: store.KindNumber,
	cols: []string{"number", "name", "route", "schedule_id", "after_hours", "greeting",
		"survey"},
	args: func(_ *Store, v *store.Number) ([]any, error) {
		j, err := jsonArgs(v.Route, v.AfterHours)
		if err != nil {
			return nil, err
		}
		return []any{v.Number, v.Name, j[0], v.ScheduleID, j[1], v.Greeting,
			v.Survey}, nil
	},
	dest: func(v *store.Number) []any {
		return []any{&v.Number, &v.Name, jsonCol{&v.Route}, &v.ScheduleID, jsonCol{&v.AfterHours}, &v.Greeting,
			&v.Survey}
	},
}

var trunkTable = table[store.Trunk]{
	name: "trunks", what: "trunk", kind: store.KindTrunk,
	cols: []string{"name", "host", "port", "transport", "username", "password", "register", "priority",
		"inbound_addresses", "caller_id", "max_channels", "enabled"},
	args: func(_ *Store, v *store.Trunk) ([]any, error) {
		addrs, err := jsonArg(v.InboundAddresses)
		if err != nil {
			return nil, err
		}
		return []any{v.Name, v.Host, v.Port, string(v.Transport), v.Username, v.Password, v.Register, v.Priority,
			addrs, v.CallerID, v.MaxChannels, v.Enabled}, nil
	},
	dest: func(v *store.Trunk) []any {
		return []any{&v.Name, &v.Host, &v.Port, &v.Transport, &v.Username, &v.Password, &v.Register, &v.Priority,
			jsonCol{&v.InboundAddresses}, &v.CallerID, &v.MaxChannels, &v.Enabled}
	},
}

var scheduleTable = table[store.Schedule]{
	name: "schedules", what: "schedule", kind: store.KindSchedule,
	cols: []string{"name", "time_zone", "weekly", "holidays", "extra_workdays", "extra_workday_as"},
	args: func(_ *Store, v *store.Schedule) ([]any, error) {
		j, err := jsonArgs(v.Weekly, v.Holidays, v.ExtraWorkdays)
		if err != nil {
			return nil, err
		}
		return []any{v.Name, v.TimeZone, j[0], j[1], j[2], int(v.ExtraWorkdayAs)}, nil
	},
	dest: func(v *store.Schedule) []any {
		return []any{&v.Name, &v.TimeZone, jsonCol{&v.Weekly}, jsonCol{&v.Holidays}, jsonCol{&v.ExtraWorkdays},
			&v.ExtraWorkdayAs}
	},
}

var listTable = table[store.ListEntry]{
	name: "list_entries", what: "list entry", kind: store.KindList,
	cols: []string{"list_kind", "pattern", "match_kind", "target", "note", "expires_at"},
	args: func(s *Store, v *store.ListEntry) ([]any, error) {
		target, err := jsonArg(v.Target)
		if err != nil {
			return nil, err
		}
		return []any{string(v.List), v.Pattern, string(v.Match), target, v.Note, s.nullTimeArg(v.ExpiresAt)}, nil
	},
	dest: func(v *store.ListEntry) []any {
		return []any{&v.List, &v.Pattern, &v.Match, jsonCol{&v.Target}, &v.Note, nullTimeCol{&v.ExpiresAt}}
	},
}

type userRepo struct{ *repo[store.User, *store.User] }

// GetByUsername implements store.UserRepo.
func (r *userRepo) GetByUsername(ctx context.Context, username string) (store.User, error) {
	return r.getBy(ctx, "username", username)
}

// Count implements store.UserRepo.
func (r *userRepo) Count(ctx context.Context) (int, error) {
	var n int
	if err := r.s.read.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&n); err != nil {
		return 0, r.s.wrap("count users", err)
	}
	return n, nil
}

type agentRepo struct {
	*repo[store.Agent, *store.Agent]
}

// GetByExtension implements store.AgentRepo.
func (r *agentRepo) GetByExtension(ctx context.Context, extension string) (store.Agent, error) {
	return r.getBy(ctx, "extension", extension)
}

type skillRepo struct {
	*repo[store.Skill, *store.Skill]
}

// GetByName implements store.SkillRepo.
func (r *skillRepo) GetByName(ctx context.Context, name string) (store.Skill, error) {
	return r.getBy(ctx, "name", name)
}

type queueRepo struct {
	*repo[store.Queue, *store.Queue]
}

// GetByName implements store.QueueRepo.
func (r *queueRepo) GetByName(ctx context.Context, name string) (store.Queue, error) {
	return r.getBy(ctx, "name", name)
}

type numberRepo struct {
	*repo[store.Number, *store.Number]
}

// GetByNumber implements store.NumberRepo.
func (r *numberRepo) GetByNumber(ctx context.Context, number string) (store.Number, error) {
	return r.getBy(ctx, "number", number)
}

type trunkRepo struct {
	*repo[store.Trunk, *store.Trunk]
}

type scheduleRepo struct {
	*repo[store.Schedule, *store.Schedule]
}

// errNotFoundf formats a not-found error for a lookup by key.
func errNotFoundf(what, key string) error {
	return fmt.Errorf("%w: %s %q", store.ErrNotFound, what, key)
}
