// Package webhookjson reads the JSON body of a BeeCloud webhook
// notification, strictly: it refuses what encoding/json would read
// silently (a key repeated, a key differing from a known one only in case,
// 1.0 or 1e2 where an integer belongs, an "optional" object that is not
// flat), and checks the JSON grammar and UTF-8 in the same pass. It knows
// the body's shape, not what BeeCloud signs: the beecloud package checks
// the signature and the signed fields' values.
//
// [Decode] reads a body into [Fields]; [DecodeObject] decodes the optional
// object Decode left as text, once the signature is checked. A refusal is
// an [*Error].
package webhookjson

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strings"
	"unicode/utf8"
)

// This file holds the strict reader of a webhook body. It is written by
// hand rather than on encoding/json's Decoder because it must see what
// json.Unmarshal hides (a key repeated, a key differing from a known one
// only in case, 1.0 or 1e2 where an integer belongs) and stay as fast as a
// plain json.Unmarshal of the same body. A Decoder walking the tokens
// catches the same things, but takes about twice the time of
// json.Unmarshal, with six times the allocations, where this reader takes
// less (BenchmarkDecodeTokens, BenchmarkDecodeNotification and
// BenchmarkDecodeUnmarshal in decode_test.go). Its proof is
// FuzzDecodeNotificationDifferential: for any body, it accepts exactly
// what the same rules on the Decoder accept, and reads from it the values
// encoding/json reads. It checks the JSON grammar itself, in the same pass
// as the walk (json.Valid alone took longer than the whole walk does
// now), and FuzzScanValue holds that check to json.Valid's.

// The top-level keys this package knows, as bits of a set.
const (
	fSignature = 1 << iota
	fSign
	fTimestamp
	fChannelType
	fSubChannelType
	fTransactionType
	fTransactionID
	fTransactionFee
	fTradeSuccess
	fMessageDetail
	fOptional
	fChannelTransactionID

	fRequired = fTimestamp | fChannelType | fTransactionType | fTransactionID | fTransactionFee
	fSigns    = fSignature | fSign
	// fNullable are the keys whose null means "missing".
	fNullable = fSubChannelType | fTradeSuccess | fMessageDetail | fOptional | fChannelTransactionID
)

var knownKeys = [...]string{
	"signature", "sign", "timestamp", "channel_type", "sub_channel_type",
	"transaction_type", "transaction_id", "transaction_fee", "trade_success",
	"message_detail", "optional", "channel_transaction_id",
}

// keyBit returns the bit of a known key, or 0. A switch, which the
// compiler makes a search on length and content, rather than a loop over
// knownKeys: it runs for every key of every body.
func keyBit(key []byte) int {
	switch string(key) {
	case "signature":
		return fSignature
	case "sign":
		return fSign
	case "timestamp":
		return fTimestamp
	case "channel_type":
		return fChannelType
	case "sub_channel_type":
		return fSubChannelType
	case "transaction_type":
		return fTransactionType
	case "transaction_id":
		return fTransactionID
	case "transaction_fee":
		return fTransactionFee
	case "trade_success":
		return fTradeSuccess
	case "message_detail":
		return fMessageDetail
	case "optional":
		return fOptional
	case "channel_transaction_id":
		return fChannelTransactionID
	}
	return 0
}

// Fields are the known members of a webhook body. A member that is
// missing or null leaves its field zero.
type Fields struct {
	// Signature is the "signature" member, or the legacy "sign" if Legacy.
	Signature string
	// Legacy reports that the body is signed with "sign", not "signature".
	Legacy bool
	// TimestampMillis is "timestamp", in milliseconds since the epoch.
	TimestampMillis      int64
	ChannelType          string
	SubChannelType       string
	TransactionType      string
	TransactionID        string
	TransactionFee       int64
	TradeSuccess         bool
	MessageDetail        json.RawMessage
	ChannelTransactionID string
}

// Error is why [Decode] refused a body. Its text names the member at
// fault; it quotes at most a few bytes of the body, never the signature.
type Error struct {
	// BadSignature reports a signature that is not 32 lowercase hex
	// digits; any other Error means the body is malformed.
	BadSignature bool
	text         string
	err          error
}

func (e *Error) Error() string { return e.text }

// Unwrap returns the *json.SyntaxError of a body that is not JSON, or nil.
func (e *Error) Unwrap() error { return e.err }

func malformed(field, format string, args ...any) error {
	return &Error{text: field + ": " + fmt.Sprintf(format, args...)}
}

// wireDecoder collects the known fields of one body.
type wireDecoder struct {
	f        Fields
	seen     int    // bits of the known keys read
	sig      []byte // the "signature" value, aliasing the body
	sign     []byte // the legacy "sign" value, aliasing the body
	optional []byte // the "optional" object, undecoded, aliasing the body
	// plain holds the values of the string fields that have no escapes,
	// aliasing the body, by stringSlot: finish copies them all into one
	// string.
	plain [stringFields][]byte
	// optionalText is optional, copied by finish with the string fields.
	optionalText string
}

// Decode reads body, one JSON object in UTF-8, in one pass that also
// checks its grammar. It returns the known members, the signature's bytes
// (aliasing body) to compare, and the text of the "optional" object,
// undecoded, or "" if the body has none. It refuses, with an [*Error], a
// body without the members every webhook has (timestamp, channel_type,
// transaction_type, transaction_id, transaction_fee, and signature or
// sign), or with a known member of the wrong type or given twice.
func Decode(body []byte) (f Fields, sig []byte, optional string, err error) {
	var d wireDecoder
	if err := eachMember(body, d.member); err != nil {
		return Fields{}, nil, "", err
	}
	if err := d.finish(); err != nil {
		return Fields{}, nil, "", err
	}
	return d.f, d.sig, d.optionalText, nil
}

// bodyError describes a body that is not one JSON object in UTF-8, in the
// order encoding/json would find the faults: its grammar first.
func bodyError(body []byte, validJSON bool) error {
	if !validJSON {
		if len(bytes.TrimSpace(body)) == 0 {
			return &Error{text: "empty body"}
		}
		// Only to describe the error, with its offset; the scanner is the
		// faster check.
		var v json.RawMessage
		err := json.Unmarshal(body, &v)
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return &Error{text: fmt.Sprintf("body is not valid JSON: %v (at byte %d)", err, syntax.Offset), err: err}
		}
		return &Error{text: "body is not valid JSON"}
	}
	if !utf8.Valid(body) {
		return &Error{text: "body is not valid UTF-8"}
	}
	return &Error{text: fmt.Sprintf("body is %s, not an object", kind(body[skipSpace(body, 0)]))}
}

// eachMember checks that body is one JSON object in UTF-8 and calls f
// with each key (unquoted, aliasing body unless it had escapes) and raw
// value, in order. The grammar is checked in the same pass as the walk;
// f's first error is returned only once the whole body is known to be
// valid, so that a body that is not JSON is always reported as such, and
// f is not called after it.
func eachMember(body []byte, f func(key, v []byte) error) error {
	i := skipSpace(body, 0)
	if i == len(body) || body[i] != '{' {
		end, ok := scanValue(body, i, 0)
		return bodyError(body, ok && skipSpace(body, end) == len(body))
	}
	var ferr error
	i = skipSpace(body, i+1)
	if i < len(body) && body[i] == '}' {
		i++
	} else {
		for {
			keyStart := i
			keyEnd, escaped, ok := scanString(body, i)
			if !ok {
				return bodyError(body, false)
			}
			i = skipSpace(body, keyEnd)
			if i == len(body) || body[i] != ':' {
				return bodyError(body, false)
			}
			i = skipSpace(body, i+1)
			end, ok := scanValue(body, i, 1) // inside the top-level object
			if !ok {
				return bodyError(body, false)
			}
			if ferr == nil {
				key := body[keyStart+1 : keyEnd-1]
				if escaped {
					s, err := decodeString(body[keyStart:keyEnd])
					if err != nil {
						return &Error{text: "bad key"}
					}
					key = []byte(s)
				}
				ferr = f(key, body[i:end])
			}
			i = skipSpace(body, end)
			if i < len(body) && body[i] == ',' {
				i = skipSpace(body, i+1)
				continue
			}
			if i < len(body) && body[i] == '}' {
				i++
				break
			}
			return bodyError(body, false)
		}
	}
	if skipSpace(body, i) != len(body) {
		return bodyError(body, false)
	}
	if !utf8.Valid(body) {
		return bodyError(body, true)
	}
	return ferr
}

// member takes one top-level member: a known key once, with a value of
// its type; an unknown key is ignored unless it is a known one in another
// case, which encoding/json would read as the known one.
func (d *wireDecoder) member(key, v []byte) error {
	bit := keyBit(key)
	if bit == 0 {
		for _, k := range knownKeys {
			if bytes.EqualFold([]byte(k), key) {
				return malformed(k, "key %s differs from %q only in case", shortQuote(string(key)), k)
			}
		}
		return nil
	}
	name := knownKeys[bits.TrailingZeros(uint(bit))]
	if d.seen&bit != 0 {
		return malformed(name, "appears more than once")
	}
	d.seen |= bit
	if v[0] == 'n' && bit&fNullable != 0 {
		return nil // null: as if missing
	}
	return d.set(bit, name, v)
}

// set stores the value v of the known key.
func (d *wireDecoder) set(bit int, key string, v []byte) error {
	n := &d.f
	var err error
	switch bit {
	case fSignature:
		d.sig, err = decodeSignature(key, v)
	case fSign:
		d.sign, err = decodeSignature(key, v)
	case fTimestamp:
		var ms int64
		ms, err = decodeUint(key, v)
		n.TimestampMillis = ms
	case fTransactionFee:
		n.TransactionFee, err = decodeUint(key, v)
	case fTradeSuccess:
		n.TradeSuccess, err = decodeBool(key, v)
	case fMessageDetail:
		var obj []byte
		obj, err = decodeObject(key, v)
		if obj != nil {
			n.MessageDetail = append(json.RawMessage(nil), obj...)
		}
	case fOptional:
		if d.optional, err = decodeObject(key, v); err == nil {
			err = checkFlatOptional(v)
		}
	default:
		if v[0] == '"' && bytes.IndexByte(v, '\\') < 0 {
			d.plain[stringSlot(bit)] = v[1 : len(v)-1]
			break
		}
		var s string
		s, err = decodeStringField(key, v)
		*d.stringField(stringSlot(bit)) = s
	}
	return err
}

// stringFields is the number of string-valued keys, other than the
// signatures.
const stringFields = 5

// stringSlot numbers the string-valued key bit from 0 to stringFields-1.
func stringSlot(bit int) int {
	switch bit {
	case fChannelType:
		return 0
	case fSubChannelType:
		return 1
	case fTransactionType:
		return 2
	case fTransactionID:
		return 3
	}
	return 4 // fChannelTransactionID
}

// stringField returns where the string in slot goes.
func (d *wireDecoder) stringField(slot int) *string {
	switch slot {
	case 0:
		return &d.f.ChannelType
	case 1:
		return &d.f.SubChannelType
	case 2:
		return &d.f.TransactionType
	case 3:
		return &d.f.TransactionID
	}
	return &d.f.ChannelTransactionID
}

// copyStrings sets the string fields that have no escapes, the signature
// and optionalText, all from one copy: one allocation where each would
// make its own.
func (d *wireDecoder) copyStrings() {
	size := len(d.sig) + len(d.optional)
	for _, p := range d.plain {
		size += len(p)
	}
	var b strings.Builder
	b.Grow(size)
	b.Write(d.sig)
	for _, p := range d.plain {
		b.Write(p)
	}
	b.Write(d.optional)
	text := b.String()
	d.f.Signature, text = text[:len(d.sig)], text[len(d.sig):]
	for slot, p := range d.plain {
		if p != nil {
			*d.stringField(slot), text = text[:len(p)], text[len(p):]
		}
	}
	d.optionalText = text
}

// finish checks what the members left: every required key present, and a
// signature.
func (d *wireDecoder) finish() error {
	if missing := fRequired &^ d.seen; missing != 0 {
		for i, k := range knownKeys {
			if missing&(1<<i) != 0 {
				return malformed(k, "is missing")
			}
		}
	}
	switch {
	case d.sig != nil:
	case d.sign != nil:
		d.f.Legacy = true
		d.sig = d.sign
	default:
		return malformed("signature", "is missing")
	}
	d.copyStrings()
	return nil
}

// decodeSignature returns the 32 lowercase hex digits of a signature.
func decodeSignature(key string, v []byte) ([]byte, error) {
	if v[0] != '"' {
		return nil, malformed(key, "must be a string, got %s", kind(v[0]))
	}
	s := v[1 : len(v)-1]
	if !isLowerHex32(s) {
		return nil, &Error{BadSignature: true, text: key + " must be 32 lowercase hex digits"}
	}
	return s, nil
}

func decodeBool(key string, v []byte) (bool, error) {
	if v[0] != 't' && v[0] != 'f' {
		return false, malformed(key, "must be a boolean, got %s", kind(v[0]))
	}
	return v[0] == 't', nil
}

// decodeObject returns v if it is an object.
func decodeObject(key string, v []byte) ([]byte, error) {
	if v[0] != '{' {
		return nil, malformed(key, "must be an object, got %s", kind(v[0]))
	}
	return v, nil
}

// checkFlatOptional refuses an "optional" object v that BeeCloud could not have
// echoed: the order's optional is a flat map of strings, numbers and
// booleans, so a key seen twice or a nested or null value is tampering.
// The error names the entry as "optional.KEY".
func checkFlatOptional(v []byte) error {
	// The first keys are compared in place, without allocating; a map
	// takes over past them, so that many keys cost no more than a map.
	var few [16][]byte
	var many map[string]bool
	n := 0
	return eachMember(v, func(key, value []byte) error {
		dup := false
		for _, k := range few[:n] {
			dup = dup || bytes.Equal(k, key)
		}
		switch {
		case n < len(few):
			few[n] = key
			n++
		case many == nil:
			many = map[string]bool{string(key): true}
		default:
			dup = dup || many[string(key)]
			many[string(key)] = true
		}
		switch c := value[0]; {
		case dup:
			return malformed(optionalField(key), "appears more than once")
		case c == '{' || c == '[' || c == 'n':
			return malformed(optionalField(key), "must be a string, number or boolean, got %s: optional is a flat map", kind(c))
		}
		return nil
	})
}

// optionalField names the entry key of optional for an error, quoted if
// it is long or not plain ASCII: it comes from the sender.
func optionalField(key []byte) string {
	if len(key) > 40 || !isPrintableASCII(key) {
		return "optional." + shortQuote(string(key))
	}
	return "optional." + string(key)
}

func isPrintableASCII(b []byte) bool {
	for _, c := range b {
		if c < 0x21 || c > 0x7e || c == '"' {
			return false
		}
	}
	return true
}

func decodeStringField(key string, v []byte) (string, error) {
	if v[0] != '"' {
		return "", malformed(key, "must be a string, got %s", kind(v[0]))
	}
	s, err := decodeString(v)
	if err != nil {
		return "", malformed(key, "bad string")
	}
	return s, nil
}

// decodeUint parses a JSON number that must be a non-negative integer
// fitting in an int64.
func decodeUint(key string, v []byte) (int64, error) {
	switch {
	case v[0] == '-':
		return 0, malformed(key, "must not be negative")
	case v[0] < '0' || v[0] > '9':
		return 0, malformed(key, "must be an integer, got %s", kind(v[0]))
	}
	var x int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, malformed(key, "must be an integer, without fraction or exponent")
		}
		d := int64(c - '0')
		if x > (math.MaxInt64-d)/10 {
			return 0, malformed(key, "is too large")
		}
		x = x*10 + d
	}
	return x, nil
}

func isLowerHex32(s []byte) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// kind names the JSON type of a value that starts with c.
func kind(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// shortQuote quotes s for an error message, cut to a few bytes: the text
// comes from the sender.
func shortQuote(s string) string {
	const limit = 40
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return fmt.Sprintf("%q…", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}

// maxDepth is the deepest nesting encoding/json accepts: the scanner
// refuses what json.Valid refuses.
const maxDepth = 10000

// scanValue checks the JSON value that starts at b[i] (after any space),
// nested depth containers deep, and returns the index after it. ok is
// false if b has no valid value there. It accepts exactly what json.Valid
// accepts, FuzzScanValue checks it, except that it lets any byte of 0x80
// and above through in strings, as json.Valid does: UTF-8 is checked
// separately. It walks the nesting with a stack of its own, not by
// recursion, so that a deep body costs no more than a long one.
func scanValue(b []byte, i, depth int) (end int, ok bool) {
	// inObject[k] tells whether the k-th container opened here is an
	// object (else an array).
	inObject := make([]bool, 0, 32)
	for {
		// A value starts at b[i].
		if i >= len(b) {
			return i, false
		}
		switch c := b[i]; {
		case c == '{' || c == '[':
			if depth+len(inObject) >= maxDepth {
				return i, false
			}
			inObject = append(inObject, c == '{')
			i = skipSpace(b, i+1)
			if i < len(b) && (b[i] == '}' && c == '{' || b[i] == ']' && c == '[') {
				inObject = inObject[:len(inObject)-1]
				i++
				break
			}
			if c == '{' {
				if i, ok = scanKey(b, i); !ok {
					return i, false
				}
			}
			continue
		case c == '"':
			if i, _, ok = scanString(b, i); !ok {
				return i, false
			}
		case c == 't':
			if i, ok = scanLiteral(b, i, "true"); !ok {
				return i, false
			}
		case c == 'f':
			if i, ok = scanLiteral(b, i, "false"); !ok {
				return i, false
			}
		case c == 'n':
			if i, ok = scanLiteral(b, i, "null"); !ok {
				return i, false
			}
		case c == '-' || '0' <= c && c <= '9':
			if i, ok = scanNumber(b, i); !ok {
				return i, false
			}
		default:
			return i, false
		}
		// A value ended at b[i]: close the containers it ends, then go on
		// to the next value.
		for {
			if len(inObject) == 0 {
				return i, true
			}
			i = skipSpace(b, i)
			if i == len(b) {
				return i, false
			}
			top := inObject[len(inObject)-1]
			if b[i] == '}' && top || b[i] == ']' && !top {
				inObject = inObject[:len(inObject)-1]
				i++
				continue
			}
			if b[i] != ',' {
				return i, false
			}
			i = skipSpace(b, i+1)
			if top {
				if i, ok = scanKey(b, i); !ok {
					return i, false
				}
			}
			break
		}
	}
}

// scanKey checks an object's key and its colon at b[i], and returns the
// index of the value after them.
func scanKey(b []byte, i int) (int, bool) {
	i, _, ok := scanString(b, i)
	if !ok {
		return i, false
	}
	i = skipSpace(b, i)
	if i == len(b) || b[i] != ':' {
		return i, false
	}
	return skipSpace(b, i+1), true
}

// scanString checks the string that starts at b[i] and returns the index
// after it, and whether it holds escapes.
func scanString(b []byte, i int) (end int, escaped, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false, false
	}
	for i++; i < len(b); i++ {
		i = skipPlain(b, i)
		if i == len(b) {
			break
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, escaped, true
		case c < 0x20:
			return i, false, false
		case c == '\\':
			escaped = true
			if i++; i == len(b) {
				return i, false, false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) {
					return i, false, false
				}
				for _, h := range b[i+1 : i+5] {
					if !isHex(h) {
						return i, false, false
					}
				}
				i += 4
			default:
				return i, false, false
			}
		}
	}
	return i, false, false
}

// skipPlain returns the index of the first byte at or after b[i] that
// does not stand for itself in a JSON string (a quote, a backslash or a
// control character), or len(b). Most bytes of a string are plain: it
// looks at eight at a time.
func skipPlain(b []byte, i int) int {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		// A byte's high bit is set in special if that byte is below 0x20,
		// or a quote or a backslash (zero once xored with its own value);
		// bytes of 0x80 and above are masked out by ^x. Borrows may also
		// set the bits of higher bytes, but never of a lower one than the
		// first special byte, which is all that counts.
		special := ((x - 0x20*ones) | ((x ^ '"'*ones) - ones) | ((x ^ '\\'*ones) - ones)) &^ x & highs
		if special != 0 {
			return i + bits.TrailingZeros64(special)/8
		}
	}
	for i < len(b) && plain[b[i]] {
		i++
	}
	return i
}

// plain tells the bytes that stand for themselves in a JSON string: all
// but the quote, the backslash and the control characters.
var plain = func() (t [256]bool) {
	for c := range t {
		t[c] = c >= 0x20 && c != '"' && c != '\\'
	}
	return t
}()

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// scanLiteral checks that b holds lit at i.
func scanLiteral(b []byte, i int, lit string) (int, bool) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, false
	}
	return i + len(lit), true
}

// scanNumber checks the number that starts at b[i]: -?(0|[1-9][0-9]*),
// then an optional fraction and exponent.
func scanNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = skipDigits(b, i)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		j := skipDigits(b, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := skipDigits(b, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// The functions below walk JSON that the scanner accepted, so they need not
// check the grammar; they only find where each token ends.

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// decodeString decodes the JSON string v, quotes included.
func decodeString(v []byte) (string, error) {
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner), nil
	}
	var s string
	err := json.Unmarshal(v, &s)
	return s, err
}

// valueDecoder decodes a JSON value that the scanner accepted the way
// encoding/json decodes into an interface with UseNumber: numbers become
// json.Number, and of repeated keys the last wins. It works on one string
// copy of the value's text, so that the keys, strings and numbers without
// escapes are slices of it rather than copies of their own. It reads each
// byte once, so that its time grows with the length of the text, whatever
// the nesting.
type valueDecoder string

// DecodeObject decodes s, the optional object's text that [Decode]
// returned, as encoding/json decodes an object into a map[string]any with
// UseNumber: numbers are json.Number, and of a repeated key the last
// wins. s must come from Decode, which checked it.
func DecodeObject(s string) map[string]any {
	m, _ := valueDecoder(s).object(0)
	return m
}

func (s valueDecoder) skipSpace(i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// value decodes the value at s[i] and returns the index after it.
func (s valueDecoder) value(i int) (any, int) {
	switch s[i] {
	case '"':
		return s.string(i)
	case '{':
		return s.object(i)
	case '[':
		return s.array(i)
	case 't':
		return true, i + len("true")
	case 'f':
		return false, i + len("false")
	case 'n':
		return nil, i + len("null")
	}
	// A number: it ends at the first byte that cannot be in one.
	end := i
	for end < len(s) && (isDigit(s[end]) || s[end] == 'e' || s[end] == 'E' || s[end] == '-' || s[end] == '+' || s[end] == '.') {
		end++
	}
	return json.Number(s[i:end]), end
}

// string decodes the string at s[i] and returns the index after it.
func (s valueDecoder) string(i int) (string, int) {
	escaped := false
	end := i + 1
	for ; s[end] != '"'; end++ {
		if s[end] == '\\' {
			escaped = true
			end++
		}
	}
	end++
	if !escaped {
		return string(s[i+1 : end-1]), end
	}
	var v string
	_ = json.Unmarshal([]byte(s[i:end]), &v) // the scanner accepted it
	return v, end
}

// object decodes the object at s[i] and returns the index after it.
func (s valueDecoder) object(i int) (map[string]any, int) {
	m := make(map[string]any)
	i = s.skipSpace(i + 1)
	for s[i] != '}' {
		key, end := s.string(i)
		i = s.skipSpace(end)
		m[key], i = s.value(s.skipSpace(i + 1))
		i = s.skipSpace(i)
		if s[i] == ',' {
			i = s.skipSpace(i + 1)
		}
	}
	return m, i + 1
}

// array decodes the array at s[i] and returns the index after it.
func (s valueDecoder) array(i int) ([]any, int) {
	a := []any{}
	i = s.skipSpace(i + 1)
	for s[i] != ']' {
		var x any
		x, i = s.value(i)
		a = append(a, x)
		i = s.skipSpace(i)
		if s[i] == ',' {
			i = s.skipSpace(i + 1)
		}
	}
	return a, i + 1
}
