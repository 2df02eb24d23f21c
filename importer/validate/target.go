package validate

import (
	"context"
	"fmt"
	"strings"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/gateway"
	"github.com/clerkmigrate/clerkmigrate/importer/verdict"
)

// TargetCheck asks Clerk which source users already exist, by external_id
// and by email, up to MaxFilterValues values per request, through the
// gateway (paced under the instance's budget, retried like every call).
// It only reads.
type TargetCheck struct {
	Gateway *gateway.Gateway
	// Name says where the target is, for the ledger (as
	// migrate.Config.Target); the run records the instance the gateway's
	// pre-flight reaches beside it.
	Name string
}

// MaxFilterValues is the most values Clerk takes in one ListUsers filter.
const MaxFilterValues = 100

// TargetResult counts what the target check found.
type TargetResult struct {
	Requests int64 // GET requests sent through the gateway, the pre-flight and retries included
	// ByExternalID counts rows whose external_id a Clerk user has (an
	// import settles those "exists"); ByEmail rows with an email that a
	// Clerk user with another external_id has (an import would fail them).
	ByExternalID, ByEmail int64
	// Err is why the check stopped early, if it did; the rows it did not
	// reach are unchecked.
	Err string
}

// targetItem is one row to check.
type targetItem struct {
	pos, line int64
	key       string
	emails    []string // lower-cased
}

// targetChecker batches rows into ListUsers calls.
type targetChecker struct {
	g      *gateway.Gateway
	sent0  int64 // the gateway's requests before the check
	emit   func(f *verdict.Finding, invalidates bool) error
	res    TargetResult
	byExt  map[string][]*targetItem
	byMail map[string][]*targetItem
	// failed, when set, stops the check before its first lookup (the
	// target's pre-flight failed).
	failed error
}

func newTargetChecker(cfg TargetCheck, emit func(*verdict.Finding, bool) error) *targetChecker {
	return &targetChecker{g: cfg.Gateway, sent0: cfg.Gateway.Stats().Requests(), emit: emit,
		byExt: map[string][]*targetItem{}, byMail: map[string][]*targetItem{}}
}

// run checks the rows received until in is closed, then the partial batches.
func (t *targetChecker) run(ctx context.Context, in <-chan *targetItem) error {
	err := t.failed
	for it := range in {
		if err != nil {
			continue // drain, so the sender never blocks
		}
		err = t.add(ctx, it)
	}
	if err == nil {
		if err = t.flushExt(ctx); err == nil {
			err = t.flushMail(ctx)
		}
	}
	t.res.Requests = t.g.Stats().Requests() - t.sent0
	if err != nil {
		t.res.Err = err.Error()
	}
	return err
}

func (t *targetChecker) add(ctx context.Context, it *targetItem) error {
	if it.key != "" {
		if _, ok := t.byExt[it.key]; !ok && len(t.byExt) == MaxFilterValues {
			if err := t.flushExt(ctx); err != nil {
				return err
			}
		}
		t.byExt[it.key] = append(t.byExt[it.key], it)
	}
	for _, e := range it.emails {
		if _, ok := t.byMail[e]; !ok && len(t.byMail) == MaxFilterValues {
			if err := t.flushMail(ctx); err != nil {
				return err
			}
		}
		t.byMail[e] = append(t.byMail[e], it)
	}
	return nil
}

func (t *targetChecker) flushExt(ctx context.Context) error {
	if len(t.byExt) == 0 {
		return nil
	}
	vals := make([]string, 0, len(t.byExt))
	for k := range t.byExt {
		vals = append(vals, k)
	}
	users, err := t.list(ctx, clerk.ListUsersParams{ExternalID: vals, Limit: 500})
	if err != nil {
		return err
	}
	for _, u := range users {
		if u.ExternalID == nil {
			continue
		}
		for _, it := range t.byExt[*u.ExternalID] {
			t.res.ByExternalID++
			f := verdict.Finding{Pos: it.pos, Line: it.line, Key: it.key, Field: "external_id", Code: CodeExistsInTarget,
				Reason: fmt.Sprintf("Clerk user %s already has external_id %s: an import settles this row exists "+
					"and changes nothing", u.ID, it.key)}
			if err := t.emit(&f, false); err != nil {
				return err
			}
		}
	}
	clear(t.byExt)
	return nil
}

func (t *targetChecker) flushMail(ctx context.Context) error {
	if len(t.byMail) == 0 {
		return nil
	}
	vals := make([]string, 0, len(t.byMail))
	for k := range t.byMail {
		vals = append(vals, k)
	}
	users, err := t.list(ctx, clerk.ListUsersParams{EmailAddress: vals, Limit: 500})
	if err != nil {
		return err
	}
	for _, u := range users {
		for _, ea := range u.EmailAddresses {
			for _, it := range t.byMail[strings.ToLower(ea.EmailAddress)] {
				if u.ExternalID != nil && *u.ExternalID == it.key {
					continue // the same user: the external_id check reports it
				}
				t.res.ByEmail++
				other := "no external_id"
				if u.ExternalID != nil {
					other = "external_id " + *u.ExternalID
				}
				f := verdict.Finding{Pos: it.pos, Line: it.line, Key: it.key, Field: "email_address", Code: CodeEmailInTarget,
					Reason: fmt.Sprintf("Clerk user %s (%s) already has %s: an import would fail this row "+
						"with form_identifier_exists", u.ID, other, strings.ToLower(ea.EmailAddress))}
				if err := t.emit(&f, true); err != nil {
					return err
				}
			}
		}
	}
	clear(t.byMail)
	return nil
}

// list sends one GET through the gateway.
func (t *targetChecker) list(ctx context.Context, p clerk.ListUsersParams) ([]clerk.User, error) {
	users, err := t.g.ListUsers(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("validate: checking the target: %w", err)
	}
	return users, nil
}
