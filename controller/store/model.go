package store

import "time"

// Meta is carried by every aggregate. The store sets ID and CreatedAt on
// Create, and increments Version and sets UpdatedAt on every write.
type Meta struct {
	ID        string    `json:"id"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// GetMeta returns the aggregate's metadata; it lets generic code reach Meta
// through a type parameter.
func (m *Meta) GetMeta() *Meta { return m }

// Role is what a user may do (R12.1).
type Role string

// Roles, from most to least powerful.
const (
	RoleAdmin      Role = "admin"
	RoleSupervisor Role = "supervisor"
	RoleAgent      Role = "agent"
	RoleQA         Role = "qa"
	RoleReporter   Role = "reporter"
)

// Roles lists every valid role.
var Roles = []Role{RoleAdmin, RoleSupervisor, RoleAgent, RoleQA, RoleReporter}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	for _, v := range Roles {
		if r == v {
			return true
		}
	}
	return false
}

// User is a person who logs in to the web desktop or the API.
type User struct {
	Meta
	Username     string `json:"username"`
	DisplayName  string `json:"display_name"`
	PasswordHash string `json:"-"` // bcrypt; never serialized
	Role         Role   `json:"role"`
	// AgentID links an agent-role user to the agent record it works as.
	AgentID  string `json:"agent_id,omitempty"`
	Team     string `json:"team,omitempty"`
	Disabled bool   `json:"disabled"`
}

// TokenKind tells a login session from a long-lived API token.
type TokenKind string

// Token kinds.
const (
	TokenAPI     TokenKind = "api"
	TokenSession TokenKind = "session"
)

// Token is a bearer credential. Only the SHA-256 of the secret is stored; the
// secret itself is shown once when the token is made.
type Token struct {
	ID         string     `json:"id"`
	UserID     string     `json:"user_id"`
	Name       string     `json:"name"`
	Kind       TokenKind  `json:"kind"`
	Hash       string     `json:"-"` // hex SHA-256 of the secret
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// SkillLevel is a skill with a level from 1 (novice) to 10 (expert). On a
// queue it is a requirement: the agent needs at least that level.
type SkillLevel struct {
	Skill string `json:"skill"` // Skill.Name
	Level int    `json:"level"`
}

// Agent is a seat: a person's working identity with an extension, SIP
// credentials and skills (R4.1, R3.2).
type Agent struct {
	Meta
	Name      string `json:"name"`
	Extension string `json:"extension"`
	// SIP digest credentials, stored only as HA1 hashes (RFC 7616 §3.4.2,
	// RFC 8760): the password itself is never kept.
	SIPHA1MD5    string       `json:"-"`
	SIPHA1SHA256 string       `json:"-"`
	Skills       []SkillLevel `json:"skills"`
	Team         string       `json:"team,omitempty"`
	// MobileNumber is rung too when follow-me is on (R1.7).
	MobileNumber string `json:"mobile_number,omitempty"`
	Disabled     bool   `json:"disabled"`
	// AutoAnswer makes the agent's phone answer offers by itself (a
	// headset agent): the offer asks the phone to (Answer-Mode: Auto).
	AutoAnswer bool `json:"auto_answer"`
	// PBX holds the extension's telephone features (forward, DND,
	// follow-me, work number announcement); nil: none.
	PBX *PBXSettings `json:"pbx,omitempty"`
}

// Skill is a named competence agents have and queues require.
type Skill struct {
	Meta
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// Strategy is how a queue picks among eligible agents (R3.3).
type Strategy string

// Strategies.
const (
	StrategyRingAll        Strategy = "ring-all"
	StrategyLongestIdle    Strategy = "longest-idle"
	StrategyRoundRobin     Strategy = "round-robin"
	StrategyLeastCalls     Strategy = "least-calls"
	StrategyFewestTalkTime Strategy = "fewest-talk-time"
	StrategyTopDown        Strategy = "top-down"
	StrategyRandom         Strategy = "random"
	StrategyWeightedRandom Strategy = "weighted-random"
)

// Strategies lists every valid strategy.
var Strategies = []Strategy{
	StrategyRingAll, StrategyLongestIdle, StrategyRoundRobin, StrategyLeastCalls,
	StrategyFewestTalkTime, StrategyTopDown, StrategyRandom, StrategyWeightedRandom,
}

// TargetKind is where a call goes: the route of a number, a queue's overflow.
type TargetKind string

// Target kinds.
const (
	TargetQueue     TargetKind = "queue"
	TargetIVR       TargetKind = "ivr"
	TargetExtension TargetKind = "extension"
	TargetExternal  TargetKind = "external"
	TargetVoicemail TargetKind = "voicemail"
	TargetCallback  TargetKind = "callback"
	TargetHangup    TargetKind = "hangup"
)

// Target names a destination. Value is a queue or IVR flow id, an
// extension, an external number or a voicemail box, by Kind.
type Target struct {
	Kind  TargetKind `json:"kind"`
	Value string     `json:"value,omitempty"`
}

// QueueMember is an agent serving a queue, with a penalty (tier): lower
// penalties are offered calls first.
type QueueMember struct {
	AgentID string `json:"agent_id"`
	Penalty int    `json:"penalty"`
}

// Announcements is what a waiting caller hears (R3.4).
type Announcements struct {
	Greeting string `json:"greeting,omitempty"` // prompt played on entry
	// PositionEvery announces the caller's position and expected wait every
	// so many seconds; 0 turns it off.
	PositionEvery int  `json:"position_every"`
	ExpectedWait  bool `json:"expected_wait"`
}

// RecordingMode is a queue's recording policy (R6.1).
type RecordingMode string

// Recording modes.
const (
	RecordNone     RecordingMode = "none"
	RecordAll      RecordingMode = "all"
	RecordSample   RecordingMode = "sample"
	RecordOnDemand RecordingMode = "on-demand"
)

// RecordingPolicy says which calls of a queue are recorded.
type RecordingPolicy struct {
	Mode          RecordingMode `json:"mode"`
	SamplePercent int           `json:"sample_percent,omitempty"` // with RecordSample, 1-100
	Stereo        bool          `json:"stereo"`
}

// Queue is an ACD queue (R3).
type Queue struct {
	Meta
	Name           string        `json:"name"`
	Strategy       Strategy      `json:"strategy"`
	Members        []QueueMember `json:"members"`
	RequiredSkills []SkillLevel  `json:"required_skills"`
	Priority       int           `json:"priority"`     // default caller priority in this queue
	RingTimeout    int           `json:"ring_timeout"` // seconds an offer rings an agent
	WrapUp         int           `json:"wrap_up"`      // seconds of after-call work
	MaxWait        int           `json:"max_wait"`     // seconds; 0 = unlimited
	MaxLength      int           `json:"max_length"`   // waiting callers; 0 = unlimited
	// NoAnswerLimit consecutive ring-no-answers set an agent not-ready; 0 = never.
	NoAnswerLimit     int             `json:"no_answer_limit"`
	JoinWhenNoAgents  bool            `json:"join_when_no_agents"`
	LeaveWhenNoAgents bool            `json:"leave_when_no_agents"`
	Overflow          *Target         `json:"overflow,omitempty"`
	MusicOnHold       string          `json:"music_on_hold,omitempty"`
	Announcements     Announcements   `json:"announcements"`
	Recording         RecordingPolicy `json:"recording"`
	// KeepEnteredAt: a call transferred or overflowed into this queue keeps
	// the time it first entered queueing, so it does not start again at the
	// back (acd.QueueConfig.KeepEnteredAt).
	KeepEnteredAt bool `json:"keep_entered_at"`
	// Survey sends the caller to the post-call satisfaction survey when
	// the agent hangs up (R2.6).
	Survey bool `json:"survey,omitempty"`
}

// Number is an access number (DID) and where its calls go (R1.3, R1.4).
type Number struct {
	Meta
	Number string `json:"number"`
	Name   string `json:"name,omitempty"`
	Route  Target `json:"route"`
	// ScheduleID, when set, sends calls outside the schedule's open hours to
	// AfterHours instead of Route.
	ScheduleID string  `json:"schedule_id,omitempty"`
	AfterHours *Target `json:"after_hours,omitempty"`
	Greeting   string  `json:"greeting,omitempty"`
	// Survey: see Queue.Survey (either one asks for it).
	Survey bool `json:"survey,omitempty"`
}

// Transport is a SIP transport.
type Transport string

// Transports.
const (
	TransportUDP Transport = "udp"
	TransportTCP Transport = "tcp"
	TransportTLS Transport = "tls"
)

// Trunk is a SIP trunk to a carrier (R1.2). Outbound calls try enabled
// trunks by ascending Priority and fail over on 5xx or timeout.
type Trunk struct {
	Meta
	Name      string    `json:"name"`
	Host      string    `json:"host"`
	Port      int       `json:"port"`
	Transport Transport `json:"transport"`
	Username  string    `json:"username,omitempty"`
	// Password is needed in clear to answer the carrier's digest challenge;
	// the API never returns it.
	Password string `json:"-"`
	Register bool   `json:"register"`
	Priority int    `json:"priority"`
	// InboundAddresses are source IPs or CIDRs whose INVITEs are accepted as
	// from this trunk without authentication.
	InboundAddresses []string `json:"inbound_addresses"`
	CallerID         string   `json:"caller_id,omitempty"`
	MaxChannels      int      `json:"max_channels"` // 0 = unlimited
	Enabled          bool     `json:"enabled"`
}

// WeeklyHours is one open interval on one weekday, in the schedule's time
// zone. Start and End are "HH:MM"; End after Start.
type WeeklyHours struct {
	Weekday time.Weekday `json:"weekday"` // 0 = Sunday
	Start   string       `json:"start"`
	End     string       `json:"end"`
}

// Holiday closes a whole date.
type Holiday struct {
	Date string `json:"date"` // YYYY-MM-DD
	Name string `json:"name,omitempty"`
}

// Schedule is a work calendar: weekly hours, holidays, and extra working
// days (the make-up workdays of Chinese public holidays, 调休).
type Schedule struct {
	Meta
	Name     string        `json:"name"`
	TimeZone string        `json:"time_zone"` // IANA, e.g. Asia/Shanghai
	Weekly   []WeeklyHours `json:"weekly"`
	Holidays []Holiday     `json:"holidays"`
	// ExtraWorkdays are dates (YYYY-MM-DD) open with the hours of
	// ExtraWorkdayAs although they fall on a weekend.
	ExtraWorkdays  []string     `json:"extra_workdays"`
	ExtraWorkdayAs time.Weekday `json:"extra_workday_as"`
}

// ListKind names a number list (R1.5, R7.6).
type ListKind string

// List kinds.
const (
	ListBlacklist ListKind = "blacklist"
	ListWhitelist ListKind = "whitelist" // VIP green channel
	ListDNC       ListKind = "dnc"       // do not call
)

// MatchKind says how a list entry's pattern matches a number.
type MatchKind string

// Match kinds.
const (
	MatchExact  MatchKind = "exact"
	MatchPrefix MatchKind = "prefix"
)

// ListEntry is one number or prefix on a list.
type ListEntry struct {
	Meta
	List    ListKind  `json:"list"`
	Pattern string    `json:"pattern"` // digits, optionally a leading +
	Match   MatchKind `json:"match"`
	// Target is where a whitelisted (VIP) caller goes, bypassing the IVR.
	Target    *Target    `json:"target,omitempty"`
	Note      string     `json:"note,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// AuditEntry records one change made by a user (R11.4, R12.1).
type AuditEntry struct {
	ID         string    `json:"id"`
	At         time.Time `json:"at"`
	UserID     string    `json:"user_id"`
	Username   string    `json:"username"`
	Action     string    `json:"action"`   // e.g. "create", "update", "delete", "login"
	Resource   string    `json:"resource"` // e.g. "queues"
	ResourceID string    `json:"resource_id,omitempty"`
	Remote     string    `json:"remote"` // client address
	Result     int       `json:"result"` // HTTP status
	Detail     string    `json:"detail,omitempty"`
	RequestID  string    `json:"request_id,omitempty"`
}
