package controller

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"

	"hotline/controller/store"
)

// DefaultHistory is how many of a caller's past calls a screen pop shows.
const DefaultHistory = 10

// StoreDirectory is the Directory of the screen pop (R4.4, R10.3): an
// optional CRM lookup first (CRM: any Directory, e.g. the HTTP client of
// hotline/controller/crmhttp), then the built-in contacts; the caller's
// recent CDRs are added as History either way. A CRM that fails, times out
// or finds nothing falls back to the contacts; only a failing store is an
// error.
type StoreDirectory struct {
	Contacts store.ContactRepo
	CDRs     store.CDRRepo // nil: no history
	CRM      Directory     // nil: contacts only
	History  int           // past calls shown (DefaultHistory when 0; < 0: none)
	Logger   *slog.Logger  // nil: discard
}

var _ Directory = (*StoreDirectory)(nil)

// NumberVariants returns the forms under which number may be stored, most
// specific first: as given, without separators (spaces, '-', '.', '(' and
// ')'), and with and without a leading '+'.
func NumberVariants(number string) []string {
	out := []string{number}
	add := func(s string) {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	clean := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '(', ')':
			return -1
		}
		return r
	}, number)
	add(clean)
	if rest, ok := strings.CutPrefix(clean, "+"); ok {
		add(rest)
	} else {
		add("+" + clean)
	}
	return out
}

// LookupCaller implements Directory.
func (d *StoreDirectory) LookupCaller(ctx context.Context, number string) (Customer, error) {
	var c Customer
	found := false
	if d.CRM != nil {
		crm, err := d.CRM.LookupCaller(ctx, number)
		switch {
		case err != nil:
			d.logger().WarnContext(ctx, "CRM lookup failed; using the directory", "caller", number, "err", err)
		case crm.Source != "":
			c, found = crm, true
		}
	}
	if !found && d.Contacts != nil {
		for _, n := range NumberVariants(number) {
			ct, err := d.Contacts.GetByNumber(ctx, n)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return Customer{}, err
			}
			c = Customer{ContactID: ct.ID, Name: ct.Name, Company: ct.Company, Notes: ct.Notes, Fields: ct.Fields, Source: "directory"}
			break
		}
	}
	if d.CDRs != nil && d.History >= 0 {
		limit := d.History
		if limit == 0 {
			limit = DefaultHistory
		}
		p, err := d.CDRs.Search(ctx, store.CDRFilter{Caller: number}, store.ListOptions{Limit: limit})
		if err != nil {
			return Customer{}, err
		}
		c.History = p.Items
	}
	return c, nil
}

func (d *StoreDirectory) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Logger
}

// DirectorySource is what NewStoreDirectory reads: *Controller and any
// store.Store have both.
type DirectorySource interface {
	Contacts() store.ContactRepo
	CDRs() store.CDRRepo
}

// NewStoreDirectory returns the Directory over src's contacts and CDRs,
// asking crm first when it is not nil (e.g. a *crmhttp.Client).
func NewStoreDirectory(src DirectorySource, crm Directory, logger *slog.Logger) *StoreDirectory {
	return &StoreDirectory{Contacts: src.Contacts(), CDRs: src.CDRs(), CRM: crm, Logger: logger}
}
