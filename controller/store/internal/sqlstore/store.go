package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"hotline/controller/store"
)

// Config is what a dialect package hands to New.
type Config struct {
	// Read serves queries; Write serves every statement that writes. They
	// may be the same pool (PostgreSQL); SQLite gives Write a single
	// connection because the file has one writer at a time.
	Read, Write *sql.DB
	Dialect     Dialect
	// Close releases the pools; Store.Close calls it once.
	Close func() error
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Store implements store.Store over database/sql.
type Store struct {
	read, write *sql.DB
	d           Dialect
	now         func() time.Time
	closeFn     func() error
	closeOnce   sync.Once
	closeErr    error
	closed      atomic.Bool

	// stmtMu guards stmts, the prepared statements of txStmt by query.
	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt

	// watchMu guards watchers, the channels of Watch.
	watchMu  sync.Mutex
	watchers map[chan struct{}]struct{}

	users     *userRepo
	tokens    *tokenRepo
	agents    *agentRepo
	skills    *skillRepo
	queues    *queueRepo
	numbers   *numberRepo
	trunks    *trunkRepo
	schedules *scheduleRepo
	lists     *listRepo
	audit     *auditRepo
	contacts  *contactRepo
	ivrFlows  *ivrFlowRepo
	cdrs      *cdrRepo
	qevents   *queueEventRepo
	recs      *recordingRepo

	conferences *conferenceRepo
	vmBoxes     *voicemailBoxRepo
	vmMessages  *voicemailMessageRepo
	rings       *ringGroupRepo
}

var _ store.Store = (*Store)(nil)

// New returns a Store over the pools of c. The schema must already be
// migrated.
func New(c Config) *Store {
	s := &Store{read: c.Read, write: c.Write, d: c.Dialect, now: c.Now, closeFn: c.Close}
	if s.now == nil {
		s.now = time.Now
	}
	s.users = &userRepo{newRepo[store.User](s, userTable)}
	s.tokens = &tokenRepo{s: s}
	s.agents = &agentRepo{newRepo[store.Agent](s, agentTable)}
	s.skills = &skillRepo{newRepo[store.Skill](s, skillTable)}
	s.queues = &queueRepo{newRepo[store.Queue](s, queueTable)}
	s.numbers = &numberRepo{newRepo[store.Number](s, numberTable)}
	s.trunks = &trunkRepo{newRepo[store.Trunk](s, trunkTable)}
	s.schedules = &scheduleRepo{newRepo[store.Schedule](s, scheduleTable)}
	s.lists = &listRepo{newRepo[store.ListEntry](s, listTable)}
	s.audit = &auditRepo{s: s}
	s.contacts = &contactRepo{newRepo[store.Contact](s, contactTable)}
	s.ivrFlows = &ivrFlowRepo{newRepo[store.IVRFlow](s, ivrFlowTable)}
	s.cdrs = &cdrRepo{s: s}
	s.qevents = &queueEventRepo{s: s}
	s.recs = &recordingRepo{s: s}
	s.conferences = &conferenceRepo{newRepo[store.Conference](s, conferenceTable)}
	s.vmBoxes = &voicemailBoxRepo{newRepo[store.VoicemailBox](s, voicemailBoxTable)}
	s.vmMessages = &voicemailMessageRepo{newRepo[store.VoicemailMessage](s, voicemailMessageTable)}
	s.rings = &ringGroupRepo{newRepo[store.RingGroup](s, ringGroupTable)}
	return s
}

// Users implements store.Store.
func (s *Store) Users() store.UserRepo { return s.users }

// Tokens implements store.Store.
func (s *Store) Tokens() store.TokenRepo { return s.tokens }

// Agents implements store.Store.
func (s *Store) Agents() store.AgentRepo { return s.agents }

// Skills implements store.Store.
func (s *Store) Skills() store.SkillRepo { return s.skills }

// Queues implements store.Store.
func (s *Store) Queues() store.QueueRepo { return s.queues }

// Numbers implements store.Store.
func (s *Store) Numbers() store.NumberRepo { return s.numbers }

// Trunks implements store.Store.
func (s *Store) Trunks() store.TrunkRepo { return s.trunks }

// Schedules implements store.Store.
func (s *Store) Schedules() store.ScheduleRepo { return s.schedules }

// Lists implements store.Store.
func (s *Store) Lists() store.ListRepo { return s.lists }

// Audit implements store.Store.
func (s *Store) Audit() store.AuditRepo { return s.audit }

// Contacts implements store.Store.
func (s *Store) Contacts() store.ContactRepo { return s.contacts }

// IVRFlows implements store.Store.
func (s *Store) IVRFlows() store.IVRFlowRepo { return s.ivrFlows }

// CDRs implements store.Store.
func (s *Store) CDRs() store.CDRRepo { return s.cdrs }

// QueueEvents implements store.Store.
func (s *Store) QueueEvents() store.QueueEventRepo { return s.qevents }

// Recordings implements store.Store.
func (s *Store) Recordings() store.RecordingRepo { return s.recs }

// Ping checks that both pools answer a query. Any failure is reported as
// store.ErrUnavailable: that is what a readiness probe needs to know.
func (s *Store) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return fmt.Errorf("%w: %s store is closed", store.ErrUnavailable, s.d.Name)
	}
	pools := []*sql.DB{s.read}
	if s.write != s.read {
		pools = append(pools, s.write)
	}
	for _, db := range pools {
		var one int
		if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
			return fmt.Errorf("%w: %s ping: %w", store.ErrUnavailable, s.d.Name, err)
		}
	}
	return nil
}

// Close releases the database once; later calls return the first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.stmtMu.Lock()
		for _, st := range s.stmts {
			_ = st.Close()
		}
		s.stmts = nil
		s.stmtMu.Unlock()
		if s.closeFn != nil {
			s.closeErr = s.closeFn()
		}
	})
	return s.closeErr
}

// wrap names the failed operation and classifies a driver error into the
// store's sentinels, keeping the driver error in the chain.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if s.closed.Load() {
		return fmt.Errorf("%w: %s: %s store is closed: %w", store.ErrUnavailable, op, s.d.Name, err)
	}
	if c := s.d.Classify(err); c != nil {
		return fmt.Errorf("%w: %s: %w", c, op, err)
	}
	if errors.Is(err, sql.ErrConnDone) {
		return fmt.Errorf("%w: %s: %w", store.ErrUnavailable, op, err)
	}
	return fmt.Errorf("%s: %s: %w", s.d.Name, op, err)
}

// exec runs a writing statement on the write pool and returns the number of
// rows it touched.
func (s *Store) exec(ctx context.Context, op, q string, args ...any) (int64, error) {
	res, err := s.write.ExecContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return 0, s.wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.wrap(op, err)
	}
	return n, nil
}
