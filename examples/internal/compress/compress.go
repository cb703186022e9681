// Package compress gzips the examples' pages for browsers that accept it.
package compress

import (
	"compress/gzip"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
)

// minSize is the smallest body worth compressing; smaller ones go as
// they are (a webhook's "success", a JSON status).
const minSize = 512

var writers = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.DefaultCompression) // the level is valid
	return w
}}

// Gzip serves h's text responses (HTML, CSS, JavaScript, JSON, SVG)
// gzipped to clients whose Accept-Encoding allows it. It buffers the
// first minSize bytes to decide, so small answers stay uncompressed.
func Gzip(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept-Encoding")
		if !acceptsGzip(r.Header.Get("Accept-Encoding")) || r.Method == http.MethodHead {
			h.ServeHTTP(w, r)
			return
		}
		cw := &writer{ResponseWriter: w}
		defer cw.close()
		h.ServeHTTP(cw, r)
	})
}

// acceptsGzip reports whether an Accept-Encoding header lists gzip with a
// non-zero quality.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		q := strings.ReplaceAll(params, " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

// compressible reports whether a Content-Type is text worth gzipping.
func compressible(contentType string) bool {
	t, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(t, "text/"), t == "application/json", t == "application/javascript", t == "image/svg+xml":
		return true
	}
	return false
}

// writer holds the status and the first bytes back until it knows
// whether to compress.
type writer struct {
	http.ResponseWriter
	status  int
	buf     []byte
	decided bool
	gz      *gzip.Writer
}

func (w *writer) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *writer) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.decided {
		if w.gz != nil {
			return w.gz.Write(p)
		}
		return w.ResponseWriter.Write(p)
	}
	w.buf = append(w.buf, p...)
	if len(w.buf) >= minSize {
		if err := w.decide(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// decide starts the response, gzipped if it is large enough, of a text
// type and not already encoded, and writes what was held back.
func (w *writer) decide() error {
	w.decided = true
	h := w.Header()
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", http.DetectContentType(w.buf))
	}
	if len(w.buf) >= minSize && h.Get("Content-Encoding") == "" && compressible(h.Get("Content-Type")) &&
		w.status != http.StatusNoContent && w.status != http.StatusNotModified {
		h.Set("Content-Encoding", "gzip")
		h.Del("Content-Length")
		w.gz = writers.Get().(*gzip.Writer)
		w.gz.Reset(w.ResponseWriter)
	}
	w.ResponseWriter.WriteHeader(w.status)
	buf := w.buf
	w.buf = nil
	if w.gz != nil {
		_, err := w.gz.Write(buf)
		return err
	}
	_, err := w.ResponseWriter.Write(buf)
	return err
}

func (w *writer) close() {
	if !w.decided {
		if w.status == 0 {
			return // nothing written: net/http answers 200 with no body
		}
		w.decide() //nolint:errcheck // the client went away; nothing to tell it
	}
	if w.gz != nil {
		_ = w.gz.Close() // the client went away
		w.gz.Reset(io.Discard)
		writers.Put(w.gz)
		w.gz = nil
	}
}

// Flush sends what has been written so far, for streaming handlers.
func (w *writer) Flush() {
	if !w.decided && w.status != 0 {
		w.decide() //nolint:errcheck // the client went away
	}
	if w.gz != nil {
		_ = w.gz.Flush() // the client went away
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
