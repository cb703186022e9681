package beecloud_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestREADMEIntegrationCompiles type-checks the README's "Integrate in 30
// lines" snippet, so that the first code a new user copies builds.
func TestREADMEIntegrationCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, after, ok := strings.Cut(string(readme), "## Integrate in 30 lines")
	require.True(t, ok, `README.md has no "## Integrate in 30 lines" section`)
	_, block, ok := strings.Cut(after, "```go\n")
	require.True(t, ok, "the integration section has no ```go block")
	snippet, _, ok := strings.Cut(block, "```")
	require.True(t, ok, "the integration section's ```go block is not closed")
	n := strings.Count(strings.TrimSpace(snippet), "\n") + 1
	assert.LessOrEqual(t, n, 30, "lines of the integration snippet; keep it short")

	// The snippet stands for the body of main; orders stands for the
	// merchant's own records.
	src := `package main

import (
	"context"
	"html/template"
	"log"
	"net/http"
	"os"

	"github.com/paybutton/beecloud"
)

type orderBook struct{}

func (orderBook) Save(beecloud.Order)                            {}
func (orderBook) Amount(id string) (int64, error)                { return 0, nil }
func (orderBook) RefundAmount(refundNo string) (int64, error)    { return 0, nil }
func (orderBook) MarkPaid(ctx context.Context, id string) error { return nil }

var orders orderBook

func main() {
` + snippet + `}
`
	dir, err := os.MkdirTemp(".", "readme-snippet-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644))
	out, err := exec.Command("go", "vet", "./"+filepath.Base(dir)).CombinedOutput()
	require.NoError(t, err, "the README's integration snippet does not build:\n%s\n%s", out, src)
}
