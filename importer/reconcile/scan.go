package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
)

// Meta keys of the Clerk scan a sync records with its run.
const (
	// MetaClerkScan is "full" or "incremental".
	MetaClerkScan = "clerk_scan"
	// MetaClerkHighWater is the index's high-water mark after the scan
	// (RFC 3339, ms; Clerk's clock): the next incremental scan lists the
	// users updated since, less ClerkOverlap.
	MetaClerkHighWater = "clerk_high_water"
)

// The kinds of scan.
const (
	ScanFull        = "full"
	ScanIncremental = "incremental"
)

// ClerkOverlap is how far before the previous scan's high-water mark an
// incremental scan still lists (Config.ClerkOverlap's default): a write
// whose updated_at Clerk stamped before the mark but that became visible
// after it is read again. Reading a user again costs no write: its
// updated_at has not moved.
const ClerkOverlap = 5 * time.Minute

// stateVersion names the encoding of userState: a field added, removed or
// renamed changes it, and a sync that finds an index written with another
// encoding rebuilds it (a full scan) instead of comparing half-filled
// states.
var stateVersion = func() string {
	t := reflect.TypeOf(userState{})
	var b strings.Builder
	for i := range t.NumField() {
		f := t.Field(i)
		fmt.Fprintf(&b, "%s %s %q;", f.Name, f.Type, f.Tag)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return "state-" + hex.EncodeToString(sum[:6])
}()

// scanCounts is what a scan did to the index.
type scanCounts struct {
	kind    string
	listed  int64 // users Clerk listed
	written int64 // users new or changed since the index had them
	dropped int64 // users Clerk no longer has (full scans only)
}

// scan brings the index in step with Clerk: a full scan (every user, in
// created_at order) for a sync that judges orphans, or when the index has
// no complete scan of this encoding; an incremental one (the users updated
// since the last scan's high-water mark, newest first) for an incremental
// sync. Either way only the users whose updated_at moved are written, and
// the new mark is recorded once the scan is complete.
func (r *run) scan(ctx context.Context) error {
	x := r.cfg.Index
	st, err := x.IndexState(ctx, r.scope)
	if err != nil {
		return err
	}
	if st.Version != stateVersion {
		if st != (checkpoint.IndexState{}) {
			r.log.Info("the index of Clerk's users was written by another version: rebuilding it", "was", st.Version, "now", stateVersion)
		}
		if err := x.ResetIndex(ctx, r.scope); err != nil {
			return err
		}
		st = checkpoint.IndexState{}
	}
	if err := x.ClearMarks(ctx, r.scope); err != nil {
		return err
	}
	var c scanCounts
	var top int64 // the newest updated_at in Clerk as the scan begins
	if r.cfg.Incremental && st.HighWater > 0 {
		c.kind = ScanIncremental
		stop := st.HighWater - r.cfg.ClerkOverlap.Milliseconds()
		r.log.Info("incremental scan: listing the Clerk users updated since the last scan",
			"since", msTime(stop), "high_water", msTime(st.HighWater), "overlap", r.cfg.ClerkOverlap)
		err = r.scanSince(ctx, stop, &c, &top)
		if errors.Is(err, errTooDeep) {
			r.log.Warn("incremental scan: more Clerk users changed than an offset listing should page through; scanning in full",
				"pages", r.cfg.maxIncrementalPages)
			top, err = r.fullScan(ctx, &c)
		}
	} else {
		if r.cfg.Incremental {
			r.log.Info("full scan of Clerk's users: the index has no complete scan to go on from")
		}
		top, err = r.fullScan(ctx, &c)
	}
	if err != nil {
		return err
	}
	// Every change made after the scan began carries an updated_at at or
	// past the newest one Clerk had then (its clock); the overlap covers a
	// write stamped earlier that became visible later.
	mark := max(st.HighWater, top)
	if err := x.SetIndexState(ctx, r.scope, checkpoint.IndexState{Version: stateVersion, HighWater: mark}); err != nil {
		return err
	}
	r.scanned = c
	r.log.Info("Clerk scan done", "scan", c.kind, "listed", c.listed, "written", c.written, "dropped", c.dropped,
		"pages", r.n.pages.Load(), "high_water", msTime(mark))
	if err := r.cfg.Store.SetMeta(ctx, r.id, MetaClerkScan, c.kind); err != nil {
		return err
	}
	if mark > 0 {
		return r.cfg.Store.SetMeta(ctx, r.id, MetaClerkHighWater, msTime(mark))
	}
	return nil
}

// msTime renders Unix ms as RFC 3339 with ms.
func msTime(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// MaxIncrementalPages bounds an incremental scan: past it (50,000 users
// changed since the last scan, at 500 a page) the scan goes on in full, by
// the cursor, since Clerk's large offsets time out.
const MaxIncrementalPages = 100

// errTooDeep: an incremental scan reached MaxIncrementalPages.
var errTooDeep = errors.New("reconcile: incremental scan too deep")

// fullScan asks for the newest update, lists every user and drops those
// not listed; it returns the newest update, the scan's high-water mark.
func (r *run) fullScan(ctx context.Context, c *scanCounts) (int64, error) {
	*c = scanCounts{kind: ScanFull}
	top, err := r.newestUpdate(ctx)
	if err == nil {
		err = r.scanAll(ctx, c)
	}
	if err == nil {
		c.dropped, err = r.cfg.Index.DropUnlisted(ctx, r.scope)
	}
	return top, err
}

// newestUpdate asks Clerk for its most recently updated user (one call):
// the high-water mark of a full scan that begins now.
func (r *run) newestUpdate(ctx context.Context) (int64, error) {
	r.n.pages.Add(1)
	page, err := r.cfg.Gateway.ListUsersLazy(ctx, clerk.ListUsersParams{Limit: 1, OrderBy: "-updated_at"})
	if err != nil || len(page) == 0 {
		return 0, err
	}
	return page[0].UpdatedAt, nil
}

// scanAll lists every Clerk user (created_at order, the starting_after
// cursor), marks each listed and writes those new or changed.
func (r *run) scanAll(ctx context.Context, c *scanCounts) error {
	after := ""
	for {
		r.n.pages.Add(1)
		page, err := r.cfg.Gateway.ListUsersLazy(ctx, clerk.ListUsersParams{Limit: r.cfg.pageSize, OrderBy: "+created_at", StartingAfter: after})
		if err != nil {
			return fmt.Errorf("reconcile: listing Clerk's users after %q: %w", after, err)
		}
		ids := make([]string, len(page))
		for i := range page {
			ids[i] = page[i].ID
		}
		if err := r.cfg.Index.MarkListed(ctx, r.scope, ids); err != nil {
			return err
		}
		c.listed += int64(len(page))
		if err := r.putChanged(ctx, page, c); err != nil {
			return err
		}
		if len(page) < r.cfg.pageSize {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

// scanSince lists the Clerk users updated at or after stop (Unix ms),
// newest first, and writes those new or changed. It pages by offset
// (Clerk's cursor works only in created_at order): a user deleted between
// two requests shifts the rest up by one, which would skip one, so each
// page starts a tenth of a page early (a user updated meanwhile moves to
// the front instead, to be read by the next sync: its updated_at is past
// the mark this scan records).
func (r *run) scanSince(ctx context.Context, stop int64, c *scanCounts, top *int64) error {
	offset, overlap, pages := 0, r.cfg.pageSize/10, 0
	for {
		r.n.pages.Add(1)
		page, err := r.cfg.Gateway.ListUsersLazy(ctx, clerk.ListUsersParams{Limit: r.cfg.pageSize, OrderBy: "-updated_at", Offset: offset})
		if err != nil {
			return fmt.Errorf("reconcile: listing Clerk's users updated since %s (offset %d): %w", msTime(stop), offset, err)
		}
		if offset == 0 && len(page) > 0 {
			*top = page[0].UpdatedAt
		}
		n := len(page)
		for n > 0 && page[n-1].UpdatedAt < stop {
			n--
		}
		if offset == 0 {
			c.listed += int64(n)
		} else {
			c.listed += int64(max(0, n-overlap))
		}
		if err := r.putChanged(ctx, page[:n], c); err != nil {
			return err
		}
		if n < len(page) || len(page) < r.cfg.pageSize {
			return nil
		}
		if pages++; pages >= r.cfg.maxIncrementalPages {
			return errTooDeep
		}
		offset += len(page) - overlap
	}
}

// putChanged writes the users of a page that the index lacks or holds with
// another updated_at. Only those are decoded in full: of the others the
// scan reads the id and updated_at (clerk.ListedUser).
func (r *run) putChanged(ctx context.Context, page []clerk.ListedUser, c *scanCounts) error {
	if len(page) == 0 {
		return nil
	}
	ids := make([]string, len(page))
	for i := range page {
		ids[i] = page[i].ID
	}
	have, err := r.cfg.Index.UpdatedAts(ctx, r.scope, ids)
	if err != nil {
		return err
	}
	var batch []checkpoint.IndexedUser
	for i := range page {
		if at, ok := have[page[i].ID]; ok && at == page[i].UpdatedAt {
			continue
		}
		u, err := page[i].User()
		if err != nil {
			return fmt.Errorf("reconcile: reading Clerk's user: %w", err)
		}
		x, err := indexed(&u)
		if err != nil {
			return err
		}
		batch = append(batch, x)
	}
	c.written += int64(len(batch))
	if len(batch) == 0 {
		return nil
	}
	return r.cfg.Index.PutUsers(ctx, r.scope, batch)
}
