package store

import (
	"context"
	"time"
)

// ListOptions selects one page of a list. Records come in ascending ID
// order; IDs sort by creation time, so a page is stable while others write.
type ListOptions struct {
	// Limit is the page size; values <= 0 mean DefaultLimit, values above
	// MaxLimit are clamped.
	Limit int
	// After is the cursor: the ID of the last record of the previous page
	// ("" for the first page).
	After string
}

// Page sizes.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Normalize returns o with Limit inside [1, MaxLimit].
func (o ListOptions) Normalize() ListOptions {
	if o.Limit <= 0 {
		o.Limit = DefaultLimit
	}
	if o.Limit > MaxLimit {
		o.Limit = MaxLimit
	}
	return o
}

// Page is one page of a list. Next is the cursor for the following page, ""
// when this page is the last.
type Page[T any] struct {
	Items []T
	Next  string
}

// Repo is the common shape of a configuration aggregate's repository.
//
// Create sets the record's ID, Version (1), CreatedAt and UpdatedAt (the ID
// passed in is ignored). Update writes the record only when its Version
// equals the stored one (else ErrVersionMismatch), then increments it; it
// updates the caller's copy's Meta. Delete likewise takes the expected
// version; version 0 deletes whatever version is stored. Unique keys taken by
// another record give ErrConflict; a missing id gives ErrNotFound.
type Repo[T any] interface {
	Create(ctx context.Context, v *T) error
	Get(ctx context.Context, id string) (T, error)
	Update(ctx context.Context, v *T) error
	Delete(ctx context.Context, id string, version int64) error
	List(ctx context.Context, opt ListOptions) (Page[T], error)
}

// UserRepo stores users; Username is unique.
type UserRepo interface {
	Repo[User]
	GetByUsername(ctx context.Context, username string) (User, error)
	// Count returns how many users exist (the demo seeds only an empty store).
	Count(ctx context.Context) (int, error)
}

// TokenRepo stores bearer tokens by the hash of their secret.
type TokenRepo interface {
	// Create stores t; t.ID and t.CreatedAt are set by the store. A Hash
	// already stored gives ErrConflict.
	Create(ctx context.Context, t *Token) error
	// GetByHash finds an unexpired token; expired ones give ErrNotFound.
	GetByHash(ctx context.Context, hash string, now time.Time) (Token, error)
	// Touch records the token's last use.
	Touch(ctx context.Context, id string, at time.Time) error
	ListByUser(ctx context.Context, userID string) ([]Token, error)
	List(ctx context.Context, opt ListOptions) (Page[Token], error)
	Delete(ctx context.Context, id string) error
	// DeleteExpired removes tokens that expired before now and returns how many.
	DeleteExpired(ctx context.Context, now time.Time) (int, error)
}

// AgentRepo stores agents; Extension is unique.
type AgentRepo interface {
	Repo[Agent]
	GetByExtension(ctx context.Context, extension string) (Agent, error)
}

// SkillRepo stores skills; Name is unique.
type SkillRepo interface {
	Repo[Skill]
	GetByName(ctx context.Context, name string) (Skill, error)
}

// QueueRepo stores queues; Name is unique.
type QueueRepo interface {
	Repo[Queue]
	GetByName(ctx context.Context, name string) (Queue, error)
}

// NumberRepo stores access numbers; Number is unique.
type NumberRepo interface {
	Repo[Number]
	GetByNumber(ctx context.Context, number string) (Number, error)
}

// TrunkRepo stores trunks; Name is unique.
type TrunkRepo interface {
	Repo[Trunk]
}

// ScheduleRepo stores schedules; Name is unique.
type ScheduleRepo interface {
	Repo[Schedule]
}

// ListRepo stores list entries; (List, Pattern, Match) is unique.
type ListRepo interface {
	Repo[ListEntry]
	// Match returns the entries of list that match number (exact entries and
	// every prefix entry that number starts with), longest pattern first,
	// ignoring entries expired before now.
	Match(ctx context.Context, list ListKind, number string, now time.Time) ([]ListEntry, error)
}

// AuditFilter narrows an audit listing.
type AuditFilter struct {
	UserID   string
	Resource string
	Since    time.Time // zero = no lower bound
	Until    time.Time // zero = no upper bound
}

// AuditRepo is the append-only audit log.
type AuditRepo interface {
	// Append stores e; e.ID is set by the store.
	Append(ctx context.Context, e *AuditEntry) error
	// List returns entries newest first; After is the ID of the last entry
	// of the previous page.
	List(ctx context.Context, f AuditFilter, opt ListOptions) (Page[AuditEntry], error)
}

// Store gathers the repositories of one database.
type Store interface {
	Users() UserRepo
	Tokens() TokenRepo
	Agents() AgentRepo
	Skills() SkillRepo
	Queues() QueueRepo
	Numbers() NumberRepo
	Trunks() TrunkRepo
	Schedules() ScheduleRepo
	Lists() ListRepo
	Audit() AuditRepo
	// Contacts and IVRFlows are configuration (their writes are in the
	// change feed).
	Contacts() ContactRepo
	IVRFlows() IVRFlowRepo
	// CDRs, QueueEvents and Recordings are what the call path writes
	// (through the journal); they are not configuration and produce no
	// changes.
	CDRs() CDRRepo
	QueueEvents() QueueEventRepo
	Recordings() RecordingRepo
	// VoicemailBoxes (configuration) and VoicemailMessages (left by the
	// call path) are voicemail (voicemail.go).
	VoicemailBoxes() VoicemailBoxRepo
	VoicemailMessages() VoicemailMessageRepo

	// ChangeFeed follows every committed configuration change (users,
	// agents, skills, queues, numbers, trunks, schedules, lists, contacts,
	// ivr-flows).
	ChangeFeed

	// Ping reports whether the database answers (for /readyz).
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error

	// Conferences stores conference rooms (configuration: their writes
	// are in the change feed).
	Conferences() ConferenceRepo
	// RingGroups is configuration (its writes are in the change feed).
	RingGroups() RingGroupRepo
}
