// Package webhookack holds the one rule by which a webhook sender (the
// sandbox, the beecloud command's send) decides that the app acknowledged
// a webhook, as BeeCloud does: the app answered the plain text success.
package webhookack

import (
	"bytes"
	"io"
	"net/http"
)

// Answer is the text an app answers to acknowledge a webhook.
const Answer = "success"

// MaxBody is how much of an answer is read and kept.
const MaxBody = 1024

// OK reports whether an answer with status code and body acknowledges a
// webhook: a 2xx status and the body success, white space around it
// aside (a PHP echo or a Java println adds a newline).
func OK(status int, body []byte) bool {
	return status >= 200 && status < 300 && string(bytes.TrimSpace(body)) == Answer
}

// Read reads the start of resp's body (up to MaxBody bytes), drains a
// little more so that the connection can be reused, and reports whether
// the answer acknowledges the webhook. It does not close the body.
func Read(resp *http.Response) (body []byte, ok bool, err error) {
	body, err = io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) //nolint:errcheck // draining only lets the connection be reused
	if err != nil {
		return body, false, err
	}
	return body, OK(resp.StatusCode, body), nil
}
