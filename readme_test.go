package beecloud_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMEIntegrationCompiles type-checks the README's "Integrate in 30
// lines" snippet, so that the first code a new user copies builds.
func TestREADMEIntegrationCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "## Integrate in 30 lines")
	if !ok {
		t.Fatal(`README.md has no "## Integrate in 30 lines" section`)
	}
	_, block, ok := strings.Cut(after, "```go\n")
	if !ok {
		t.Fatal("the integration section has no ```go block")
	}
	snippet, _, ok := strings.Cut(block, "```")
	if !ok {
		t.Fatal("the integration section's ```go block is not closed")
	}
	if n := strings.Count(strings.TrimSpace(snippet), "\n") + 1; n > 30 {
		t.Errorf("the integration snippet has %d lines; keep it short", n)
	}

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
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "vet", "./"+filepath.Base(dir)).CombinedOutput()
	if err != nil {
		t.Fatalf("the README's integration snippet does not build:\n%s\n%s", out, src)
	}
}
