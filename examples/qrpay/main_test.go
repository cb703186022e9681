package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func noEnv(string) string { return "" }

// TestRunOffline: without credentials the command serves the shop on a
// sandbox until it is stopped.
func TestRunOffline(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr bytes.Buffer
	var page string
	err := run(ctx, []string{"-addr", "127.0.0.1:0", "-test"}, noEnv, &stdout, &stderr, func(url string) {
		defer cancel()
		resp, err := http.Get(url + "/")
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		page = string(body)
	})
	require.NoError(t, err)
	assert.Contains(t, page, `id="buy"`)
	assert.Contains(t, page, "测试模式")
	assert.Contains(t, stdout.String(), "running offline")
}

func TestRunRefusesPartialCredentials(t *testing.T) {
	env := func(k string) string {
		if k == "BEECLOUD_APP_ID" {
			return "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719"
		}
		return ""
	}
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0"}, env, io.Discard, io.Discard, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "BEECLOUD_APP_SECRET")
}
