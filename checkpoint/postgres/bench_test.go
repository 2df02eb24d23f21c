package postgres_test

import (
	"context"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/postgres"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/storetest"
)

func BenchmarkStore(b *testing.B) {
	dsn := testDSN(b)
	storetest.Bench(b, func(b *testing.B) checkpoint.Store {
		s, err := postgres.Open(context.Background(), dsn, postgres.WithSchema(testSchema(b, dsn)))
		if err != nil {
			b.Fatal(err)
		}
		return s
	})
}
