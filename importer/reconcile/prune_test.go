package reconcile

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
)

// contactsMappingYAML maps a source with several emails and phones a row.
const contactsMappingYAML = `version: 1
key: id
fields:
  email_address: { from: email, split: "|", transform: [trim, lower], verified: true }
  phone_number: { from: phone, split: "|", verified: true }
  first_name: { from: first_name }
`

// contact is one row of the contacts source; Emails and Phones are
// "|"-separated, the first one primary.
type contact struct{ ID, Emails, Phones string }

func writeContacts(t testing.TB, dir, name string, cs []contact) string {
	t.Helper()
	path := filepath.Join(dir, name)
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	fmt.Fprintln(w, "id,email,phone,first_name")
	for _, c := range cs {
		fmt.Fprintf(w, "%s,%s,%s,Name %s\n", c.ID, c.Emails, c.Phones, c.ID)
	}
	w.Flush()
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// contactsEnv is an emulator holding cs, imported, with the baseline sync
// made (so that the next sync compares, not records).
func contactsEnv(t *testing.T, cs []contact) *env {
	t.Helper()
	e := newEnv(t, emulator.Config{})
	e.useMapping(t, "contacts.yaml", contactsMappingYAML)
	e.importFile(t, writeContacts(t, e.dir, "seed.csv", cs), len(cs))
	if _, err := Run(context.Background(), e.contactsConfig(t, cs, false)); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) contactsConfig(t *testing.T, cs []contact, prune bool) Config {
	cfg := e.config(t, writeContacts(t, e.dir, fmt.Sprintf("src-%d.csv", len(cs)), cs))
	cfg.Managed, cfg.PruneIdentifiers = nil, prune
	return cfg
}

// identifiers says what a user has: "primary|other,..." per kind.
func identifiers(u emulator.UserState) (emails, phones string) {
	list := func(ids []emulator.Identifier, primary string) string {
		var p string
		var rest []string
		for _, x := range ids {
			if x.ID == primary {
				p = x.Value
			} else {
				rest = append(rest, x.Value)
			}
		}
		slices.Sort(rest)
		return p + "|" + strings.Join(rest, ",")
	}
	return list(u.EmailAddresses, u.PrimaryEmailAddressID), list(u.PhoneNumbers, u.PrimaryPhoneNumberID)
}

// syncCalls runs a sync and returns its calls by route.
func syncCalls(t *testing.T, e *env, cfg Config) (Summary, map[string]int) {
	t.Helper()
	emu := e.srv.Emulator()
	before := emu.Stats()
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, _, routes := calls(before, emu.Stats())
	return sum, routes
}

func TestPruneIdentifiers(t *testing.T) {
	seed := []contact{
		{"c1", "old1@example.com", "+14155550101"},
		{"c2", "old2@example.com", "+14155550102"},
		{"c3", "a3@example.com|b3@example.com", "+14155550103"},
		{"c5", "five@example.com", "+14155550105"},
	}
	e := contactsEnv(t, seed)
	emu := e.srv.Emulator()
	check := func(ext, wantEmails, wantPhones string) {
		t.Helper()
		u, ok := users(t, emu)[ext]
		if !ok {
			t.Fatalf("%s is not in Clerk", ext)
		}
		if em, ph := identifiers(u); em != wantEmails || ph != wantPhones {
			t.Errorf("%s: emails %q phones %q; want %q %q", ext, em, ph, wantEmails, wantPhones)
		}
	}
	list := map[string]int{"GET /v1/users": 2} // the high-water probe and one page
	with := func(extra map[string]int) string {
		m := map[string]int{}
		for k, v := range list {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return fmt.Sprint(m)
	}

	// c1's email changed. Without the flag the old one stays, secondary.
	v2 := slices.Clone(seed)
	v2[0].Emails = "new1@example.com"
	_, routes := syncCalls(t, e, e.contactsConfig(t, v2, false))
	if fmt.Sprint(routes) != with(map[string]int{"POST /v1/email_addresses": 1}) {
		t.Errorf("sync without --prune-identifiers: calls %v", routes)
	}
	check("c1", "new1@example.com|old1@example.com", "+14155550101|")

	// With it, the old one goes: one DELETE and nothing else.
	sum, routes := syncCalls(t, e, e.contactsConfig(t, v2, true))
	if fmt.Sprint(routes) != with(map[string]int{"DELETE /v1/email_addresses/{email_address_id}": 1}) || sum.EmailsRemoved != 1 {
		t.Errorf("sync with --prune-identifiers: calls %v, %d emails removed", routes, sum.EmailsRemoved)
	}
	check("c1", "new1@example.com|", "+14155550101|")

	// In one pass with the flag: c2's email and phone change (each added as
	// primary, then the old one deleted); c3 keeps only its secondary email
	// (a PATCH makes it primary, then the old primary is deleted); the
	// source lists no phone for c5, which keeps its own.
	v3 := slices.Clone(v2)
	v3[1].Emails, v3[1].Phones = "new2@example.com", "+14155550112"
	v3[2].Emails = "b3@example.com"
	v3[3].Phones = ""
	sum, routes = syncCalls(t, e, e.contactsConfig(t, v3, true))
	want := with(map[string]int{"POST /v1/email_addresses": 1, "POST /v1/phone_numbers": 1, "PATCH /v1/users/{user_id}": 1,
		"DELETE /v1/email_addresses/{email_address_id}": 2, "DELETE /v1/phone_numbers/{phone_number_id}": 1})
	if fmt.Sprint(routes) != want || sum.EmailsRemoved != 2 || sum.PhonesRemoved != 1 {
		t.Errorf("calls %v (removed %d emails, %d phones), want %s", routes, sum.EmailsRemoved, sum.PhonesRemoved, want)
	}
	if sum.ByOutcome[checkpoint.Updated] != 2 || sum.ByOutcome[checkpoint.Unchanged] != 2 {
		t.Errorf("outcomes %v", sum.ByOutcome)
	}
	check("c2", "new2@example.com|", "+14155550112|")
	check("c3", "b3@example.com|", "+14155550103|")
	check("c5", "five@example.com|", "+14155550105|")
	if msg := e.rowMessage(t, sum.RunID, "c5"); !strings.Contains(msg, "kept 1 phone_number") {
		t.Errorf("c5's ledger message = %q, want a note that its phone was kept", msg)
	}

	// The removed addresses are free: a new user takes them.
	v4 := append(slices.Clone(v3), contact{"c6", "OLD1@example.com|old2@example.com", "+14155550102"})
	sum, routes = syncCalls(t, e, e.contactsConfig(t, v4, true))
	if fmt.Sprint(routes) != with(map[string]int{"POST /v1/users": 1}) || sum.ByOutcome[checkpoint.Created] != 1 {
		t.Errorf("creating a user with the freed addresses: calls %v, outcomes %v", routes, sum.ByOutcome)
	}
	check("c6", "old1@example.com|old2@example.com", "+14155550102|")
}

func TestPrunePlanThenApply(t *testing.T) {
	seed := []contact{{"c1", "old1@example.com", "+14155550101"}, {"c2", "two@example.com", "+14155550102"}}
	e := contactsEnv(t, seed)
	emu := e.srv.Emulator()
	next := slices.Clone(seed)
	next[0].Emails, next[0].Phones = "new1@example.com", "+14155550111"

	// A plan made with the flag names the deletions, not the values.
	var buf bytes.Buffer
	cfg := e.contactsConfig(t, next, true)
	cfg.PlanTo = &buf
	if _, routes := syncCalls(t, e, cfg); fmt.Sprint(routes) != "map[GET /v1/users:2]" {
		t.Fatalf("--plan called %v", routes)
	}
	planPath := filepath.Join(e.dir, "plan.json")
	if err := os.WriteFile(planPath, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	plan, err := ReadPlan(planPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Entries) != 1 || !plan.PruneIdentifiers ||
		strings.Join(plan.Entries[0].Fields, ",") != "email_address,phone_number,remove_email_address,remove_phone_number" {
		t.Fatalf("plan = %+v", plan)
	}
	for _, value := range []string{"old1@", "new1@", "+1415555"} {
		if strings.Contains(buf.String(), value) {
			t.Errorf("the plan holds the value %q", value)
		}
	}

	// It cannot be applied without the flag.
	cfg = e.contactsConfig(t, next, false)
	cfg.ApplyPlan = plan
	if _, err := Run(context.Background(), cfg); !errors.Is(err, ErrStalePlan) {
		t.Errorf("apply without --prune-identifiers: %v, want ErrStalePlan", err)
	}

	cfg = e.contactsConfig(t, next, true)
	cfg.ApplyPlan = plan
	sum, routes := syncCalls(t, e, cfg)
	want := "map[DELETE /v1/email_addresses/{email_address_id}:1 DELETE /v1/phone_numbers/{phone_number_id}:1 " +
		"GET /v1/users:2 POST /v1/email_addresses:1 POST /v1/phone_numbers:1]"
	if fmt.Sprint(routes) != want || sum.ByOutcome[checkpoint.Updated] != 1 {
		t.Errorf("apply: calls %v outcomes %v; want %s", routes, sum.ByOutcome, want)
	}
	u := users(t, emu)["c1"]
	if em, ph := identifiers(u); em != "new1@example.com|" || ph != "+14155550111|" {
		t.Errorf("after apply: emails %q phones %q", em, ph)
	}
}

func TestSamePhone(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"+14155550101", "+14155550101", true},
		{"+14155550101", "+14155550102", false},
		{"+1 415-555-0101", "+14155550101", true},
		{"+44 20 7946 0958", "+442079460958", true},
		{"+44 20 7946 0958", "+442079460959", false},
		{"not a phone", "+14155550101", false},
	} {
		if got := samePhone(tc.a, tc.b); got != tc.want {
			t.Errorf("samePhone(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
