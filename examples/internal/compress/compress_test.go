package compress

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGzip(t *testing.T) {
	page := "<!DOCTYPE html><p>" + strings.Repeat("秒支付 ", 200)
	tests := []struct {
		name, accept, contentType, body string
		status                          int
		gzipped                         bool
	}{
		{"html page", "gzip, deflate, br", "text/html; charset=utf-8", page, 200, true},
		{"404 page", "gzip", "text/html; charset=utf-8", page, 404, true},
		{"no gzip asked", "br", "text/html; charset=utf-8", page, 200, false},
		{"gzip refused", "gzip;q=0, br", "text/html; charset=utf-8", page, 200, false},
		{"small body", "gzip", "text/plain", "success", 200, false},
		{"image", "gzip", "image/png", page, 200, false},
		{"sniffed html", "gzip", "", page, 200, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Gzip(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.contentType != "" {
					w.Header().Set("Content-Type", tt.contentType)
				}
				w.WriteHeader(tt.status)
				// In pieces, as templates write.
				for i := 0; i < len(tt.body); i += 100 {
					_, _ = io.WriteString(w, tt.body[i:min(i+100, len(tt.body))]) // a recorder
				}
			}))
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("Accept-Encoding", tt.accept)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, tt.status, rec.Code, "status")
			assert.Equal(t, "Accept-Encoding", rec.Header().Get("Vary"), "Vary")
			body := rec.Body.String()
			require.Equal(t, tt.gzipped, rec.Header().Get("Content-Encoding") == "gzip", "gzipped: Content-Encoding %q", rec.Header().Get("Content-Encoding"))
			if tt.gzipped {
				zr, err := gzip.NewReader(rec.Body)
				require.NoError(t, err, "gzip.NewReader")
				b, err := io.ReadAll(zr)
				require.NoError(t, err, "reading the gzipped body")
				assert.Less(t, len(body), len(b), "gzipped %d bytes into %d", len(b), len(body))
				body = string(b)
			}
			assert.Equal(t, tt.body, body, "body")
		})
	}
}
