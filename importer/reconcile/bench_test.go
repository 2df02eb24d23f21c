package reconcile

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
)

// loadUsers puts users straight into the emulator (an import of 100,000
// users would dominate the benchmark's setup), as the importer would have
// created them.
func loadUsers(b *testing.B, e *emulator.Emulator, us []legacyUser) {
	var st emulator.State
	for i, u := range us {
		ext, first, last := u.ID, u.First, u.Last
		ms := int64(1_700_000_000_000 + i)
		st.Users = append(st.Users, emulator.UserState{
			ID: fmt.Sprintf("user_%07d", i+1), ExternalID: &ext, FirstName: &first, LastName: &last,
			EmailAddresses:        []emulator.Identifier{{ID: fmt.Sprintf("idn_%07d", i+1), Value: u.Email, Verified: true, CreatedAt: ms, UpdatedAt: ms}},
			PrimaryEmailAddressID: fmt.Sprintf("idn_%07d", i+1),
			PublicMetadata:        map[string]any{"plan": u.Plan, "n": float64(u.N)},
			PasswordEnabled:       true, PasswordHasher: "bcrypt", HasPasswordDigest: true,
			Banned: u.Banned, CreatedAt: ms, UpdatedAt: ms,
		})
	}
	var buf bytes.Buffer
	file := struct {
		Format string `json:"format"`
		emulator.State
	}{"clerkmigrate-emulator-state/1", st}
	if err := json.NewEncoder(&buf).Encode(file); err != nil {
		b.Fatal(err)
	}
	if err := e.LoadState(&buf); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkNightlySync100k syncs 100,000 users of which 1% changed (plus
// 0.5% new and 0.3% gone) against the emulator with a raised limit, and
// reports the API calls, the measured wall time, the time the same calls
// take at the production budget (1000/10 s), and the peak heap growth.
func BenchmarkNightlySync100k(b *testing.B) {
	const n = 100_000
	e := newEnv(b, emulator.Config{})
	emu := e.srv.Emulator()
	seed := seedUsers(n)
	loadUsers(b, emu, seed)
	ctx := context.Background()
	if _, err := Run(ctx, e.config(b, writeSource(b, e.dir, "base.csv", seed))); err != nil {
		b.Fatal(err)
	}
	changed := func() []legacyUser { // 1% changed (4 kinds of 0.25%), 500 new, 300 gone
		var out []legacyUser
		for i := 1; i <= n-300; i++ {
			u := baseUser(i)
			switch i % 400 {
			case 1:
				u.First = "Changed"
			case 2:
				u.Plan = "pro"
			case 3:
				u.DigestVersion = 1
			case 4:
				u.Email = fmt.Sprintf("new%d@example.com", i)
			}
			out = append(out, u)
		}
		for i := n + 1; i <= n+500; i++ {
			out = append(out, baseUser(i))
		}
		return out
	}()
	versions := []string{writeSource(b, e.dir, "changed.csv", changed), writeSource(b, e.dir, "base2.csv", seed)}
	b.ResetTimer()
	var totalCalls, writes int
	var wall time.Duration
	var peak uint64
	for i := 0; i < b.N; i++ {
		cfg := e.config(b, versions[i%2])
		cfg.Orphans, cfg.MaxDelete = DeleteOrphans, 1000
		before := emu.Stats()
		stop := peakHeap()
		start := time.Now()
		sum, err := Run(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		wall += time.Since(start)
		peak = max(peak, stop())
		t, w, routes := calls(before, emu.Stats())
		totalCalls, writes = totalCalls+t, writes+w
		if i == 0 {
			b.Logf("sync %d: %d calls %v, outcomes %v, %s", i, t, routes, sum.ByOutcome, time.Since(start))
		}
	}
	perRun := float64(totalCalls) / float64(b.N)
	b.ReportMetric(perRun, "api-calls/sync")
	b.ReportMetric(float64(writes)/float64(b.N), "writes/sync")
	b.ReportMetric(wall.Seconds()/float64(b.N), "wall-s/sync")
	b.ReportMetric(perRun/100, "s-at-1000/10s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-live-heap-growth-MB")
}

// peakHeap samples the live heap (as of the last GC, so GC headroom does
// not count) until stop, which returns its peak growth over the start.
func peakHeap() func() uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	live := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := live()
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if v := live(); v > base && v-base > peak.Load() {
					peak.Store(v - base)
				}
			}
		}
	}()
	return func() uint64 { close(done); wg.Wait(); return peak.Load() }
}

// BenchmarkIncrementalSync100k: 100,000 users synced in full once; then,
// each iteration, 200 source rows changed (the incremental source yields
// those) and 50 users edited in Clerk, and an incremental sync. It reports
// the list pages, the writes and the users written to the index: the
// cost follows the change on both sides (a full scan is 201 pages).
func BenchmarkIncrementalSync100k(b *testing.B) {
	const n = 100_000
	e := newEnv(b, emulator.Config{})
	emu := e.srv.Emulator()
	seed := seedUsers(n)
	loadUsers(b, emu, seed)
	ctx := context.Background()
	if _, err := Run(ctx, e.config(b, writeSource(b, e.dir, "base.csv", seed))); err != nil {
		b.Fatal(err)
	}
	ids := emu.Snapshot().Users
	var pages, writes, indexed float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		var delta []legacyUser
		for j := 0; j < 200; j++ {
			u := baseUser(1 + (i*200+j*487)%n)
			u.Last = fmt.Sprintf("Night%d", i)
			delta = append(delta, u)
		}
		for j := 0; j < 50; j++ {
			if _, err := e.api.UpdateUserMetadata(ctx, ids[(i*50+j*1999)%n].ID, &clerk.MetadataParams{PrivateMetadata: map[string]any{"night": i}}); err != nil {
				b.Fatal(err)
			}
		}
		cfg := e.config(b, writeSource(b, e.dir, fmt.Sprintf("delta%d.csv", i), delta))
		// loadUsers stamps the 100,000 users 1 ms apart: all within the
		// default overlap (5 minutes) of the first mark. An import at
		// Clerk's budget spreads them over 17 minutes or more.
		cfg.Incremental, cfg.ClerkOverlap = true, time.Second
		before := emu.Stats()
		b.StartTimer()
		sum, err := Run(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		_, w, routes := calls(before, emu.Stats())
		pages += float64(routes["GET /v1/users"])
		writes += float64(w)
		indexed += float64(sum.Reindexed)
		if i == 0 {
			b.Logf("incremental sync: %v, outcomes %v, scan %s: %d listed, %d written to the index", routes, sum.ByOutcome, sum.Scan, sum.Listed, sum.Reindexed)
		}
		b.StartTimer()
	}
	b.ReportMetric(pages/float64(b.N), "list-pages/sync")
	b.ReportMetric(writes/float64(b.N), "writes/sync")
	b.ReportMetric(indexed/float64(b.N), "index-writes/sync")
}
