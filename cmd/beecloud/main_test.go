package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Credentials of BeeCloud's public examples (beecloud-button README).
const (
	testAppID        = "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719"
	testAppSecret    = "39a7a518-9ac8-4a9e-87bc-7885f33cf18c"
	testMasterSecret = "506371c7-b095-45da-bfce-9ae857c41a85"
)

// result is what one run of the program did.
type result struct {
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
	return result{code, stdout.String(), stderr.String()}
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
			if r.code != tt.code {
				t.Errorf("exit code %d; want %d (stderr %q)", r.code, tt.code, r.stderr)
			}
			if !strings.Contains(r.stdout, tt.stdout) {
				t.Errorf("stdout %q; want it to contain %q", r.stdout, tt.stdout)
			}
			if !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("stderr %q; want it to contain %q", r.stderr, tt.stderr)
			}
			if tt.noStdout && r.stdout != "" {
				t.Errorf("stdout %q; want nothing", r.stdout)
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
			if r.code != exitOK {
				t.Errorf("exit code %d; want 0", r.code)
			}
			if want := "Usage: beecloud " + cmd.name; !strings.Contains(r.stderr, want) {
				t.Errorf("-h printed %q; want it to contain %q", r.stderr, want)
			}
			if cmd.name != "version" && !strings.Contains(r.stderr, "-app-id") {
				t.Errorf("-h printed %q; want the flags listed", r.stderr)
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
	if code != exitOK {
		t.Fatalf("exit code %d; want 0 (stderr %q)", code, stderr.String())
	}
	if got, want := stdout.String(), "e68639606d2d0a99b2e2c8872729d004\n"; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
}
