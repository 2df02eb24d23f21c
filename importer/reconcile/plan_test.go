package reconcile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/pacer"
)

// comparable is a user without ids and times, to compare two instances.
func comparableUsers(t *testing.T, e *emulator.Emulator) map[string]string {
	out := map[string]string{}
	for ext, u := range users(t, e) {
		var emails []string
		for _, x := range u.EmailAddresses {
			emails = append(emails, x.Value)
		}
		meta, _ := json.Marshal(u.PublicMetadata)
		out[ext] = fmt.Sprintf("%s|%s|%v|%s|%s|%v|%v|%d", deref(u.FirstName), deref(u.LastName), emails,
			primary(u.EmailAddresses, u.PrimaryEmailAddressID), meta, u.Banned, u.HasPasswordDigest, u.PasswordLastUpdatedAt/1e9)
	}
	return out
}

// twoEnvs seeds two instances alike and baselines both.
func planEnv(t *testing.T, n int) (*env, []legacyUser) {
	e := newEnv(t, emulator.Config{})
	seed := seedUsers(n)
	e.seed(t, seed)
	if _, err := Run(context.Background(), e.config(t, writeSource(t, e.dir, "base.csv", seed))); err != nil {
		t.Fatal(err)
	}
	return e, seed
}

func smallChange(n int) []legacyUser {
	next := changedSource(n)
	next[110].Banned = true
	return next
}

func TestPlanThenApplyEqualsDirectSync(t *testing.T) {
	t.Parallel()
	const n = 200 // 100 changed, 30 gone, 50 new, 70 alike
	ctx := context.Background()
	direct, _ := planEnv(t, n)
	planned, _ := planEnv(t, n)
	next := smallChange(n)

	cfg := direct.config(t, writeSource(t, direct.dir, "next.csv", next))
	cfg.Orphans, cfg.MaxDelete = DeleteOrphans, 100
	if _, err := Run(ctx, cfg); err != nil {
		t.Fatal(err)
	}

	srcPath := writeSource(t, planned.dir, "next.csv", next)
	var buf bytes.Buffer
	cfg = planned.config(t, srcPath)
	cfg.Orphans, cfg.MaxDelete, cfg.PlanTo = DeleteOrphans, 100, &buf
	before := planned.srv.Emulator().Stats()
	sum, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, writes, routes := calls(before, planned.srv.Emulator().Stats()); writes != 0 {
		t.Fatalf("--plan wrote to Clerk: %v", routes)
	}
	planPath := filepath.Join(planned.dir, "plan.json")
	if err := os.WriteFile(planPath, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	plan, err := ReadPlan(planPath)
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	wantCounts := PlanCounts{Create: 50, Update: 101, Delete: 30, Unchanged: int64(n - 30 - 101)}
	if plan.Counts != wantCounts || *sum.Plan != wantCounts {
		t.Errorf("plan counts %+v, summary %+v; want %+v", plan.Counts, *sum.Plan, wantCounts)
	}
	fields := map[string]string{}
	for _, e := range plan.Entries {
		fields[e.Key] = e.Action + " " + strings.Join(e.Fields, ",")
	}
	for key, want := range map[string]string{"u1": "update first_name", "u30": "update email_address",
		"u60": "update public_metadata", "u80": "update password", "u111": "update banned",
		fmt.Sprintf("u%d", n+1): "create user", fmt.Sprintf("u%d", n-10): "delete "} {
		if fields[key] != want {
			t.Errorf("plan for %s = %q, want %q", key, fields[key], want)
		}
	}
	for _, secret := range []string{"$2a$", "54cbf"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("the plan holds %q", secret)
		}
	}

	cfg = planned.config(t, srcPath)
	cfg.Orphans, cfg.MaxDelete, cfg.ApplyPlan = DeleteOrphans, 100, plan
	if sum, err = Run(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if sum.ByOutcome[checkpoint.Updated] != 101 || sum.ByOutcome[checkpoint.Created] != 50 || sum.ByOutcome[checkpoint.Deleted] != 30 {
		t.Errorf("apply outcomes = %v", sum.ByOutcome)
	}
	a, b := comparableUsers(t, direct.srv.Emulator()), comparableUsers(t, planned.srv.Emulator())
	if len(a) != len(b) {
		t.Fatalf("direct sync: %d users, plan+apply: %d", len(a), len(b))
	}
	for ext, x := range a {
		if b[ext] != x {
			t.Errorf("%s: direct %s, plan+apply %s", ext, x, b[ext])
		}
	}
	checkMatches(t, users(t, planned.srv.Emulator()), next)
}

func TestApplyRefusesAStalePlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, _ := planEnv(t, 200)
	srcPath := writeSource(t, e.dir, "next.csv", smallChange(200))
	var buf bytes.Buffer
	cfg := e.config(t, srcPath)
	cfg.PlanTo = &buf
	if _, err := Run(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	planPath := filepath.Join(e.dir, "plan.json")
	os.WriteFile(planPath, buf.Bytes(), 0o600)
	plan, err := ReadPlan(planPath)
	if err != nil {
		t.Fatal(err)
	}
	// Someone edits a planned user in Clerk after the plan was made.
	var target PlanEntry
	for _, en := range plan.Entries {
		if en.Action == ActionUpdate {
			target = en
			break
		}
	}
	time.Sleep(2 * time.Millisecond) // updated_at is in ms
	if _, err := e.api.UpdateUser(ctx, target.ClerkID, &clerk.UpdateUserParams{LastName: request.Value("Edited")}); err != nil {
		t.Fatal(err)
	}
	before := e.srv.Emulator().Stats()
	cfg = e.config(t, srcPath)
	cfg.ApplyPlan = plan
	_, err = Run(ctx, cfg)
	if !errors.Is(err, ErrStalePlan) || !strings.Contains(err.Error(), target.Key) {
		t.Fatalf("apply of a stale plan: %v", err)
	}
	if _, writes, routes := calls(before, e.srv.Emulator().Stats()); writes != 0 {
		t.Errorf("the refused apply wrote: %v", routes)
	}
	// A plan for another source is refused before anything is read.
	cfg = e.config(t, writeSource(t, e.dir, "other.csv", seedUsers(10)))
	cfg.ApplyPlan = plan
	if _, err := Run(ctx, cfg); !errors.Is(err, ErrStalePlan) {
		t.Errorf("apply over another source: %v", err)
	}
}

// A user needing more per-user-limited writes than one window allows gets
// them spaced, and meets no 429; without the spacing the same sync does.
func TestPerUserWritesAreSpaced(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		perUser pacer.Rate
		want429 bool
	}{
		{"spaced", pacer.Rate{Requests: 1, Window: time.Second}, false},
		{"unspaced", pacer.Rate{Requests: 1000, Window: time.Second}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, emulator.Config{Window: time.Second, UserUpdatesPerWindow: 1})
			seed := seedUsers(4)
			e.seed(t, seed)
			if _, err := Run(ctx, e.config(t, writeSource(t, e.dir, "base.csv", seed))); err != nil {
				t.Fatal(err)
			}
			next := seedUsers(4)
			for i := range next { // a name and metadata: two per-user-limited writes each
				next[i].First, next[i].Plan = "Renamed", "pro"
			}
			cfg := e.config(t, writeSource(t, e.dir, "next.csv", next))
			cfg.Gateway = e.gateway(fast, tc.perUser)
			sum, err := Run(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if sum.ByOutcome[checkpoint.Updated] != 4 {
				t.Errorf("outcomes %v", sum.ByOutcome)
			}
			limited := e.srv.Emulator().Stats().RateLimited
			if (limited > 0) != tc.want429 {
				t.Errorf("%d answers were 429", limited)
			}
			checkMatches(t, users(t, e.srv.Emulator()), next)
		})
	}
}
