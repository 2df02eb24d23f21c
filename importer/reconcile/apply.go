package reconcile

import (
	"context"
	"errors"
	"fmt"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"strings"
	"sync/atomic"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/gateway"
)

// callCounts counts the sync's calls by kind.
type callCounts struct {
	pages, creates, updates, metadata, emails, phones, flags, deletes atomic.Int64
	settled                                                           atomic.Int64
	emailsRemoved, phonesRemoved                                      atomic.Int64
}

// writer carries out changes through the gateway, which spaces the
// per-user-limited writes (PATCH user, PATCH|PUT metadata) under Clerk's
// per-user budget.
type writer struct {
	g    *gateway.Gateway
	mode MetadataMode
	n    *callCounts
}

// apply carries out c for the Clerk user id. It returns the first error.
func (w *writer) apply(ctx context.Context, id string, c *change) error {
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
		w.n.updates.Add(1)
		if _, err := w.g.UpdateUser(ctx, id, c.update); err != nil {
			return err
		}
	}
	// After the adds and the primary switch: deleting a user's primary
	// address makes Clerk promote another verified one of its choosing, so
	// the primary is the source's before anything goes, and the user keeps
	// an identification throughout.
	for _, e := range c.delEmails {
		if err := w.remove(ctx, &w.n.emailsRemoved, w.g.DeleteEmailAddress, e.ID); err != nil {
			return fmt.Errorf("removing email address %s: %w", e.ID, err)
		}
	}
	for _, p := range c.delPhones {
		if err := w.remove(ctx, &w.n.phonesRemoved, w.g.DeletePhoneNumber, p.ID); err != nil {
			return fmt.Errorf("removing phone number %s: %w", p.ID, err)
		}
	}
	if c.metadata != nil {
		w.n.metadata.Add(1)
		write := w.g.UpdateUserMetadata
		if w.mode == Replace {
			write = w.g.ReplaceUserMetadata
		}
		if _, err := write(ctx, id, c.metadata); err != nil {
			return err
		}
	}
	if c.ban != nil {
		if err := w.flag(ctx, id, *c.ban, w.g.BanUser, w.g.UnbanUser); err != nil {
			return err
		}
	}
	if c.lock != nil {
		if err := w.flag(ctx, id, *c.lock, w.g.LockUser, w.g.UnlockUser); err != nil {
			return err
		}
	}
	return nil
}

// remove deletes one email address or phone number by id, through the
// gateway (Clerk documents no per-user budget for these deletes). A 404 means it is gone already (an earlier attempt whose
// answer was lost, or the user removed it): success.
func (w *writer) remove(ctx context.Context, n *atomic.Int64, del func(context.Context, string) error, id string) error {
	n.Add(1)
	err := del(ctx, id)
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
	_, err := fn(ctx, id)
	return err
}

// addEmail adds an address, verified only when the source verified it.
// Sending it again after a lost answer meets "already exists": then the
// user is read to see whether it is ours.
func (w *writer) addEmail(ctx context.Context, id string, e addIdent) error {
	p := clerk.CreateEmailAddressParams{UserID: id, EmailAddress: e.Value, Verified: request.Value(e.Verified)}
	if e.Primary {
		p.Primary = request.Value(true)
	}
	w.n.emails.Add(1)
	_, err := w.g.CreateEmailAddress(ctx, p)
	return w.ownedAlready(ctx, id, err, "email_address", e.Value)
}

func (w *writer) addPhone(ctx context.Context, id string, ph addIdent) error {
	p := clerk.CreatePhoneNumberParams{UserID: id, PhoneNumber: ph.Value, Verified: request.Value(ph.Verified)}
	if ph.Primary {
		p.Primary = request.Value(true)
	}
	w.n.phones.Add(1)
	_, err := w.g.CreatePhoneNumber(ctx, p)
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
	u, gerr := w.g.GetUser(ctx, id)
	if gerr != nil {
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
	s.Retryable = errors.Is(err, gateway.ErrRetriesExhausted) || clerk.Classify(err) == clerk.Retry
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
