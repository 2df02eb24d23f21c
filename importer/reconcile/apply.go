package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"golang.org/x/time/rate"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
)

// API is the part of Clerk's Backend API the sync calls. It is satisfied by
// *clerk.Client.
type API interface {
	importer.UserAPI
	GetUser(ctx context.Context, id string) (*clerk.User, error)
	UpdateUser(ctx context.Context, id string, p *clerk.UpdateUserParams) (*clerk.User, error)
	UpdateUserMetadata(ctx context.Context, id string, p *clerk.MetadataParams) (*clerk.User, error)
	ReplaceUserMetadata(ctx context.Context, id string, p *clerk.MetadataParams) (*clerk.User, error)
	BanUser(ctx context.Context, id string) (*clerk.User, error)
	UnbanUser(ctx context.Context, id string) (*clerk.User, error)
	LockUser(ctx context.Context, id string) (*clerk.User, error)
	UnlockUser(ctx context.Context, id string) (*clerk.User, error)
	CreateEmailAddress(ctx context.Context, p clerk.CreateEmailAddressParams) (*clerk.EmailAddress, error)
	CreatePhoneNumber(ctx context.Context, p clerk.CreatePhoneNumberParams) (*clerk.PhoneNumber, error)
	DeleteEmailAddress(ctx context.Context, id string) error
	DeletePhoneNumber(ctx context.Context, id string) error
}

// callCounts counts the sync's calls by kind.
type callCounts struct {
	pages, creates, updates, metadata, emails, phones, flags, deletes atomic.Int64
	emailsRemoved, phonesRemoved                                      atomic.Int64
}

// writer carries out changes through the gate.
type writer struct {
	api     API
	gate    *importer.Gate
	mode    MetadataMode
	perUser importer.Rate
	n       *callCounts
}

// userLimiter spaces the per-user-limited writes (PATCH user, PATCH|PUT
// metadata) of one user: a burst of half the per-user budget, then the
// other half spread over the window, so that no window of Clerk's ever sees
// more than the budget, whatever k is.
func (w *writer) userLimiter() *rate.Limiter {
	limit := w.perUser.Requests
	burst := max(1, limit/2)
	per := float64(max(1, limit-burst)) / w.perUser.Window.Seconds()
	return rate.NewLimiter(rate.Limit(per), burst)
}

// apply carries out c for the Clerk user id. It returns the first error.
func (w *writer) apply(ctx context.Context, id string, c *change) error {
	spacer := w.userLimiter()
	limited := func() error { return spacer.Wait(ctx) }
	for _, e := range c.addEmails {
		if err := w.addEmail(ctx, id, e); err != nil {
			return fmt.Errorf("adding email address: %w", err)
		}
	}
	for _, p := range c.addPhones {
		if err := w.addPhone(ctx, id, p); err != nil {
			return fmt.Errorf("adding phone number: %w", err)
		}
	}
	if c.update != nil {
		if err := limited(); err != nil {
			return err
		}
		w.n.updates.Add(1)
		if err := w.gate.Do(ctx, func(ctx context.Context) error {
			_, err := w.api.UpdateUser(ctx, id, c.update)
			return err
		}); err != nil {
			return err
		}
	}
	// After the adds and the primary switch: deleting a user's primary
	// address makes Clerk promote another verified one of its choosing, so
	// the primary is the source's before anything goes, and the user keeps
	// an identification throughout.
	for _, e := range c.delEmails {
		if err := w.remove(ctx, spacer, &w.n.emailsRemoved, w.api.DeleteEmailAddress, e.ID); err != nil {
			return fmt.Errorf("removing email address %s: %w", e.ID, err)
		}
	}
	for _, p := range c.delPhones {
		if err := w.remove(ctx, spacer, &w.n.phonesRemoved, w.api.DeletePhoneNumber, p.ID); err != nil {
			return fmt.Errorf("removing phone number %s: %w", p.ID, err)
		}
	}
	if c.metadata != nil {
		if err := limited(); err != nil {
			return err
		}
		w.n.metadata.Add(1)
		if err := w.gate.Do(ctx, func(ctx context.Context) error {
			var err error
			if w.mode == Replace {
				_, err = w.api.ReplaceUserMetadata(ctx, id, c.metadata)
			} else {
				_, err = w.api.UpdateUserMetadata(ctx, id, c.metadata)
			}
			return err
		}); err != nil {
			return err
		}
	}
	if c.ban != nil {
		if err := w.flag(ctx, id, *c.ban, w.api.BanUser, w.api.UnbanUser); err != nil {
			return err
		}
	}
	if c.lock != nil {
		if err := w.flag(ctx, id, *c.lock, w.api.LockUser, w.api.UnlockUser); err != nil {
			return err
		}
	}
	return nil
}

// remove deletes one email address or phone number by id, through the gate
// and the user's spacer (whether Clerk counts these deletes against the
// per-user budget is not documented; spacing them costs nothing in
// practice). A 404 means it is gone already (an earlier attempt whose
// answer was lost, or the user removed it): success.
func (w *writer) remove(ctx context.Context, spacer *rate.Limiter, n *atomic.Int64, del func(context.Context, string) error, id string) error {
	if err := spacer.Wait(ctx); err != nil {
		return err
	}
	n.Add(1)
	err := w.gate.Do(ctx, func(ctx context.Context) error { return del(ctx, id) })
	var ae *clerk.Error
	if errors.As(err, &ae) && ae.Status == 404 {
		return nil
	}
	return err
}

func (w *writer) flag(ctx context.Context, id string, on bool, set, unset func(context.Context, string) (*clerk.User, error)) error {
	fn := unset
	if on {
		fn = set
	}
	w.n.flags.Add(1)
	return w.gate.Do(ctx, func(ctx context.Context) error { _, err := fn(ctx, id); return err })
}

// addEmail adds an address, verified only when the source verified it.
// Sending it again after a lost answer meets "already exists": then the
// user is read to see whether it is ours.
func (w *writer) addEmail(ctx context.Context, id string, e addIdent) error {
	p := clerk.CreateEmailAddressParams{UserID: id, EmailAddress: e.Value, Verified: clerk.Value(e.Verified)}
	if e.Primary {
		p.Primary = clerk.Value(true)
	}
	w.n.emails.Add(1)
	err := w.gate.Do(ctx, func(ctx context.Context) error { _, err := w.api.CreateEmailAddress(ctx, p); return err })
	return w.ownedAlready(ctx, id, err, "email_address", e.Value)
}

func (w *writer) addPhone(ctx context.Context, id string, ph addIdent) error {
	p := clerk.CreatePhoneNumberParams{UserID: id, PhoneNumber: ph.Value, Verified: clerk.Value(ph.Verified)}
	if ph.Primary {
		p.Primary = clerk.Value(true)
	}
	w.n.phones.Add(1)
	err := w.gate.Do(ctx, func(ctx context.Context) error { _, err := w.api.CreatePhoneNumber(ctx, p); return err })
	return w.ownedAlready(ctx, id, err, "phone_number", ph.Value)
}

// ownedAlready turns "identifier exists" into success when the user itself
// holds the identifier (an earlier attempt whose answer was lost).
func (w *writer) ownedAlready(ctx context.Context, id string, err error, param, value string) error {
	var ae *clerk.Error
	if err == nil || !errors.As(err, &ae) {
		return err
	}
	if p, ok := ae.IdentifierExists(); !ok || p != param {
		return err
	}
	var u *clerk.User
	if gerr := w.gate.Do(ctx, func(ctx context.Context) error { var e error; u, e = w.api.GetUser(ctx, id); return e }); gerr != nil {
		return err
	}
	for _, e := range u.EmailAddresses {
		if strings.EqualFold(e.EmailAddress, value) {
			return nil
		}
	}
	for _, p := range u.PhoneNumbers {
		if p.PhoneNumber == value {
			return nil
		}
	}
	return err
}

// failure fills a failed settlement from the error that ended a row.
func failure(s checkpoint.Settlement, err error) checkpoint.Settlement {
	s.Outcome = checkpoint.Failed
	s.Retryable = errors.Is(err, importer.ErrRetriesExhausted) || clerk.Classify(err) == clerk.Retry
	s.ErrorCode = "transport_error"
	var ae *clerk.Error
	if errors.As(err, &ae) {
		s.ErrorCode = ae.Code()
		s.Field = ae.Param()
		if p, ok := ae.IdentifierExists(); ok {
			s.Field = p
		}
	}
	s.Message = err.Error()
	return s
}
