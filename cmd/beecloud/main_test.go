package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Credentials of BeeCloud's public examples (beecloud-button README).
const (
	testAppID        = "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719"
	testAppSecret    = "39a7a518-9ac8-4a9e-87bc-7885f33cf18c"
	testMasterSecret = "506371c7-b095-45da-bfce-9ae857c41a85"
)

// result is what one run of the program did.
type result struct {
	cmd            string // the command line, "beecloud args…", for messages
	code           int
	stdout, stderr string
}

// testCLI returns a cli whose environment is env alone.
func testCLI(env map[string]string, stdin string) (*cli, *bytes.Buffer, *bytes.Buffer) {
	var stdout, stderr bytes.Buffer
	return &cli{
		ctx:    context.Background(),
		stdin:  strings.NewReader(stdin),
		stdout: &stdout,
		stderr: &stderr,
		getenv: func(k string) string { return env[k] },
		client: &http.Client{Timeout: 5 * time.Second},
		sleep:  func(context.Context, time.Duration) error { return nil },
	}, &stdout, &stderr
}

// runCLI runs the program with args, an environment of env alone and stdin.
func runCLI(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	c, stdout, stderr := testCLI(env, stdin)
	code := c.run(args)
	return result{"beecloud " + strings.Join(args, " "), code, stdout.String(), stderr.String()}
}

func TestRunCommands(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   string // substring
		stderr   string // substring
		noStdout bool
	}{
		{name: "no command", args: nil, code: exitUsage, stderr: "Commands:", noStdout: true},
		{name: "unknown command", args: []string{"charge"}, code: exitUsage, stderr: `unknown command "charge"`, noStdout: true},
		{name: "help", args: []string{"-h"}, code: exitOK, stdout: "sandbox"},
		{name: "help command", args: []string{"help", "verify"}, code: exitOK, stderr: "Usage: beecloud verify"},
		{name: "help unknown command", args: []string{"help", "charge"}, code: exitUsage, stderr: `unknown command "charge"`, noStdout: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, "", tt.args...)
			assert.Equal(t, tt.code, r.code, "%s: exit code (stderr %q)", r.cmd, r.stderr)
			assert.Contains(t, r.stdout, tt.stdout, "%s: stdout", r.cmd)
			assert.Contains(t, r.stderr, tt.stderr, "%s: stderr", r.cmd)
			if tt.noStdout {
				assert.Empty(t, r.stdout, "%s: stdout", r.cmd)
			}
		})
	}
}

// TestHelpEveryCommand checks that each command explains itself on -h and
// exits 0 without doing anything.
func TestHelpEveryCommand(t *testing.T) {
	for _, cmd := range commands {
		t.Run(cmd.name, func(t *testing.T) {
			r := runCLI(t, nil, "", cmd.name, "-h")
			assert.Equal(t, exitOK, r.code, "%s: exit code", r.cmd)
			assert.Contains(t, r.stderr, "Usage: beecloud "+cmd.name, "%s: stderr", r.cmd)
			if cmd.name != "version" {
				assert.Contains(t, r.stderr, "-app-id", "%s: stderr; want the flags listed", r.cmd)
			}
		})
	}
}

// TestRunEntry checks the real entry point with the process environment.
func TestRunEntry(t *testing.T) {
	t.Setenv(envAppID, testAppID)
	t.Setenv(envAppSecret, testAppSecret)
	var stdout, stderr bytes.Buffer
	code := run([]string{"sign", "-title", "test", "-amount", "1", "-out-trade-no", "test0001"}, strings.NewReader(""), &stdout, &stderr)
	require.Equal(t, exitOK, code, "run(sign …): exit code (stderr %q)", stderr.String())
	assert.Equal(t, "e68639606d2d0a99b2e2c8872729d004\n", stdout.String(), "run(sign …): stdout")
}
