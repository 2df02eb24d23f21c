package postgres_test

import (
	"context"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/postgres"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/storetest"
)

func TestClerkIndex(t *testing.T) {
	storetest.RunIndex(t, func(t *testing.T) checkpoint.ClerkIndex {
		dsn := testDSN(t)
		s, err := postgres.Open(context.Background(), dsn, postgres.WithSchema(testSchema(t, dsn)))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
