package beecloud

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeOptional(t *testing.T) {
	tests := []struct {
		name, raw string
		want      map[string]any
		wantErr   string
	}{
		{"absent", ``, nil, ""},
		{"null", `null`, nil, ""},
		{"empty string", `""`, nil, ""},
		{"empty object text", `"{}"`, nil, ""},
		{"JSON text", `"{\"a\":1,\"b\":\"x\",\"c\":true,\"d\":1.5}"`, map[string]any{"a": json.Number("1"), "b": "x", "c": true, "d": json.Number("1.5")}, ""},
		{"an object", `{"a":"x"}`, map[string]any{"a": "x"}, ""},
		{"text that is not an object", `"[1]"`, nil, "not a JSON object"},
		{"text that is not JSON", `"{a"`, nil, "optional"},
		{"a number", `5`, nil, "not a JSON object"},
		{"two objects", `"{}{}"`, nil, "text after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeOptional(json.RawMessage(tt.raw))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestDecodeBillsErrors(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"fee a string", `{"bills":[{"id":"b","total_fee":"1"}]}`, "total_fee"},
		{"negative fee", `{"bills":[{"id":"b","total_fee":-1}]}`, "negative"},
		{"bad optional", `{"bills":[{"id":"b","optional":"[]"}]}`, `bill "b": optional`},
		{"bills not a list", `{"bills":{}}`, "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeBills([]byte(tt.body))
			require.ErrorContains(t, err, tt.want)
		})
	}
	_, err := decodeBill([]byte(`{}`))
	require.ErrorContains(t, err, "no pay")
	_, err = decodeRefund([]byte(`{}`))
	require.ErrorContains(t, err, "no refund")
	_, err = decodeCount([]byte(`{}`))
	require.ErrorContains(t, err, "no count")
	_, err = decodeCount([]byte(`{"count":-2}`))
	require.ErrorContains(t, err, "negative")
}

// The decoders take anything BeeCloud (or a proxy) might answer: they
// never panic, and what they accept keeps its invariants.
func FuzzDecodeBills(f *testing.F) {
	f.Add([]byte(`{"bills":[` + wireBillJSON + `]}`))
	f.Add([]byte(`{"bills":[{"optional":{"a":1}},{"message_detail":{"x":[1]}}]}`))
	f.Add([]byte(`{"bills":null}`))
	f.Add([]byte(`{"pay":` + wireBillJSON + `}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if bills, err := decodeBills(body); err == nil {
			for _, b := range bills {
				assert.GreaterOrEqual(t, b.Amount, int64(0))
			}
		}
		if b, err := decodeBill(body); err == nil {
			assert.NotNil(t, b)
		}
		decodeCount(body) //nolint:errcheck // only panics matter here
	})
}

func FuzzDecodeRefunds(f *testing.F) {
	f.Add([]byte(`{"refunds":[` + wireRefundJSON + `]}`))
	f.Add([]byte(`{"refund":` + wireRefundJSON + `}`))
	f.Add([]byte(`{"id":"x","url":"u"}`))
	f.Add([]byte(`{"result_code":0,"refund_status":"SUCCESS"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if refunds, err := decodeRefunds(body); err == nil {
			for _, r := range refunds {
				assert.GreaterOrEqual(t, r.Amount, int64(0))
				assert.GreaterOrEqual(t, r.BillAmount, int64(0))
			}
		}
		if r, err := decodeRefund(body); err == nil {
			assert.NotNil(t, r)
		}
		if r, err := decodeRefundResult(body); err == nil {
			assert.False(t, r.ID == "" && r.URL == "", "an empty result without an error")
		}
	})
}

func FuzzAnswerOutcome(f *testing.F) {
	f.Add(200, []byte(`{"result_code":0}`))
	f.Add(400, []byte(`{"result_code":5,"result_msg":"PARAM_INVALID","err_detail":"x"}`))
	f.Add(502, []byte(`<html>`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		v := answer{status: status, body: body, sent: true}.outcome(call{method: "GET", path: "/2/rest/bills"})
		if v.err == nil {
			assert.True(t, status >= 200 && status <= 299, "HTTP %d accepted", status)
		} else {
			assert.NotEmpty(t, v.err.Error())
		}
	})
}
