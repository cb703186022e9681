package main

import (
	"bytes"
	"context"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestNoDatabaseDriver checks that this command, the one people run first,
// builds without the database drivers, whose compilation would double a
// first "go run ./examples/checkout".
func TestNoDatabaseDriver(t *testing.T) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		t.Skip("no build info in this test binary")
	}
	for _, m := range info.Deps {
		for _, driver := range []string{"github.com/jackc/pgx", "github.com/redis/go-redis", "github.com/paybutton/beecloud/stores/"} {
			assert.False(t, strings.HasPrefix(m.Path, driver), "the binary links %s; want no database driver (they belong in ./withdb)", m.Path)
		}
	}
}

func TestDatabaseStoresPointToWithDB(t *testing.T) {
	for _, store := range []string{"postgres", "redis"} {
		var out bytes.Buffer
		err := command.Run(context.Background(), []string{"-store", store}, func(string) string { return "" }, &out, &out, func(string) {
			assert.Fail(t, "run served; want an error")
		})
		assert.ErrorContains(t, err, "go run ./examples/checkout/withdb", "Run -store %s: want an error naming withdb", store)
	}
}
