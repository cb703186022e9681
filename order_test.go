package beecloud

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// validOrder is the order every validation case starts from.
func validOrder() Order {
	return Order{Title: "测试商品 test", Amount: 150, OutTradeNo: "test0001"}
}

func withOrder(edit func(*Order)) Order {
	o := validOrder()
	edit(&o)
	return o
}

type orderTest struct {
	name  string
	order Order
	// field is the BC.click key whose problem Validate must report, with a
	// reason containing reason; "" means the order is valid.
	field, reason string
}

var orderTests = []orderTest{
	{"valid", validOrder(), "", ""},

	{"out_trade_no empty", withOrder(func(o *Order) { o.OutTradeNo = "" }), "out_trade_no", "required"},
	{"out_trade_no 7 chars", withOrder(func(o *Order) { o.OutTradeNo = "abc1234" }), "out_trade_no", "8 to 32 ASCII letters or digits (it has 7 characters)"},
	{"out_trade_no 8 chars", withOrder(func(o *Order) { o.OutTradeNo = "abcd1234" }), "", ""},
	{"out_trade_no 32 chars", withOrder(func(o *Order) { o.OutTradeNo = strings.Repeat("aZ09", 8) }), "", ""},
	{"out_trade_no 33 chars", withOrder(func(o *Order) { o.OutTradeNo = strings.Repeat("a", 33) }), "out_trade_no", "8 to 32 ASCII letters or digits (it has 33 characters)"},
	{"out_trade_no dash", withOrder(func(o *Order) { o.OutTradeNo = "test-0001" }), "out_trade_no", `found '-'`},
	{"out_trade_no underscore", withOrder(func(o *Order) { o.OutTradeNo = "test_0001" }), "out_trade_no", `found '_'`},
	{"out_trade_no space", withOrder(func(o *Order) { o.OutTradeNo = "test 0001" }), "out_trade_no", "8 to 32 ASCII letters or digits, found ' '"},
	{"out_trade_no Chinese", withOrder(func(o *Order) { o.OutTradeNo = "订单12345678" }), "out_trade_no", `found '订'`},
	{"out_trade_no fullwidth digits", withOrder(func(o *Order) { o.OutTradeNo = "１２３４５６７８" }), "out_trade_no", "8 to 32 ASCII letters or digits, found"},
	{"out_trade_no invalid UTF-8", withOrder(func(o *Order) { o.OutTradeNo = "\xff1234567" }), "out_trade_no", "8 to 32 ASCII letters or digits, found"},
	{"out_trade_no short non-ASCII", withOrder(func(o *Order) { o.OutTradeNo = "é1" }), "out_trade_no", "8 to 32 ASCII letters or digits, found"},

	{"title empty", withOrder(func(o *Order) { o.Title = "" }), "title", "required"},
	{"title single quote", withOrder(func(o *Order) { o.Title = "it's" }), "title", `' or "`},
	{"title double quote", withOrder(func(o *Order) { o.Title = `say "hi"` }), "title", `' or "`},
	{"title tab", withOrder(func(o *Order) { o.Title = "a\tb" }), "title", "control character U+0009"},
	{"title newline", withOrder(func(o *Order) { o.Title = "a\nb" }), "title", "control character U+000A"},
	{"title NUL", withOrder(func(o *Order) { o.Title = "a\x00b" }), "title", "control character U+0000"},
	{"title DEL", withOrder(func(o *Order) { o.Title = "a\x7fb" }), "title", "control character U+007F"},
	{"title C1 control", withOrder(func(o *Order) { o.Title = "a\u0085b" }), "title", "control character U+0085"},
	{"title invalid UTF-8", withOrder(func(o *Order) { o.Title = "ab\xe4\xb8" }), "title", "UTF-8"},
	{"title 32 ASCII", withOrder(func(o *Order) { o.Title = strings.Repeat("a", 32) }), "", ""},
	{"title 33 ASCII", withOrder(func(o *Order) { o.Title = strings.Repeat("a", 33) }), "title", "33 GBK bytes"},
	{"title 16 Chinese", withOrder(func(o *Order) { o.Title = strings.Repeat("中", 16) }), "", ""},
	{"title 17 Chinese", withOrder(func(o *Order) { o.Title = strings.Repeat("中", 17) }), "title", "34 GBK bytes"},
	{"title 15 Chinese and 2 ASCII", withOrder(func(o *Order) { o.Title = strings.Repeat("中", 15) + "ab" }), "", ""},
	{"title 15 Chinese and 3 ASCII", withOrder(func(o *Order) { o.Title = strings.Repeat("中", 15) + "abc" }), "title", "33 GBK bytes"},
	{"title 16 emoji", withOrder(func(o *Order) { o.Title = strings.Repeat("🍰", 16) }), "", ""},
	{"title 17 emoji", withOrder(func(o *Order) { o.Title = strings.Repeat("🍰", 17) }), "title", "at most 32"},
	{"title spaces and symbols", withOrder(func(o *Order) { o.Title = " ¥9.99 元 100% & <b> " }), "", ""},

	{"amount 0", withOrder(func(o *Order) { o.Amount = 0 }), "amount", "positive"},
	{"amount -1", withOrder(func(o *Order) { o.Amount = -1 }), "amount", "got -1"},
	{"amount MinInt64", withOrder(func(o *Order) { o.Amount = math.MinInt64 }), "amount", "positive"},
	{"amount 1", withOrder(func(o *Order) { o.Amount = 1 }), "", ""},
	{"amount MaxAmount", withOrder(func(o *Order) { o.Amount = MaxAmount }), "", ""},
	{"amount MaxAmount+1", withOrder(func(o *Order) { o.Amount = MaxAmount + 1 }), "amount", "at most 9007199254740991"},
	{"amount MaxInt64", withOrder(func(o *Order) { o.Amount = math.MaxInt64 }), "amount", "JavaScript"},

	{"return_url https", withOrder(func(o *Order) { o.ReturnURL = "https://shop.example.com/pay/done" }), "", ""},
	{"return_url http with port", withOrder(func(o *Order) { o.ReturnURL = "http://localhost:8080/done" }), "", ""},
	{"return_url Chinese path", withOrder(func(o *Order) { o.ReturnURL = "https://例子.测试/支付/完成" }), "", ""},
	{"return_url ftp", withOrder(func(o *Order) { o.ReturnURL = "ftp://shop.example.com/done" }), "return_url", "http:// or https://"},
	{"return_url no scheme", withOrder(func(o *Order) { o.ReturnURL = "shop.example.com/done" }), "return_url", "http:// or https://"},
	{"return_url scheme-relative", withOrder(func(o *Order) { o.ReturnURL = "//shop.example.com/done" }), "return_url", "http:// or https://"},
	{"return_url javascript", withOrder(func(o *Order) { o.ReturnURL = "javascript:alert(1)" }), "return_url", "http:// or https://"},
	{"return_url no host", withOrder(func(o *Order) { o.ReturnURL = "https:///done" }), "return_url", "no host"},
	{"return_url only scheme", withOrder(func(o *Order) { o.ReturnURL = "http://" }), "return_url", "no host"},
	{"return_url only port", withOrder(func(o *Order) { o.ReturnURL = "http://:8080/done" }), "return_url", "no host"},
	{"return_url query", withOrder(func(o *Order) { o.ReturnURL = "https://shop.example.com/done?order=1" }), "return_url", "no ? and no #"},
	{"return_url empty query", withOrder(func(o *Order) { o.ReturnURL = "https://shop.example.com/done?" }), "return_url", "no ? and no #"},
	{"return_url fragment", withOrder(func(o *Order) { o.ReturnURL = "https://shop.example.com/#/done" }), "return_url", "no ? and no #"},
	{"return_url space", withOrder(func(o *Order) { o.ReturnURL = "https://shop.example.com/pay done" }), "return_url", "spaces"},
	{"return_url tab", withOrder(func(o *Order) { o.ReturnURL = "https://shop.example.com/\tdone" }), "return_url", "control characters"},
	{"return_url invalid UTF-8", withOrder(func(o *Order) { o.ReturnURL = "https://shop.example.com/\xff" }), "return_url", "control characters"},
	{"return_url with wx", withOrder(func(o *Order) {
		o.ReturnURL, o.InstantChannel, o.OpenID = "https://shop.example.com/done", ChannelWx, "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"
	}), "return_url", `instant_channel "wx"`},
	{"return_url with bcwx", withOrder(func(o *Order) {
		o.ReturnURL, o.InstantChannel, o.OpenID = "https://shop.example.com/done", ChannelBCWx, "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"
	}), "return_url", `instant_channel "bcwx"`},
	{"return_url with wxmp", withOrder(func(o *Order) { o.ReturnURL, o.InstantChannel = "https://shop.example.com/done", ChannelWxMP }), "", ""},

	{"optional primitives", withOrder(func(o *Order) {
		o.Optional = map[string]any{"s": "值", "i": 1, "i8": int8(-1), "u64": uint64(MaxAmount), "i64": int64(-MaxAmount), "int": MaxAmount, "u": uint(7), "f": 1.5, "f32": float32(2.5), "b": true, "empty": ""}
	}), "", ""},
	{"optional uint64 beyond 2^53", withOrder(func(o *Order) { o.Optional = map[string]any{"id": uint64(MaxAmount + 1)} }), "optional.id", "pass it as a string"},
	{"optional int64 below -2^53", withOrder(func(o *Order) { o.Optional = map[string]any{"id": int64(-MaxAmount - 1)} }), "optional.id", "JavaScript cannot hold exactly"},
	{"optional int beyond 2^53", withOrder(func(o *Order) { o.Optional = map[string]any{"id": math.MaxInt} }), "optional.id", "JavaScript cannot hold exactly"},
	{"optional uint max", withOrder(func(o *Order) { o.Optional = map[string]any{"id": uint(math.MaxUint)} }), "optional.id", "JavaScript cannot hold exactly"},
	{"optional json.Number from a webhook", withOrder(func(o *Order) {
		o.Optional = map[string]any{"i": json.Number("42"), "f": json.Number("-1.5e3"), "max": json.Number("9007199254740991")}
	}), "", ""},
	{"optional json.Number beyond 2^53", withOrder(func(o *Order) { o.Optional = map[string]any{"k": json.Number("9007199254740992")} }), "optional.k", "pass it as a string"},
	{"optional json.Number beyond int64", withOrder(func(o *Order) { o.Optional = map[string]any{"k": json.Number("123456789012345678901234")} }), "optional.k", "pass it as a string"},
	{"optional json.Number integral exponent", withOrder(func(o *Order) { o.Optional = map[string]any{"k": json.Number("1e20")} }), "optional.k", "pass it as a string"},
	{"optional json.Number out of range", withOrder(func(o *Order) { o.Optional = map[string]any{"k": json.Number("1e400")} }), "optional.k", "valid finite number"},
	{"optional json.Number not a number", withOrder(func(o *Order) { o.Optional = map[string]any{"k": json.Number("0x10")} }), "optional.k", "valid finite number"},
	{"optional empty map", withOrder(func(o *Order) { o.Optional = map[string]any{} }), "", ""},
	{"optional nested map", withOrder(func(o *Order) { o.Optional = map[string]any{"k": map[string]any{"a": 1}} }), "optional.k", "no nested values"},
	{"optional slice", withOrder(func(o *Order) { o.Optional = map[string]any{"k": []string{"a"}} }), "optional.k", "[]string"},
	{"optional struct", withOrder(func(o *Order) { o.Optional = map[string]any{"k": struct{ A int }{1}} }), "optional.k", "struct"},
	{"optional pointer", withOrder(func(o *Order) { s := "x"; o.Optional = map[string]any{"k": &s} }), "optional.k", "*string"},
	{"optional nil", withOrder(func(o *Order) { o.Optional = map[string]any{"k": nil} }), "optional.k", "not nil"},
	{"optional NaN", withOrder(func(o *Order) { o.Optional = map[string]any{"k": math.NaN()} }), "optional.k", "finite"},
	{"optional +Inf", withOrder(func(o *Order) { o.Optional = map[string]any{"k": math.Inf(1)} }), "optional.k", "finite"},
	{"optional float32 -Inf", withOrder(func(o *Order) { o.Optional = map[string]any{"k": float32(math.Inf(-1))} }), "optional.k", "finite"},
	{"optional empty key", withOrder(func(o *Order) { o.Optional = map[string]any{"": "v"} }), "optional.", "key must not be empty"},
	{"optional invalid UTF-8 key", withOrder(func(o *Order) { o.Optional = map[string]any{"k\xff": "v"} }), "optional.k\xff", "key is not valid UTF-8"},
	{"optional __proto__ key", withOrder(func(o *Order) { o.Optional = map[string]any{"__proto__": "v"} }), "optional.__proto__", "browsers drop"},
	{"optional invalid UTF-8 value", withOrder(func(o *Order) { o.Optional = map[string]any{"k": "v\xff"} }), "optional.k", "UTF-8"},

	{"instant_channel unknown", withOrder(func(o *Order) { o.InstantChannel = "alipay" }), "instant_channel", `unknown channel "alipay"`},
	{"instant_channel upper case", withOrder(func(o *Order) { o.InstantChannel = "ALI" }), "instant_channel", "unknown channel"},
	{"instant_channel ali", withOrder(func(o *Order) { o.InstantChannel = ChannelAli }), "", ""},
	{"instant_channel unknown with return_url", withOrder(func(o *Order) {
		o.InstantChannel, o.ReturnURL = "weixin", "https://shop.example.com/done"
	}), "instant_channel", "unknown channel"},

	{"openid missing for wx", withOrder(func(o *Order) { o.InstantChannel = ChannelWx }), "openid", `required for instant_channel "wx"`},
	{"openid missing for bcwx", withOrder(func(o *Order) { o.InstantChannel = ChannelBCWx }), "openid", `required for instant_channel "bcwx"`},
	{"openid for wx", withOrder(func(o *Order) { o.InstantChannel, o.OpenID = ChannelWx, "o6_bmjrPTlm6_2sgVt7hMZOPfL2M" }), "", ""},
	{"openid without channel", withOrder(func(o *Order) { o.OpenID = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M" }), "", ""},
	{"openid space", withOrder(func(o *Order) { o.InstantChannel, o.OpenID = ChannelWx, "o6_bmjrPTlm6 2sgVt7hMZOPfL2M" }), "openid", "found ' '"},
	{"openid emoji", withOrder(func(o *Order) { o.OpenID = "o6_bm😀" }), "openid", "found '😀'"},
	{"openid quote", withOrder(func(o *Order) { o.OpenID = `o6"x` }), "openid", "letters, digits, - and _"},
	{"openid 64 chars", withOrder(func(o *Order) { o.OpenID = strings.Repeat("o-_9", 16) }), "", ""},
	{"openid 65 chars", withOrder(func(o *Order) { o.OpenID = strings.Repeat("o", 65) }), "openid", "65 bytes long; at most 64"},
}

func TestOrderValidate(t *testing.T) {
	for _, tt := range orderTests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.order.Validate()
			if tt.field == "" {
				require.NoError(t, err, "Validate()")
				return
			}
			require.ErrorIs(t, err, ErrInvalidOrder, "Validate()")
			require.NotErrorIs(t, err, ErrInvalidRequest, "Validate()")
			var verr *ValidationError
			require.ErrorAs(t, err, &verr, "Validate()")
			assert.Len(t, verr.Problems, 1, "Validate() problems; want one, for %q", tt.field)
			p, ok := verr.Field(tt.field)
			require.True(t, ok, "Validate() problems = %q; want one for %q", verr.Problems, tt.field)
			assert.Contains(t, p.Reason, tt.reason, "Validate() reason for %q", tt.field)
			assert.EqualError(t, err, "beecloud: invalid order: "+tt.field+": "+p.Reason, "Validate()")
		})
	}
}

func TestOrderValidateReportsAllProblems(t *testing.T) {
	o := Order{
		Title:          `"quoted"`,
		Amount:         -5,
		OutTradeNo:     "short",
		ReturnURL:      "https://shop.example.com/done?x=1",
		Optional:       map[string]any{"b": []int{1}, "a": math.NaN(), "ok": "fine"},
		InstantChannel: "paypal",
		OpenID:         "bad openid",
	}
	err := o.Validate()
	var verr *ValidationError
	require.ErrorAs(t, err, &verr, "Validate()")
	var fields []string
	for _, p := range verr.Problems {
		fields = append(fields, p.Field)
		assert.NotEmpty(t, p.Reason, "Validate(): problem %q has no reason", p.Field)
	}
	want := []string{"out_trade_no", "title", "amount", "return_url", "optional.a", "optional.b", "instant_channel", "openid"}
	assert.Equal(t, want, fields, "Validate() problem fields")
	for _, f := range want {
		assert.Contains(t, err.Error(), f+": ", "Validate() error; want it to name %q", f)
	}

	// The zero Order lacks its three required fields.
	verr = nil
	require.ErrorAs(t, Order{}.Validate(), &verr, "Order{}.Validate()")
	fields = fields[:0]
	for _, p := range verr.Problems {
		fields = append(fields, p.Field+": "+p.Reason)
	}
	want = []string{"out_trade_no: is required", "title: is required", "amount: must be a positive number of 分 (1 = ¥0.01), got 0"}
	assert.Equal(t, want, fields, "Order{}.Validate() problems")
}

// One ValidationError serves orders and Client requests: its Op decides
// the sentinel it matches and the message.
func TestValidationErrorOp(t *testing.T) {
	problems := []FieldError{{"refund_no", "is required"}}
	tests := []struct {
		op              string
		sentinel, other error
		text            string
	}{
		{"", ErrInvalidOrder, ErrInvalidRequest, "beecloud: invalid order: refund_no: is required"},
		{"order", ErrInvalidOrder, ErrInvalidRequest, "beecloud: invalid order: refund_no: is required"},
		{"refund", ErrInvalidRequest, ErrInvalidOrder, "beecloud: invalid refund request: refund_no: is required"},
		{"bills", ErrInvalidRequest, ErrInvalidOrder, "beecloud: invalid bills request: refund_no: is required"},
	}
	for _, tt := range tests {
		e := &ValidationError{Op: tt.op, Problems: problems}
		require.ErrorIs(t, e, tt.sentinel, "Op %q", tt.op)
		require.NotErrorIs(t, e, tt.other, "Op %q", tt.op)
		assert.EqualError(t, e, tt.text, "Op %q: Error()", tt.op)
	}
}

func TestValidationErrorField(t *testing.T) {
	e := &ValidationError{Problems: []FieldError{{"title", "first"}, {"amount", "a"}, {"title", "second"}}}
	p, ok := e.Field("title")
	assert.True(t, ok, "Field(%q); want the first title problem", "title")
	assert.Equal(t, "first", p.Reason, "Field(%q); want the first title problem", "title")
	p, ok = e.Field("openid")
	assert.False(t, ok, "Field(%q) = %v", "openid", p)
	require.EqualError(t, FieldError{"title", "is required"}, "title: is required", "FieldError.Error()")
	require.NotErrorIs(t, e, ErrInvalidConfig, "a ValidationError matches ErrInvalidConfig")
	wrapped := fmt.Errorf("checkout: %w", e)
	assert.ErrorIs(t, wrapped, ErrInvalidOrder, "a wrapped ValidationError")
}

func testConfig() Config {
	return Config{AppID: publicAppID, AppSecret: publicAppSecret, MasterSecret: testMasterSecret}
}

func TestParamsInvalidConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		mention string
	}{
		{"no AppID", Config{AppSecret: publicAppSecret}, "AppID"},
		{"no AppSecret", Config{AppID: publicAppID, MasterSecret: "m"}, "AppSecret"},
		{"neither", Config{}, "AppID and AppSecret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.cfg.Params(validOrder())
			require.ErrorIs(t, err, ErrInvalidConfig, "Params()")
			require.NotErrorIs(t, err, ErrInvalidOrder, "Params()")
			require.ErrorContains(t, err, tt.mention, "Params(); want the error to name %s", tt.mention)
			assert.Zero(t, p, "Params() with an error; want the zero Params")
		})
	}
}

func TestParamsInvalidOrder(t *testing.T) {
	p, err := testConfig().Params(withOrder(func(o *Order) { o.Amount = 0 }))
	require.ErrorIs(t, err, ErrInvalidOrder, "Params()")
	var verr *ValidationError
	require.ErrorAs(t, err, &verr, "Params()")
	_, ok := verr.Field("amount")
	assert.True(t, ok, "Params() problems = %q; want one for amount", verr.Problems)
	assert.Zero(t, p, "Params() with an error; want the zero Params")
}

func TestParamsJSON(t *testing.T) {
	cfg := testConfig()
	o := Order{Title: publicTitle, Amount: publicAmount, OutTradeNo: publicOutTradeNo}
	p, err := cfg.Params(o)
	require.NoError(t, err, "Params()")
	b, err := json.Marshal(p)
	require.NoError(t, err, "json.Marshal(Params)")
	want := `{"title":"test","amount":1,"out_trade_no":"test0001","sign":"` + publicSign + `"}`
	assert.Equal(t, want, string(b), "json.Marshal(Params)")

	full := Order{
		Title: "中文 node.js water", Amount: 150, OutTradeNo: "0123456789abcdef",
		ReturnURL: "https://shop.example.com/done", Optional: map[string]any{"agent_id": "Alice", "n": 3},
		InstantChannel: ChannelAli, OpenID: "o6_bmjrPTlm6_2sgVt7hMZOPfL2M", Debug: true, NoAliGuide: true, NoAliApp: true,
	}
	p, err = cfg.Params(full)
	require.NoError(t, err, "Params()")
	b, err = json.Marshal(p)
	require.NoError(t, err, "json.Marshal(Params)")
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &m), "json.Unmarshal(%s)", b)
	got := make(map[string]string, len(m))
	for k, v := range m {
		got[k] = string(v)
	}
	wantRaw := map[string]string{
		"title":           `"中文 node.js water"`,
		"amount":          `150`,
		"out_trade_no":    `"0123456789abcdef"`,
		"sign":            `"` + Sign(cfg.AppID, full.Title, full.Amount, full.OutTradeNo, cfg.AppSecret) + `"`,
		"return_url":      `"https://shop.example.com/done"`,
		"debug":           `true`,
		"optional":        `{"agent_id":"Alice","n":3}`,
		"instant_channel": `"ali"`,
		"need_ali_guide":  `false`,
		"openid":          `"o6_bmjrPTlm6_2sgVt7hMZOPfL2M"`,
		"use_app":         `false`,
	}
	assert.Equal(t, wantRaw, got, "json.Marshal(Params): its keys and their values")
}

func TestParamsAliFlags(t *testing.T) {
	tests := []struct {
		noGuide, noApp bool
		want           string
	}{
		{false, false, ``},
		{true, false, `,"need_ali_guide":false`},
		{false, true, `,"use_app":false`},
		{true, true, `,"need_ali_guide":false,"use_app":false`},
	}
	for _, tt := range tests {
		o := validOrder()
		o.NoAliGuide, o.NoAliApp = tt.noGuide, tt.noApp
		p, err := testConfig().Params(o)
		require.NoError(t, err, "Params()")
		b, _ := json.Marshal(p)
		want := `{"title":"测试商品 test","amount":150,"out_trade_no":"test0001","sign":"` + p.Sign + `"` + tt.want + `}`
		assert.Equal(t, want, string(b), "NoAliGuide=%t NoAliApp=%t: json.Marshal(Params)", tt.noGuide, tt.noApp)
	}
}

func TestParamsOptionalIsCopy(t *testing.T) {
	o := validOrder()
	o.Optional = map[string]any{"agent_id": "Alice"}
	p, err := testConfig().Params(o)
	require.NoError(t, err, "Params()")
	o.Optional["agent_id"] = "Mallory"
	o.Optional["extra"] = 1
	assert.Equal(t, map[string]any{"agent_id": "Alice"}, p.Optional, "after changing the order's map, Params.Optional")
	p.Optional["from_params"] = true
	assert.NotContains(t, o.Optional, "from_params", "changing Params.Optional changed the order's map")
}

func TestParamsSignsEveryVector(t *testing.T) {
	// Params signs exactly what Sign signs, for every vector that is a
	// valid order.
	n := 0
	for _, v := range loadSignVectors(t) {
		o := Order{Title: v.Title, Amount: v.Amount, OutTradeNo: v.OutTradeNo}
		if o.Validate() != nil {
			continue
		}
		n++
		p, err := Config{AppID: v.AppID, AppSecret: v.AppSecret}.Params(o)
		require.NoError(t, err, "Params(%+v)", o)
		assert.Equal(t, v.Sign["node"], p.Sign, "Params(%q, %d, %q).Sign", v.Title, v.Amount, v.OutTradeNo)
	}
	assert.GreaterOrEqual(t, n, 100, "vectors that are valid orders")
}

var (
	outTradeNoRE = regexp.MustCompile(`^[0-9a-f]{32}$`)
	// specOutTradeNoRE is BeeCloud's documented rule, which its Java and PHP SDKs enforce.
	specOutTradeNoRE = regexp.MustCompile(`^[0-9A-Za-z]{8,32}$`)
)

func TestNewOutTradeNo(t *testing.T) {
	const n = 2000
	seen := make(map[string]bool, n)
	for range n {
		no := NewOutTradeNo()
		require.Regexp(t, outTradeNoRE, no, "NewOutTradeNo(); want 32 lowercase hex digits")
		require.Empty(t, checkOutTradeNo(no), "NewOutTradeNo() = %q is invalid", no)
		id, err := uuid.Parse(no)
		require.NoError(t, err, "NewOutTradeNo() = %q; want the digits of a random UUID", no)
		require.Equal(t, uuid.Version(4), id.Version(), "NewOutTradeNo() = %q: UUID version", no)
		require.Equal(t, uuid.RFC4122, id.Variant(), "NewOutTradeNo() = %q: UUID variant", no)
		require.False(t, seen[no], "NewOutTradeNo() returned %q twice", no)
		seen[no] = true
	}
}

// fuzzOptional returns the key, string value and number that FuzzParams
// turns into an order's Optional.
func fuzzOptional(o Order) (key, value string, num float64) {
	for k, v := range o.Optional {
		key = k
		switch v := v.(type) {
		case string:
			value = v
		case float64:
			num = v
		default:
			value = fmt.Sprint(v)
		}
		break
	}
	return key, value, num
}

func FuzzParams(f *testing.F) {
	for _, tt := range orderTests {
		o := tt.order
		key, value, num := fuzzOptional(o)
		f.Add(o.Title, o.Amount, o.OutTradeNo, o.ReturnURL, string(o.InstantChannel), o.OpenID, key, value, num, o.Debug, o.NoAliGuide)
	}
	cfg := testConfig()
	f.Fuzz(func(t *testing.T, title string, amount int64, no, returnURL, channel, openid, key, value string, num float64, debug, noGuide bool) {
		o := Order{
			Title: title, Amount: amount, OutTradeNo: no, ReturnURL: returnURL,
			InstantChannel: Channel(channel), OpenID: openid, Debug: debug, NoAliGuide: noGuide, NoAliApp: !noGuide,
		}
		if key != "" || value != "" {
			o.Optional = map[string]any{key: value, key + "#": num}
		}
		verr := o.Validate()
		p, err := cfg.Params(o)
		require.Equal(t, verr == nil, err == nil, "Validate() = %v but Params() error = %v", verr, err)
		if err != nil {
			var ve *ValidationError
			require.ErrorIs(t, err, ErrInvalidOrder, "Params()")
			require.ErrorAs(t, err, &ve, "Params()")
			require.NotEmpty(t, ve.Problems, "Params() = %v; want a *ValidationError with problems", err)
			for _, pr := range ve.Problems {
				require.NotEmpty(t, pr.Field, "Params(): problem %+v lacks a field", pr)
				require.NotEmpty(t, pr.Reason, "Params(): problem %+v lacks a reason", pr)
			}
			return
		}
		require.Equal(t, Sign(cfg.AppID, title, amount, no, cfg.AppSecret), p.Sign, "Params().Sign")
		require.True(t, utf8.ValidString(p.Title), "Params() accepted the title %q: not UTF-8", p.Title)
		require.LessOrEqual(t, gbkLen(p.Title), MaxTitleBytes, "Params() accepted the title %q: GBK bytes", p.Title)
		require.False(t, strings.ContainsAny(p.Title, `'"`), "Params() accepted the title %q: a quote", p.Title)
		require.GreaterOrEqual(t, p.Amount, int64(1), "Params() accepted the amount")
		require.LessOrEqual(t, p.Amount, int64(MaxAmount), "Params() accepted the amount")
		require.Regexp(t, specOutTradeNoRE, p.OutTradeNo, "Params() accepted the out_trade_no")
		b, err := json.Marshal(p)
		require.NoError(t, err, "json.Marshal(Params)")
		var back Params
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		require.NoError(t, d.Decode(&back), "decoding %s", b)
		require.Equal(t, p.Title, back.Title, "JSON round trip of %+v: title", p)
		require.Equal(t, p.Amount, back.Amount, "JSON round trip of %+v: amount", p)
		require.Equal(t, p.OutTradeNo, back.OutTradeNo, "JSON round trip of %+v: out_trade_no", p)
		require.Equal(t, p.Sign, back.Sign, "JSON round trip of %+v: sign", p)
	})
}
