package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"

	"github.com/paybutton/beecloud"
)

const payUsage = `Usage: beecloud pay -channel WX_NATIVE -amount FEN -title TITLE [-out-trade-no NO]
	[-return-url URL] [-openid ID] [-show-url URL] [-qr-pay-mode 0|1|3] [-identity-id ID]
	[-card-no NO -card-type SZX] [-timeout 2h] [-optional KEY=VALUE]... [-test] [-api-url URL]

Pay makes a payment from the server through BeeCloud's REST API (POST
/2/rest/bill, signed with the App Secret), the way a shop pays inside its
native app or shows its own WeChat QR code, and prints what the buyer pays
it with: WX_NATIVE's code_url, WX_JSAPI's parameters for WeixinJSBridge,
WX_APP's for WeChat's SDK, ALI_APP's order_string, UN_APP's tn, BD_APP's
orderInfo, or a web channel's html form and url.

Channels: WX_APP WX_NATIVE WX_JSAPI (needs -openid) ALI_APP ALI_WEB (needs
-return-url) ALI_QRCODE (needs -return-url, -qr-pay-mode) ALI_OFFLINE_QRCODE
ALI_WAP UN_APP UN_WEB (needs -return-url) JD_WAP JD_WEB (need -return-url)
YEE_WAP (needs -identity-id) YEE_WEB YEE_NOBANKCARD (needs -card-no, -card-type
and $BEECLOUD_CARD_PASSWORD) KUAIQIAN_WAP KUAIQIAN_WEB PAYPAL_LIVE
PAYPAL_SANDBOX BD_APP BD_WAP BD_WEB. The request is checked first: every
missing or malformed field is named, and nothing is sent.

-out-trade-no defaults to a fresh order number. It is never sent twice: when
BeeCloud's answer is lost, pay looks the bill up by its number and says what
it found. Make a new bill with a new number rather than repeat one.

-test uses BeeCloud's test mode (/2/rest/sandbox/bill, signed with the Test
Secret): nothing is charged. "beecloud sandbox" serves both modes offline,
and its pay pages pay the bill.

The App ID and secrets may come from $BEECLOUD_APP_ID, $BEECLOUD_APP_SECRET
and $BEECLOUD_TEST_SECRET instead of flags.

Example:

	beecloud pay -api-url http://127.0.0.1:8090 -channel WX_NATIVE -amount 1 -title 咖啡
`

// envCardPassword holds a YEE_NOBANKCARD card's password, which is not a
// flag so that it stays out of the shell's history.
const envCardPassword = "BEECLOUD_CARD_PASSWORD" //nolint:gosec // G101: the name of a variable, not a secret

// payFlags are pay's flags.
type payFlags struct {
	cr       credentials
	apiURL   string
	test     bool
	channel  string
	amount   string
	cardNo   string
	cardType string
	qrMode   string
	optional keyValues
	req      beecloud.BillRequest
	api      *beecloud.Client // made by check
}

func (f *payFlags) define(fs *flag.FlagSet) {
	f.cr.define(fs, true, false)
	f.cr.defineTest(fs)
	fs.StringVar(&f.apiURL, "api-url", beecloud.DefaultAPIURL, "BeeCloud's REST API, or a sandbox's URL")
	fs.BoolVar(&f.test, "test", false, "use BeeCloud's test mode, signed with the Test Secret: nothing is charged")
	fs.StringVar(&f.channel, "channel", "", "how the buyer pays, such as WX_NATIVE, WX_APP or ALI_WEB")
	fs.StringVar(&f.amount, "amount", "", "the amount, an integer in 分 (1 = ¥0.01)")
	fs.StringVar(&f.req.Title, "title", "", "the goods' name, at most 16 Chinese characters or 32 ASCII ones")
	fs.StringVar(&f.req.OutTradeNo, "out-trade-no", "", "the order's number, 8 to 32 letters or digits (default: a fresh one)")
	fs.StringVar(&f.req.ReturnURL, "return-url", "", "where the buyer's browser goes after paying (web channels)")
	fs.DurationVar(&f.req.Timeout, "timeout", 0, "how long the bill can be paid, in whole seconds, such as 2h (default: BeeCloud's)")
	fs.StringVar(&f.req.OpenID, "openid", "", "the buyer's openid (WX_JSAPI)")
	fs.StringVar(&f.req.ShowURL, "show-url", "", "the goods' page (ALI_WEB)")
	fs.StringVar(&f.qrMode, "qr-pay-mode", "", "the QR page's layout, 0, 1 or 3 (ALI_QRCODE)")
	fs.StringVar(&f.req.IdentityID, "identity-id", "", "the buyer's id at Yeepay (YEE_WAP)")
	fs.StringVar(&f.cardNo, "card-no", "", "the prepaid card's number (YEE_NOBANKCARD; its password comes from $"+envCardPassword+")")
	fs.StringVar(&f.cardType, "card-type", "", "the prepaid card's type, such as SZX (YEE_NOBANKCARD)")
	fs.Var(&f.optional, "optional", "a `KEY=VALUE` echoed in the webhook (repeatable)")
}

// check fills in the credentials from getenv, builds the request and
// the client, and returns the problem with the flags, in words, or "".
func (f *payFlags) check(getenv func(string) string) string {
	f.cr.fill(getenv)
	switch {
	case f.cr.appID == "":
		return "missing -app-id (or $" + envAppID + ")"
	case f.test && f.cr.testSecret == "":
		return "-test needs -test-secret (or $" + envTestSecret + ")"
	case !f.test && f.cr.appSecret == "":
		return "missing -app-secret (or $" + envAppSecret + ")"
	case f.channel == "":
		return "missing -channel, such as WX_NATIVE"
	case f.amount == "":
		return "missing -amount"
	}
	amount, err := parseFen(f.amount)
	if err != nil {
		return err.Error()
	}
	if _, err := parseHTTPURL(f.apiURL); err != nil {
		return fmt.Sprintf("-api-url %v", err)
	}
	f.req.Channel, f.req.Amount, f.req.QRPayMode = beecloud.BillChannel(f.channel), amount, beecloud.QRPayMode(f.qrMode)
	if f.req.OutTradeNo == "" {
		f.req.OutTradeNo = beecloud.NewOutTradeNo()
	}
	if pw := getenv(envCardPassword); f.cardNo != "" || f.cardType != "" || pw != "" {
		f.req.Card = &beecloud.PrepaidCard{Number: f.cardNo, Password: pw, Type: f.cardType}
	}
	for _, kv := range f.optional {
		if f.req.Optional == nil {
			f.req.Optional = map[string]any{}
		}
		f.req.Optional[kv.key] = kv.value
	}
	cfg := beecloud.Config{AppID: f.cr.appID, AppSecret: f.cr.appSecret, TestSecret: f.cr.testSecret}
	f.api = &beecloud.Client{Config: cfg, BaseURL: f.apiURL, Test: f.test}
	return ""
}

func (c *cli) pay(args []string) int {
	const name = "pay"
	var f payFlags
	if code, done := c.parseCommand(name, payUsage, &f, args); done {
		return code
	}
	ctx, cancel := c.apiContext()
	defer cancel()
	res, err := f.api.CreateBill(ctx, f.req)
	switch {
	case errors.Is(err, beecloud.ErrBillAnswerLost):
		return c.errorf(name, "%v\nThe bill exists but cannot be paid from here: make a new one, with a new -out-trade-no.", err)
	case errors.Is(err, beecloud.ErrUnknownOutcome):
		return c.errorf(name, "%v\nLook it up before anything else:\n\tbeecloud bills -out-trade-no %s", err, f.req.OutTradeNo)
	case err != nil:
		return c.apiFailure(name, err)
	}
	mode := ""
	if f.test {
		mode = ", test mode"
	}
	fmt.Fprintf(c.stdout, "Bill %s made for order %s (%s, %s%s).\n", safe(res.ID), f.req.OutTradeNo, f.req.Channel, yuanSign(f.req.Amount), mode)
	for _, field := range []struct{ key, value string }{
		{"code_url", res.CodeURL}, {"order_string", res.OrderString}, {"tn", res.TN}, {"orderInfo", res.OrderInfo},
		{"qr_code", res.QRCode}, {"url", res.URL}, {"html", res.HTML},
	} {
		if field.value != "" {
			fmt.Fprintf(c.stdout, "%s: %s\n", field.key, safe(field.value))
		}
	}
	for _, params := range []struct {
		what string
		v    any
		set  bool
	}{
		{"WeixinJSBridge.invoke(\"getBrandWCPayRequest\", …) parameters", res.JSAPI, res.JSAPI != nil},
		{"WeChat SDK (PayReq) parameters", res.WxApp, res.WxApp != nil},
	} {
		if !params.set {
			continue
		}
		js, err := json.Marshal(params.v)
		if err != nil {
			return c.errorf(name, "%v", err)
		}
		fmt.Fprintf(c.stdout, "%s: %s\n", params.what, safe(string(js)))
	}
	if f.test {
		fmt.Fprintln(c.stdout, "It is paid when its test webhook comes (signed with the legacy scheme and the Test Secret).")
	} else {
		fmt.Fprintf(c.stdout, "It is paid when its webhook comes, or when \"beecloud bills -out-trade-no %s\" says PAID.\n", f.req.OutTradeNo)
	}
	return exitOK
}
