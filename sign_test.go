package beecloud

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// BeeCloud's public order vector (the beecloud-button README).
const (
	publicAppID      = "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719"
	publicAppSecret  = "39a7a518-9ac8-4a9e-87bc-7885f33cf18c"
	publicTitle      = "test"
	publicAmount     = 1
	publicOutTradeNo = "test0001"
	publicSign       = "e68639606d2d0a99b2e2c8872729d004"
)

// referenceLanguages are the implementations of BeeCloud's sample code that
// testdata/gen/gen.sh runs; every vector carries a signature from each.
var referenceLanguages = []string{"node", "python", "java"}

type signVector struct {
	AppID      string            `json:"app_id"`
	Title      string            `json:"title"`
	Amount     int64             `json:"amount"`
	OutTradeNo string            `json:"out_trade_no"`
	AppSecret  string            `json:"app_secret"`
	Sign       map[string]string `json:"sign"`
}

type webhookVector struct {
	AppID           string            `json:"app_id"`
	TransactionID   string            `json:"transaction_id"`
	TransactionType TransactionType   `json:"transaction_type"`
	ChannelType     ChannelType       `json:"channel_type"`
	TransactionFee  int64             `json:"transaction_fee"`
	MasterSecret    string            `json:"master_secret"`
	Sign            map[string]string `json:"sign"`
}

type legacyVector struct {
	AppID     string            `json:"app_id"`
	Secret    string            `json:"secret"`
	Timestamp int64             `json:"timestamp"`
	Sign      map[string]string `json:"sign"`
}

func loadJSON(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("testdata/%s: %v", name, err)
	}
}

func loadSignVectors(t testing.TB) []signVector {
	var file struct{ Vectors []signVector }
	loadJSON(t, "sign_vectors.json", &file)
	return file.Vectors
}

// agreed returns the signature every reference language computed, failing
// the test if one is missing or they differ.
func agreed(t *testing.T, signs map[string]string) string {
	t.Helper()
	want := signs[referenceLanguages[0]]
	for _, lang := range referenceLanguages {
		got, ok := signs[lang]
		switch {
		case !ok:
			t.Fatalf("no %s signature in %v", lang, signs)
		case len(got) != 32 || strings.Trim(got, "0123456789abcdef") != "":
			t.Fatalf("%s signature %q is not 32 lowercase hex digits", lang, got)
		case got != want:
			t.Fatalf("%s signed %q; %s signed %q", lang, got, referenceLanguages[0], want)
		}
	}
	return want
}

func TestSignVectors(t *testing.T) {
	vectors := loadSignVectors(t)
	if len(vectors) < 200 {
		t.Fatalf("testdata/sign_vectors.json has %d vectors; want at least 200", len(vectors))
	}
	for i, v := range vectors {
		want := agreed(t, v.Sign)
		if got := Sign(v.AppID, v.Title, v.Amount, v.OutTradeNo, v.AppSecret); got != want {
			t.Errorf("vector %d: Sign(%q, %q, %d, %q, %q) = %q; want %q (node, python, java)",
				i, v.AppID, v.Title, v.Amount, v.OutTradeNo, v.AppSecret, got, want)
		}
	}
}

// TestSignVectorsCoverage keeps the generated vectors honest: they must
// exercise the inputs that broke other implementations.
func TestSignVectorsCoverage(t *testing.T) {
	vectors := loadSignVectors(t)
	amounts := map[int64]bool{}
	var han, emoji, long, space, mixed bool
	for _, v := range vectors {
		amounts[v.Amount] = true
		var hasHan, hasLatin bool
		for _, r := range v.Title {
			switch {
			case unicode.Is(unicode.Han, r):
				hasHan = true
			case r >= 0x1F300:
				emoji = true
			case r == ' ':
				space = true
			case r < utf8.RuneSelf && unicode.IsLetter(r):
				hasLatin = true
			}
		}
		han = han || hasHan
		mixed = mixed || hasHan && hasLatin
		long = long || len(SignString(v.AppID, v.Title, v.Amount, v.OutTradeNo, v.AppSecret)) > 256
	}
	for _, a := range []int64{1, 10, 100, 150, 999999, MaxAmount} {
		if !amounts[a] {
			t.Errorf("no vector with amount %d", a)
		}
	}
	for name, ok := range map[string]bool{"Chinese": han, "emoji": emoji, "space": space, "mixed-script": mixed, "longer than 256 bytes": long} {
		if !ok {
			t.Errorf("no vector with a %s title", name)
		}
	}
}

// TestSignVectorsMatchInputs checks that testdata/sign_vectors.json holds
// exactly the inputs that testdata/gen/gen.sh signed, in order, so that a
// hand-edited vector cannot slip in.
func TestSignVectorsMatchInputs(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "gen", "inputs.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	unhex := func(h string) string {
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatalf("inputs.tsv: %v", err)
		}
		return string(b)
	}
	var inputs []signVector
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		f := strings.Split(line, "\t")
		if f[0] != "order" {
			continue
		}
		if len(f) != 6 {
			t.Fatalf("inputs.tsv: order line with %d fields", len(f))
		}
		amount, err := strconv.ParseInt(f[3], 10, 64)
		if err != nil {
			t.Fatalf("inputs.tsv: %v", err)
		}
		inputs = append(inputs, signVector{AppID: unhex(f[1]), Title: unhex(f[2]), Amount: amount, OutTradeNo: unhex(f[4]), AppSecret: unhex(f[5])})
	}
	vectors := loadSignVectors(t)
	if len(vectors) != len(inputs) {
		t.Fatalf("sign_vectors.json has %d vectors; inputs.tsv has %d orders", len(vectors), len(inputs))
	}
	for i, in := range inputs {
		v := vectors[i]
		if v.AppID != in.AppID || v.Title != in.Title || v.Amount != in.Amount || v.OutTradeNo != in.OutTradeNo || v.AppSecret != in.AppSecret {
			t.Errorf("vector %d = %q %q %d %q %q; inputs.tsv has %q %q %d %q %q", i,
				v.AppID, v.Title, v.Amount, v.OutTradeNo, v.AppSecret, in.AppID, in.Title, in.Amount, in.OutTradeNo, in.AppSecret)
		}
	}
}

func TestSignPublicVector(t *testing.T) {
	got := Sign(publicAppID, publicTitle, publicAmount, publicOutTradeNo, publicAppSecret)
	if got != publicSign {
		t.Errorf("Sign(public vector) = %q; want %q", got, publicSign)
	}
}

func TestSignString(t *testing.T) {
	tests := []struct {
		appID, title string
		amount       int64
		no, secret   string
		want         string
	}{
		{publicAppID, publicTitle, publicAmount, publicOutTradeNo, publicAppSecret,
			publicAppID + "test1test0001" + publicAppSecret},
		// A Go port once wrote fees with FormatFloat(fee, 'g', 1, 64): "2e+02".
		{"app", "标题", 150, "no", "s", "app标题150nos"},
		{"app", "t", 10, "no", "s", "appt10nos"},
		{"app", "t", MaxAmount, "no", "s", "appt9007199254740991nos"},
		{"", "", 0, "", "", "0"},
	}
	for _, tt := range tests {
		if got := SignString(tt.appID, tt.title, tt.amount, tt.no, tt.secret); got != tt.want {
			t.Errorf("SignString(%q, %q, %d, %q, %q) = %q; want %q", tt.appID, tt.title, tt.amount, tt.no, tt.secret, got, tt.want)
		}
	}
	// SignString is what Sign hashes, for every vector.
	for _, v := range loadSignVectors(t) {
		s := SignString(v.AppID, v.Title, v.Amount, v.OutTradeNo, v.AppSecret)
		sum := md5.Sum([]byte(s))
		if got, want := hex.EncodeToString(sum[:]), Sign(v.AppID, v.Title, v.Amount, v.OutTradeNo, v.AppSecret); got != want {
			t.Errorf("md5(SignString(%q, …)) = %q; Sign = %q", v.Title, got, want)
		}
	}
}

func TestSignAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	for _, title := range []string{"中文 node.js water", strings.Repeat("长", 100)} {
		n := testing.AllocsPerRun(100, func() {
			Sign(publicAppID, title, 150, "0123456789abcdef0123456789abcdef", publicAppSecret)
		})
		// Titles that validate fit the stack buffer: the result is the only
		// allocation. Longer input may grow the buffer once.
		want := 1.0
		if len(title) > MaxTitleBytes*2 {
			want = 2
		}
		if n > want {
			t.Errorf("Sign with a %d-byte title: %v allocations; want at most %v", len(title), n, want)
		}
	}
}

func TestWebhookSignature(t *testing.T) {
	// BeeCloud's public webhook vector (beecloud-dotnet BCUtilTests.cs).
	const want = "e204d63775d3d29dafe6788a0a978755"
	got := WebhookSignature("afae2a33-c9cb-4139-88c9-af5c1df472e1", "5f0c1466d8bd11e6b66d00163e005bb3",
		"PAY", "BC", 1, "506371c7-b095-45da-bfce-9ae857c41a85")
	if got != want {
		t.Errorf("WebhookSignature(public vector) = %q; want %q", got, want)
	}

	var file struct{ Webhook []webhookVector }
	loadJSON(t, "webhook_vectors.json", &file)
	if len(file.Webhook) < 20 {
		t.Fatalf("testdata/webhook_vectors.json has %d webhook vectors; want at least 20", len(file.Webhook))
	}
	for i, v := range file.Webhook {
		want := agreed(t, v.Sign)
		got := WebhookSignature(v.AppID, v.TransactionID, v.TransactionType, v.ChannelType, v.TransactionFee, v.MasterSecret)
		if got != want {
			t.Errorf("vector %d: WebhookSignature(%q, %q, %q, %q, %d, %q) = %q; want %q",
				i, v.AppID, v.TransactionID, v.TransactionType, v.ChannelType, v.TransactionFee, v.MasterSecret, got, want)
		}
	}
}

func TestLegacyWebhookSign(t *testing.T) {
	// BeeCloud's demo app at its webhook example's timestamp, as Node.js,
	// Python and Java compute it (testdata/gen/gen.sh).
	const want = "856e43f6e96ee84355fc358513fb7868"
	if got := LegacyWebhookSign(publicAppID, publicAppSecret, 1426817510111); got != want {
		t.Errorf("LegacyWebhookSign(demo app, 1426817510111) = %q; want %q", got, want)
	}

	var file struct{ Legacy []legacyVector }
	loadJSON(t, "webhook_vectors.json", &file)
	if len(file.Legacy) < 10 {
		t.Fatalf("testdata/webhook_vectors.json has %d legacy vectors; want at least 10", len(file.Legacy))
	}
	for i, v := range file.Legacy {
		want := agreed(t, v.Sign)
		if got := LegacyWebhookSign(v.AppID, v.Secret, v.Timestamp); got != want {
			t.Errorf("vector %d: LegacyWebhookSign(%q, %q, %d) = %q; want %q", i, v.AppID, v.Secret, v.Timestamp, got, want)
		}
	}
}

func FuzzSign(f *testing.F) {
	f.Add(publicAppID, publicTitle, int64(publicAmount), publicOutTradeNo, publicAppSecret)
	f.Add("app", "中文 node.js water", int64(150), "0123456789abcdef", "secret")
	f.Add("", "", int64(-1<<63), "", "")
	f.Add("a", "\xff\xfe", int64(1<<63-1), "no", strings.Repeat("s", 300))
	f.Fuzz(func(t *testing.T, appID, title string, amount int64, outTradeNo, appSecret string) {
		msg := appID + title + strconv.FormatInt(amount, 10) + outTradeNo + appSecret
		sum := md5.Sum([]byte(msg))
		want := hex.EncodeToString(sum[:])
		if got := Sign(appID, title, amount, outTradeNo, appSecret); got != want {
			t.Errorf("Sign(%q, %q, %d, %q, %q) = %q; want %q", appID, title, amount, outTradeNo, appSecret, got, want)
		}
		if got := SignString(appID, title, amount, outTradeNo, appSecret); got != msg {
			t.Errorf("SignString(%q, %q, %d, %q, %q) = %q; want %q", appID, title, amount, outTradeNo, appSecret, got, msg)
		}
	})
}

var benchSink string

// signBenchInput is a typical order: a UUID app, a short Chinese title, a
// NewOutTradeNo number.
var signBenchInput = struct {
	appID, title string
	amount       int64
	no, secret   string
}{publicAppID, "中文 node.js water", 150, "0123456789abcdef0123456789abcdef", publicAppSecret}

func BenchmarkSign(b *testing.B) {
	o := signBenchInput
	b.ReportAllocs()
	for range b.N {
		benchSink = Sign(o.appID, o.title, o.amount, o.no, o.secret)
	}
}

// BenchmarkSignBaseline is the floor for BenchmarkSign: the idiomatic
// md5.Sum and hex.EncodeToString over the message concatenated beforehand.
func BenchmarkSignBaseline(b *testing.B) {
	o := signBenchInput
	msg := []byte(SignString(o.appID, o.title, o.amount, o.no, o.secret))
	b.ReportAllocs()
	for range b.N {
		sum := md5.Sum(msg)
		benchSink = hex.EncodeToString(sum[:])
	}
}
