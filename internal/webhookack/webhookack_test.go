package webhookack

import (
	"io"
	"net/http"
	"strings"
	"testing"
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
		if got := OK(tt.status, []byte(tt.body)); got != tt.want {
			t.Errorf("OK(%d, %q) = %t; want %t", tt.status, tt.body, got, tt.want)
		}
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
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.want || len(body) != tt.kept {
				t.Errorf("got ok %t, %d bytes; want %t, %d", ok, len(body), tt.want, tt.kept)
			}
			if r.Len() != 0 {
				t.Errorf("got %d bytes left unread; want the body drained", r.Len())
			}
		})
	}
}
