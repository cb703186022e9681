package storetest

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"
)

// Exception is a documented way for a [beecloud.WebhookHandler] to run
// Handle twice for one transaction, as its own log records show it.
type Exception int

const (
	// NoException means the handler logged nothing that allows a second
	// Handle.
	NoException Exception = iota
	// LeaseRanOut means a delivery's lease ran out unrenewed by the handler's
	// own clock (the store unreachable or too slow for the lease, or the
	// process starved), so another delivery could claim the transaction.
	LeaseRanOut
	// ClaimLost means a delivery's renewal found another delivery holding the
	// transaction, or its completion, while it ran: its lease had run out.
	ClaimLost
	// CompletionAbandoned means Handle succeeded but the handler gave up
	// recording the completion, so a later resend ran Handle again.
	CompletionAbandoned
)

// String returns the name of e as the figures print it.
func (e Exception) String() string {
	switch e {
	case NoException:
		return "none"
	case LeaseRanOut:
		return "lease ran out"
	case ClaimLost:
		return "claim lost"
	case CompletionAbandoned:
		return "completion abandoned"
	}
	return fmt.Sprintf("Exception(%d)", int(e))
}

// exceptionRecords are the handler's error records that announce each
// Exception, by a phrase of their message.
var exceptionRecords = []struct {
	phrase string
	ex     Exception
}{
	{"claim ran out", LeaseRanOut},
	{"claim lost to another delivery", ClaimLost},
	{"completion was never recorded", CompletionAbandoned},
}

// HandlerLog is a slog.Handler for the Logger of the handlers under test:
// it keeps every record, as a line of text, by the transaction_id
// attribute the handler puts on the records about a delivery, so that a
// test can show what the handlers logged about a transaction and tell
// from it whether a second Handle was a documented [Exception]. Make one
// with [NewHandlerLog]; it is safe for concurrent use.
type HandlerLog struct {
	start time.Time

	mu     sync.Mutex
	byID   map[string][]string
	byMsg  map[string]int // warnings and errors
	errors int
}

// NewHandlerLog returns an empty HandlerLog whose lines carry the time
// since now.
func NewHandlerLog() *HandlerLog {
	return &HandlerLog{start: time.Now(), byID: map[string][]string{}, byMsg: map[string]int{}}
}

// Handler returns the slog.Handler that records into l.
func (l *HandlerLog) Handler() slog.Handler { return &logHandler{l: l} }

// Records returns the lines logged about transaction id, oldest first.
func (l *HandlerLog) Records(id string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.byID[id]...)
}

// Exception returns the first documented exception the records of
// transaction id announce, or NoException.
func (l *HandlerLog) Exception(id string) Exception {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.byID[id] {
		if !strings.Contains(line, " ERROR ") {
			continue
		}
		for _, r := range exceptionRecords {
			if strings.Contains(line, r.phrase) {
				return r.ex
			}
		}
	}
	return NoException
}

// Errors returns the number of records at error level.
func (l *HandlerLog) Errors() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.errors
}

// Top returns the n most frequent warning and error messages with their
// counts.
func (l *HandlerLog) Top(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	msgs := make([]string, 0, len(l.byMsg))
	for m := range l.byMsg {
		msgs = append(msgs, m)
	}
	sort.Slice(msgs, func(i, j int) bool {
		if l.byMsg[msgs[i]] != l.byMsg[msgs[j]] {
			return l.byMsg[msgs[i]] > l.byMsg[msgs[j]]
		}
		return msgs[i] < msgs[j]
	})
	out := make([]string, 0, n)
	for _, m := range msgs[:min(n, len(msgs))] {
		out = append(out, fmt.Sprintf("%d× %q", l.byMsg[m], m))
	}
	return out
}

// Tail returns at most limit lines: the last ones logged about each of
// ids, under a heading per transaction, for a failure message.
func (l *HandlerLog) Tail(ids []string, limit int) string {
	if len(ids) == 0 {
		return ""
	}
	per := max(1, limit/len(ids))
	var b strings.Builder
	for _, id := range ids {
		lines := l.Records(id)
		fmt.Fprintf(&b, "handler log of %s (%d records", id, len(lines))
		if len(lines) > per {
			fmt.Fprintf(&b, ", the last %d", per)
			lines = lines[len(lines)-per:]
		}
		b.WriteString("):\n\t")
		b.WriteString(strings.Join(lines, "\n\t"))
		b.WriteString("\n")
	}
	return b.String()
}

type logHandler struct {
	l     *HandlerLog
	attrs []slog.Attr
}

func (h *logHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *logHandler) WithGroup(string) slog.Handler            { return h }

func (h *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logHandler{l: h.l, attrs: append(h.attrs[:len(h.attrs):len(h.attrs)], attrs...)}
}

func (h *logHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%8.3fs %s %s", r.Time.Sub(h.l.start).Seconds(), r.Level, r.Message)
	id := ""
	attr := func(a slog.Attr) bool {
		if a.Key == "transaction_id" {
			id = a.Value.String()
			return true
		}
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	}
	for _, a := range h.attrs {
		attr(a)
	}
	r.Attrs(attr)
	h.l.mu.Lock()
	defer h.l.mu.Unlock()
	h.l.byID[id] = append(h.l.byID[id], b.String())
	if r.Level >= slog.LevelError {
		h.l.errors++
	}
	if r.Level >= slog.LevelWarn {
		h.l.byMsg[r.Level.String()+" "+r.Message]++
	}
	return nil
}
