package webhookack

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOK(t *testing.T) {
	tests := []struct {
		status int
		body   string
		want   bool
	}{
		{200, "success", true},
		{200, "success\n", true},
		{200, " \r\nsuccess\t", true},
		{201, "success", true},
		{204, "success", true},
		{299, "success", true},
		{200, "SUCCESS", false},
		{200, "success!", false},
		{200, "", false},
		{200, "ok", false},
		{200, "successsuccess", false},
		{300, "success", false},
		{199, "success", false},
		{409, "success", false},
		{500, "success", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, OK(tt.status, []byte(tt.body)), "OK(%d, %q)", tt.status, tt.body)
	}
}

func TestRead(t *testing.T) {
	long := "success" + strings.Repeat(" ", 2*MaxBody)
	tests := []struct {
		name, body string
		status     int
		want       bool
		kept       int
	}{
		{"ack", "success\n", 200, true, 8},
		{"refused", "busy", 409, false, 4},
		{"long answer cut", long, 200, true, MaxBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := strings.NewReader(tt.body)
			resp := &http.Response{StatusCode: tt.status, Body: io.NopCloser(r)}
			body, ok, err := Read(resp)
			require.NoError(t, err, "Read()")
			assert.Equal(t, tt.want, ok, "Read(): ok")
			assert.Len(t, body, tt.kept, "Read(): the body kept")
			assert.Zero(t, r.Len(), "Read(): bytes left unread; want the body drained")
		})
	}
}
