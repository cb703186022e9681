package webhookjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// This file holds the proof and the measurement behind the hand-written
// reader of decode.go: decodeTokens, the same strict rules on
// encoding/json's Decoder walking tokens, is both the oracle of the
// differential fuzz and the alternative the benchmarks weigh.

// decodeTokens is Decode written on encoding/json's Decoder:
// Token for the keys, Decode into a json.RawMessage for each value, and
// the same wireDecoder for the rules. It returns the optional object
// decoded, as a caller would need it.
func decodeTokens(body []byte) (*Fields, []byte, map[string]any, error) {
	if !utf8.Valid(body) {
		return nil, nil, nil, malformed("body", "is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, nil, malformed("body", "is not an object: %v", err)
	}
	var d wireDecoder
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, nil, malformed("body", "bad key: %v", err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, nil, malformed("body", "bad value: %v", err)
		}
		if err := d.member([]byte(tok.(string)), v); err != nil {
			return nil, nil, nil, err
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, nil, malformed("body", "unclosed object: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, nil, malformed("body", "data after the object")
	}
	if err := d.finish(); err != nil {
		return nil, nil, nil, err
	}
	var optional map[string]any
	if d.optional != nil {
		od := json.NewDecoder(bytes.NewReader(d.optional))
		od.UseNumber()
		if err := od.Decode(&optional); err != nil {
			return nil, nil, nil, malformed("optional", "%v", err)
		}
	}
	return &d.f, d.sig, optional, nil
}

// decodeAll is Decode with the optional object decoded, as the beecloud
// package does once the signature is verified.
func decodeAll(body []byte) (*Fields, []byte, map[string]any, error) {
	f, sig, optional, err := Decode(body)
	if err != nil {
		return nil, nil, nil, err
	}
	if optional == "" {
		return &f, sig, nil, nil
	}
	return &f, sig, DecodeObject(optional), nil
}

// wireUnmarshal is what a plain json.Unmarshal decodes a webhook into.
type wireUnmarshal struct {
	Signature            string          `json:"signature"`
	Sign                 string          `json:"sign"`
	Timestamp            int64           `json:"timestamp"`
	ChannelType          string          `json:"channel_type"`
	SubChannelType       string          `json:"sub_channel_type"`
	TransactionType      string          `json:"transaction_type"`
	TransactionID        string          `json:"transaction_id"`
	TransactionFee       int64           `json:"transaction_fee"`
	TradeSuccess         bool            `json:"trade_success"`
	MessageDetail        json.RawMessage `json:"message_detail"`
	Optional             map[string]any  `json:"optional"`
	ChannelTransactionID string          `json:"channel_transaction_id"`
}

// FuzzDecodeNotificationDifferential is the hand-written reader's proof:
// for any body, it accepts exactly what the Decoder-based reader accepts,
// and both read the values a merchant's own encoding/json reads.
func FuzzDecodeNotificationDifferential(f *testing.F) {
	f.Add([]byte(scanBody))
	f.Add([]byte(`{"signature":"e204d63775d3d29dafe6788a0a978755","timestamp":1,"channel_type":"BC","transaction_type":"PAY","transaction_id":"a1","transaction_fee":0,"optional":null}`))
	f.Add([]byte(`{"sign":"e204d63775d3d29dafe6788a0a978755","timestamp":1,"channel_type":"ALI","transaction_type":"REFUND","transaction_id":"a","transaction_fee":1,"Transaction_Fee":2}`))
	f.Add([]byte(`{"signature":"e204d63775d3d29dafe6788a0a978755","timestamp":1,"channel_type":"B\u0043","transaction_type":"PAY","transaction_id":"x","transaction_fee":1e2}`))
	f.Add([]byte(`{"signature":"e204d63775d3d29dafe6788a0a978755","timestamp":1,"channel_type":"BC","transaction_type":"PAY","transaction_id":"x","transaction_fee":1,"optional":{"a":[1,{"b":-2.5e3}],"a":"x"}} `))
	f.Add([]byte(`{"signature":"e204d63775d3d29dafe6788a0a978755","timestamp":1,"channel_type":"BC","transaction_type":"PAY","transaction_id":"x","transaction_fee":1}{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		n, sig, optional, err := decodeAll(body)
		tn, tsig, toptional, terr := decodeTokens(body)
		require.Equal(t, terr == nil, err == nil, "accepted? hand-written: %v; Decoder-based: %v", err, terr)
		if err != nil {
			var e *Error
			require.ErrorAs(t, err, &e, "the hand-written reader's error")
			return
		}
		require.Equal(t, tn, n, "fields read by the hand-written reader; want the Decoder-based reader's")
		require.True(t, bytes.Equal(tsig, sig), "signature read by the hand-written reader: %q; Decoder-based: %q", sig, tsig)
		require.Equal(t, toptional, optional, "optional read by the hand-written reader; want the Decoder-based reader's")
		var w wireUnmarshal
		d := json.NewDecoder(bytes.NewReader(body))
		d.UseNumber()
		require.NoError(t, d.Decode(&w), "accepted a body encoding/json refuses")
		signature := w.Signature
		if n.Legacy {
			signature = w.Sign
		}
		msg := "encoding/json reads %+v; Decode %+v"
		require.Equal(t, w.TransactionID, n.TransactionID, msg, w, n)
		require.Equal(t, w.TransactionType, n.TransactionType, msg, w, n)
		require.Equal(t, w.ChannelType, n.ChannelType, msg, w, n)
		require.Equal(t, w.TransactionFee, n.TransactionFee, msg, w, n)
		require.Equal(t, w.Timestamp, n.TimestampMillis, msg, w, n)
		require.Equal(t, w.TradeSuccess, n.TradeSuccess, msg, w, n)
		require.Equal(t, w.SubChannelType, n.SubChannelType, msg, w, n)
		require.Equal(t, w.ChannelTransactionID, n.ChannelTransactionID, msg, w, n)
		require.Equal(t, signature, n.Signature, msg, w, n)
		require.Equal(t, w.Optional, optional, msg, w, n)
		// A null message_detail is absent for encoding/json.
		require.True(t, bytes.Equal(w.MessageDetail, n.MessageDetail) || w.MessageDetail == nil && string(n.MessageDetail) == "null",
			"message_detail: encoding/json reads %q; Decode %q", w.MessageDetail, n.MessageDetail)
	})
}

// scanBody is a realistic webhook of about 1 KB, the body of the root
// package's BenchmarkParseNotification.
var scanBody = readBody(filepath.Join("..", "..", "testdata", "webhook-1k.json"))

// readBody returns the file at path as a string, without its final newline.
func readBody(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	return strings.TrimSuffix(string(b), "\n")
}

// BenchmarkDecodeNotification is the hand-written reader, optional
// decoded: to compare with BenchmarkDecodeUnmarshal.
func BenchmarkDecodeNotification(b *testing.B) {
	benchDecode(b, func(body []byte) error { _, _, _, err := decodeAll(body); return err })
}

// BenchmarkDecodeTokens is the same rules on encoding/json's Decoder.
func BenchmarkDecodeTokens(b *testing.B) {
	benchDecode(b, func(body []byte) error { _, _, _, err := decodeTokens(body); return err })
}

// BenchmarkDecodeUnmarshal is the baseline: a bare json.Unmarshal of the
// same body, with none of the rules.
func BenchmarkDecodeUnmarshal(b *testing.B) {
	benchDecode(b, func(body []byte) error { var w wireUnmarshal; return json.Unmarshal(body, &w) })
}

func benchDecode(b *testing.B, decode func([]byte) error) {
	body := []byte(scanBody)
	if err := decode(body); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for range b.N {
		if err := decode(body); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzScanValue checks the scanner against json.Valid: for any input,
// scanValue accepts a whole value exactly when json.Valid does (bytes of
// 0x80 and above aside, which both let through in strings).
func FuzzScanValue(f *testing.F) {
	for _, s := range []string{
		scanBody, `{}`, `[]`, ` {"a" : [1, -0.5e+3, true, false, null, "\u00e9\n"]} `,
		`{"a":}`, `[1,]`, `01`, `-`, `1.`, `1e`, `"\x"`, `"\u12"`, "\"\x01\"", `{"a":1}}`,
		strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth),
		strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		end, ok := scanValue(b, skipSpace(b, 0), 0)
		got := ok && skipSpace(b, end) == len(b)
		require.Equal(t, json.Valid(b), got, "scanValue accepts %q; want what json.Valid says", b)
	})
}

// skipPlain, which reads eight bytes at a time, stops where a byte by
// byte loop stops: at the first quote, backslash or control character,
// wherever it falls in a word, whatever surrounds it (high bytes of UTF-8
// included), and at the end.
func TestSkipPlain(t *testing.T) {
	naive := func(b []byte, i int) int {
		for i < len(b) && b[i] >= 0x20 && b[i] != '"' && b[i] != '\\' {
			i++
		}
		return i
	}
	special := []byte{'"', '\\', 0x00, 0x01, 0x1f}
	for _, fill := range []byte{'a', ' ', '!', '#', '[', ']', 0x7f, 0x80, 0xc3, 0xff} {
		for n := range 24 {
			for pos := range n + 1 {
				for _, c := range special {
					b := bytes.Repeat([]byte{fill}, n)
					if pos < n {
						b[pos] = c
					}
					for start := range min(n, 9) + 1 {
						require.Equal(t, naive(b, start), skipPlain(b, start), "skipPlain(%q, %d)", b, start)
					}
				}
			}
		}
	}
}

func FuzzSkipPlain(f *testing.F) {
	f.Add([]byte(scanBody), 0)
	f.Fuzz(func(t *testing.T, b []byte, start int) {
		if start < 0 || start > len(b) {
			return
		}
		want := start
		for want < len(b) && plain[b[want]] {
			want++
		}
		require.Equal(t, want, skipPlain(b, start), "skipPlain(%q, %d)", b, start)
	})
}

// keyBit's switch and knownKeys name the same keys with the same bits.
func TestKeyBit(t *testing.T) {
	for i, k := range knownKeys {
		assert.Equal(t, 1<<i, keyBit([]byte(k)), "keyBit(%q)", k)
	}
	for _, k := range []string{"", "Signature", "signature ", "optiona", "x"} {
		assert.Zero(t, keyBit([]byte(k)), "keyBit(%q)", k)
	}
}

// Inside the body's object, the scanner counts the object itself as the
// first level, as json.Valid does. (An unknown key may nest; optional
// may not.)
func TestDecodeNotificationDepth(t *testing.T) {
	for _, depth := range []int{maxDepth - 1, maxDepth} { // levels inside an unknown key
		body := strings.Replace(scanBody, `"optional":{"agent_id":"Alice","user_id":12345678901234567,"vip":true}`,
			`"extra":`+strings.Repeat(`{"a":`, depth)+`1`+strings.Repeat(`}`, depth), 1)
		_, _, _, err := Decode([]byte(body))
		assert.Equal(t, json.Valid([]byte(body)), err == nil, "optional %d deep: Decode() = %v; want it to accept what json.Valid does", depth, err)
		if depth == maxDepth {
			var e *Error
			if assert.ErrorAs(t, err, &e, "optional %d deep: Decode(); want a malformed body", depth) {
				assert.False(t, e.BadSignature, "optional %d deep: Decode() = %v; want a malformed body", depth, err)
			}
		}
	}
}

// FuzzCheckFlatOptional holds checkFlatOptional to encoding/json's reading
// of the same object: it accepts exactly the objects whose keys, as a
// Decoder reads them, are distinct and whose values are strings, numbers
// or booleans.
func FuzzCheckFlatOptional(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"agent_id":"Alice","user_id":12345678901234567,"vip":true,"x":false,"y":-1.5e3}`,
		`{"a":1,"a":2}`, `{"a":1,"\u0061":2}`, `{"a":1,"A":2}`, `{"a":{}}`, `{"a":[]}`, `{"a":null}`,
		`{ "a" : "\"" , "b\n" : 0 }`, `{"":1,"":2}`,
		manyKeys(20, "k3"), manyKeys(20, "k19"), manyKeys(40, "k39"), manyKeys(40, ""),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		b = bytes.TrimSpace(b)
		if !json.Valid(b) || !utf8.Valid(b) || len(b) == 0 || b[0] != '{' {
			return
		}
		want := true
		seen := map[string]bool{}
		dec := json.NewDecoder(bytes.NewReader(b))
		_, err := dec.Token()
		require.NoError(t, err, "Token()")
		for dec.More() {
			key, err := dec.Token()
			require.NoError(t, err, "Token()")
			var v json.RawMessage
			require.NoError(t, dec.Decode(&v), "Decode()")
			if c := v[0]; seen[key.(string)] || c == '{' || c == '[' || c == 'n' {
				want = false
			}
			seen[key.(string)] = true
		}
		err = checkFlatOptional(b)
		require.Equal(t, want, err == nil, "checkFlatOptional(%q) = %v; want it to accept what encoding/json finds flat", b, err)
		if err != nil {
			var e *Error
			require.ErrorAs(t, err, &e, "checkFlatOptional(%q); want a malformed notification", b)
			require.False(t, e.BadSignature, "checkFlatOptional(%q) = %v; want a malformed notification", b, err)
			require.ErrorContains(t, err, "optional.", "checkFlatOptional(%q); want it to name the entry", b)
		}
	})
}

// manyKeys returns an optional object of n keys k0…, and then dup again
// unless it is empty.
func manyKeys(n int, dup string) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		fmt.Fprintf(&b, "%q:%d,", fmt.Sprint("k", i), i)
	}
	if dup != "" {
		fmt.Fprintf(&b, "%q:true,", dup)
	}
	return strings.TrimSuffix(b.String(), ",") + "}"
}
