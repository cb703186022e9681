package beecloud_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

var billConfig = beecloud.Config{
	AppID:        "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719",
	AppSecret:    "39a7a518-9ac8-4a9e-87bc-7885f33cf18c",
	MasterSecret: "506371c7-b095-45da-bfce-9ae857c41a85",
	TestSecret:   "4bfdd244-574d-4bf3-b034-0c751ed34fee",
}

// billShop is a sandbox whose webhooks reach a WebhookHandler that
// takes test webhooks too, and a live Client of it.
type billShop struct {
	sb     *beecloudtest.Sandbox
	client *beecloud.Client

	mu    sync.Mutex
	notes []beecloud.Notification
}

func newBillShop(t *testing.T) *billShop {
	t.Helper()
	s := &billShop{}
	cfg := billConfig
	cfg.LegacyWebhook = true
	h := &beecloud.WebhookHandler{
		Apps: beecloud.Apps{cfg},
		Handle: func(_ context.Context, n *beecloud.Notification) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.notes = append(s.notes, *n)
			return nil
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	s.sb = beecloudtest.NewSandbox(beecloudtest.App{Config: billConfig, WebhookURL: srv.URL})
	t.Cleanup(s.sb.Close)
	s.client = &beecloud.Client{Config: billConfig, BaseURL: s.sb.URL}
	return s
}

// validBill returns a request for ch with every field ch requires.
func validBill(ch beecloud.BillChannel) beecloud.BillRequest {
	r := beecloud.BillRequest{Channel: ch, OutTradeNo: beecloud.NewOutTradeNo(), Title: "测试商品", Amount: 1, Optional: map[string]any{"k": "v"}}
	switch ch {
	case beecloud.BillWxJSAPI:
		r.OpenID = "o3kKrjlUsMnv__cK5DYZMl0JoAkY"
	case beecloud.BillAliQRCode:
		r.QRPayMode = beecloud.QRPayModeSmall
		r.ReturnURL = "https://shop.example.com/paid"
	case beecloud.BillAliWeb, beecloud.BillUnWeb, beecloud.BillJDWap, beecloud.BillJDWeb:
		r.ReturnURL = "https://shop.example.com/paid"
	case beecloud.BillYeeWap:
		r.IdentityID = "buyer42"
	case beecloud.BillYeeNoBankCard:
		r.Card = &beecloud.PrepaidCard{Number: "1234567890", Password: "s3cretPIN", Type: "SZX"}
	}
	return r
}

// paidWith returns what a result holds for the buyer to pay with.
func paidWith(r *beecloud.BillResult) string {
	switch {
	case r.JSAPI != nil:
		return r.JSAPI.Package
	case r.WxApp != nil:
		return r.WxApp.PrepayID
	}
	for _, s := range []string{r.CodeURL, r.OrderString, r.TN, r.OrderInfo, r.QRCode, r.URL, r.HTML} {
		if s != "" {
			return s
		}
	}
	return ""
}

func TestCreateBillEveryChannel(t *testing.T) {
	shop := newBillShop(t)
	ctx := context.Background()
	for _, ch := range beecloud.BillChannels() {
		t.Run(ch.String(), func(t *testing.T) {
			req := validBill(ch)
			res, err := shop.client.CreateBill(ctx, req)
			require.NoError(t, err)
			require.NotEmpty(t, res.ID)
			assert.Equal(t, ch, res.Channel)
			switch ch {
			case beecloud.BillWxNative:
				assert.Contains(t, res.CodeURL, shop.sb.URL+"/sandbox/pay/"+res.ID)
			case beecloud.BillWxJSAPI:
				require.NotNil(t, res.JSAPI)
				assert.Equal(t, "MD5", res.JSAPI.SignType)
				assert.NotEmpty(t, res.JSAPI.TimeStamp)
				js, err := json.Marshal(res.JSAPI)
				require.NoError(t, err)
				for _, key := range []string{"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"} {
					assert.Contains(t, string(js), `"`+key+`"`)
				}
			case beecloud.BillWxApp:
				require.NotNil(t, res.WxApp)
				assert.NotEmpty(t, res.WxApp.PartnerID)
			case beecloud.BillAliApp:
				assert.Contains(t, res.OrderString, "out_trade_no="+req.OutTradeNo)
			case beecloud.BillUnApp:
				assert.NotEmpty(t, res.TN)
			case beecloud.BillBDApp:
				assert.NotEmpty(t, res.OrderInfo)
			case beecloud.BillAliOfflineQRCode:
				assert.NotEmpty(t, res.QRCode)
			case beecloud.BillAliWeb, beecloud.BillAliWap, beecloud.BillAliQRCode:
				assert.Contains(t, res.HTML, "<form")
				assert.Contains(t, res.URL, res.ID)
			case beecloud.BillUnWeb, beecloud.BillJDWap, beecloud.BillJDWeb, beecloud.BillKuaiqianWap, beecloud.BillKuaiqianWeb:
				assert.Contains(t, res.HTML, "<form")
			case beecloud.BillYeeWap, beecloud.BillYeeWeb, beecloud.BillBDWap, beecloud.BillBDWeb:
				assert.Contains(t, res.URL, res.ID)
			}

			// The bill is BeeCloud's: found by id and by bill_no, unpaid.
			b, err := shop.client.GetBill(ctx, res.ID)
			require.NoError(t, err)
			assert.Equal(t, req.OutTradeNo, b.OutTradeNo)
			assert.Equal(t, string(ch), b.SubChannel)
			assert.Equal(t, strings.SplitN(string(ch), "_", 2)[0], string(b.Channel))
			assert.False(t, b.Paid)

			// Paying it with what the answer gave sends the webhook.
			ref := paidWith(res)
			if ref == "" {
				ref = res.ID // YEE_NOBANKCARD: BeeCloud charges the card itself
			}
			_, err = shop.sb.MarkPaid(ref)
			require.NoError(t, err)
			d, err := shop.sb.WaitDelivery(ctx, req.OutTradeNo)
			require.NoError(t, err)
			require.True(t, d.Acknowledged)
			n := shop.note(t, req.OutTradeNo)
			assert.Equal(t, string(ch), n.SubChannelType)
			assert.Equal(t, req.Amount, n.TransactionFee)
			assert.False(t, n.Test)
			bills, err := shop.client.Bills(ctx, beecloud.BillQuery{OutTradeNo: req.OutTradeNo, PaidOnly: true})
			require.NoError(t, err)
			assert.Len(t, bills, 1)
		})
	}
}

func (s *billShop) note(t *testing.T, outTradeNo string) beecloud.Notification {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.notes {
		if n.TransactionID == outTradeNo {
			return n
		}
	}
	require.Failf(t, "no webhook handled", "out_trade_no %s", outTradeNo)
	return beecloud.Notification{}
}

// TestCreateBillRefusesBeforeSending: each channel's missing or malformed
// fields are named, all at once, and nothing reaches BeeCloud.
func TestCreateBillRefusesBeforeSending(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		http.Error(w, "must not be called", http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	client := &beecloud.Client{Config: billConfig, BaseURL: srv.URL}

	card := &beecloud.PrepaidCard{Number: "123456", Password: "pw123", Type: "SZX"}
	tests := []struct {
		name   string
		edit   func(*beecloud.BillRequest)
		fields []string
	}{
		{"no channel", func(r *beecloud.BillRequest) { r.Channel = "" }, []string{"channel"}},
		{"unknown channel", func(r *beecloud.BillRequest) { r.Channel = "wx_native" }, []string{"channel"}},
		{"common fields", func(r *beecloud.BillRequest) {
			r.Channel, r.OutTradeNo, r.Title, r.Amount = beecloud.BillWxNative, "short", "", 0
		}, []string{"bill_no", "title", "total_fee"}},
		{"title too long", func(r *beecloud.BillRequest) { r.Channel, r.Title = beecloud.BillWxNative, strings.Repeat("长", 17) }, []string{"title"}},
		{"nested optional", func(r *beecloud.BillRequest) {
			r.Channel, r.Optional = beecloud.BillWxNative, map[string]any{"a": map[string]any{}}
		}, []string{"optional.a"}},
		{"bad analysis", func(r *beecloud.BillRequest) {
			r.Channel, r.Analysis = beecloud.BillAliApp, &beecloud.Analysis{OSName: "iOS\n"}
		}, []string{"analysis.os_name"}},
		{"timeout not whole seconds", func(r *beecloud.BillRequest) { r.Channel, r.Timeout = beecloud.BillWxNative, 1500*time.Millisecond }, []string{"bill_timeout"}},
		{"timeout on JD", func(r *beecloud.BillRequest) {
			r.Channel, r.ReturnURL, r.Timeout = beecloud.BillJDWeb, "https://shop.example.com/ok", time.Hour
		}, []string{"bill_timeout"}},
		{"WX_JSAPI without openid", func(r *beecloud.BillRequest) { r.Channel = beecloud.BillWxJSAPI }, []string{"openid"}},
		{"WX_JSAPI bad openid", func(r *beecloud.BillRequest) { r.Channel, r.OpenID = beecloud.BillWxJSAPI, "o<script>" }, []string{"openid"}},
		{"openid elsewhere", func(r *beecloud.BillRequest) { r.Channel, r.OpenID = beecloud.BillWxNative, "o3kKrjl" }, []string{"openid"}},
		{"ALI_WEB without return_url", func(r *beecloud.BillRequest) { r.Channel = beecloud.BillAliWeb }, []string{"return_url"}},
		{"ALI_WEB bad show_url", func(r *beecloud.BillRequest) {
			r.Channel, r.ReturnURL, r.ShowURL = beecloud.BillAliWeb, "https://shop.example.com/ok", "ftp://x"
		}, []string{"show_url"}},
		{"show_url elsewhere", func(r *beecloud.BillRequest) {
			r.Channel, r.ShowURL = beecloud.BillAliWap, "https://shop.example.com/item"
		}, []string{"show_url"}},
		{"ALI_QRCODE without mode and return_url", func(r *beecloud.BillRequest) { r.Channel = beecloud.BillAliQRCode }, []string{"return_url", "qr_pay_mode"}},
		{"ALI_QRCODE bad mode", func(r *beecloud.BillRequest) {
			r.Channel, r.ReturnURL, r.QRPayMode = beecloud.BillAliQRCode, "https://shop.example.com/ok", "2"
		}, []string{"qr_pay_mode"}},
		{"UN_WEB return_url with query", func(r *beecloud.BillRequest) {
			r.Channel, r.ReturnURL = beecloud.BillUnWeb, "https://shop.example.com/ok?a=1"
		}, []string{"return_url"}},
		{"JD_WAP without return_url", func(r *beecloud.BillRequest) { r.Channel = beecloud.BillJDWap }, []string{"return_url"}},
		{"return_url on an app channel", func(r *beecloud.BillRequest) {
			r.Channel, r.ReturnURL = beecloud.BillWxApp, "https://shop.example.com/ok"
		}, []string{"return_url"}},
		{"YEE_WAP without identity_id", func(r *beecloud.BillRequest) { r.Channel = beecloud.BillYeeWap }, []string{"identity_id"}},
		{"YEE_WAP long identity_id", func(r *beecloud.BillRequest) { r.Channel, r.IdentityID = beecloud.BillYeeWap, strings.Repeat("a", 51) }, []string{"identity_id"}},
		{"YEE_NOBANKCARD without card", func(r *beecloud.BillRequest) { r.Channel = beecloud.BillYeeNoBankCard }, []string{"cardno", "cardpwd", "frqid"}},
		{"YEE_NOBANKCARD bad card", func(r *beecloud.BillRequest) {
			r.Channel, r.Card = beecloud.BillYeeNoBankCard, &beecloud.PrepaidCard{Number: "12 34", Password: "", Type: "VISA"}
		}, []string{"cardno", "cardpwd", "frqid"}},
		{"card elsewhere", func(r *beecloud.BillRequest) { r.Channel, r.Card = beecloud.BillYeeWeb, card }, []string{"cardno"}},
		{"identity_id elsewhere", func(r *beecloud.BillRequest) { r.Channel, r.IdentityID = beecloud.BillYeeWeb, "buyer42" }, []string{"identity_id"}},
		{"qr_pay_mode elsewhere", func(r *beecloud.BillRequest) { r.Channel, r.QRPayMode = beecloud.BillWxNative, beecloud.QRPayModeTall }, []string{"qr_pay_mode"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := beecloud.BillRequest{OutTradeNo: beecloud.NewOutTradeNo(), Title: "测试", Amount: 100}
			tt.edit(&r)
			_, err := client.CreateBill(context.Background(), r)
			require.ErrorIs(t, err, beecloud.ErrInvalidRequest)
			var rerr *beecloud.ValidationError
			require.ErrorAs(t, err, &rerr)
			var got []string
			for _, p := range rerr.Problems {
				got = append(got, p.Field)
			}
			assert.ElementsMatch(t, tt.fields, got, "%v", err)
		})
	}
	assert.Zero(t, calls.Load(), "a refused request was sent")
}

// TestCreateBillHidesCardPassword: neither a refusal nor a printed request
// shows a card's password.
func TestCreateBillHidesCardPassword(t *testing.T) {
	const pw = "Pw0rdPw0rd"
	r := beecloud.BillRequest{Channel: beecloud.BillYeeNoBankCard, OutTradeNo: "short", Title: "卡", Amount: 1,
		Card: &beecloud.PrepaidCard{Number: "1", Password: pw + "!", Type: "SZX"}}
	_, err := (&beecloud.Client{Config: billConfig}).CreateBill(context.Background(), r)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), pw)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		assert.NotContains(t, fmt.Sprintf(verb, r), pw, verb)
		assert.NotContains(t, fmt.Sprintf(verb, *r.Card), pw, verb)
	}
}

// TestCreateBillNeverResends: after a lost answer the bill is only looked
// up, and at most one bill exists for the bill_no.
func TestCreateBillNeverResends(t *testing.T) {
	tests := []struct {
		name  string
		fault beecloudtest.Fault
		want  error
		bills int
	}{
		{"answer lost after the bill was made", beecloudtest.Fault{Method: http.MethodPost, Path: "/2/rest/bill", LoseAnswer: true}, beecloud.ErrBillAnswerLost, 1},
		{"502 from a proxy", beecloudtest.Fault{Method: http.MethodPost, Path: "/2/rest/bill", Status: http.StatusBadGateway}, beecloud.ErrUnknownOutcome, 0},
		{"429", beecloudtest.Fault{Method: http.MethodPost, Path: "/2/rest/bill", Status: http.StatusTooManyRequests}, beecloud.ErrUnknownOutcome, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shop := newBillShop(t)
			shop.sb.FailNext(tt.fault)
			req := validBill(beecloud.BillWxNative)
			// A bill BeeCloud never made is looked up until the context's
			// deadline, which keeps the look-ups short here.
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			res, err := shop.client.CreateBill(ctx, req)
			assert.Nil(t, res)
			require.ErrorIs(t, err, tt.want)
			assert.Contains(t, err.Error(), req.OutTradeNo)
			n := 0
			for _, b := range shop.sb.Bills() {
				if b.Order.OutTradeNo == req.OutTradeNo {
					n++
				}
			}
			assert.Equal(t, tt.bills, n, "bills made for the bill_no")
		})
	}
}

func TestCreateBillAPIError(t *testing.T) {
	shop := newBillShop(t)
	req := validBill(beecloud.BillWxNative)
	res, err := shop.client.CreateBill(context.Background(), req)
	require.NoError(t, err)
	_, err = shop.sb.MarkPaid(res.CodeURL)
	require.NoError(t, err)
	// A paid bill_no is refused: BILL_NO_DUPLICATE, not a lost answer.
	_, err = shop.client.CreateBill(context.Background(), req)
	var apiErr *beecloud.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, beecloud.CodeBillNoDuplicate, apiErr.Code)
	assert.NotErrorIs(t, err, beecloud.ErrUnknownOutcome)
}

// TestTestMode: a Client with Test set makes and finds bills in BeeCloud's
// test mode, signed with the Test Secret, apart from live bills; their
// webhook is a test one, which never marks a live order paid.
func TestTestMode(t *testing.T) {
	shop := newBillShop(t)
	ctx := context.Background()
	test := &beecloud.Client{Config: billConfig, BaseURL: shop.sb.URL, Test: true}

	req := validBill(beecloud.BillWxNative)
	res, err := test.CreateBill(ctx, req)
	require.NoError(t, err)
	sbBills := shop.sb.Bills()
	require.Len(t, sbBills, 1)
	assert.True(t, sbBills[0].Test)

	// Live queries do not see it; test ones do.
	live, err := shop.client.Bills(ctx, beecloud.BillQuery{OutTradeNo: req.OutTradeNo})
	require.NoError(t, err)
	assert.Empty(t, live)
	_, err = shop.client.GetBill(ctx, res.ID)
	var apiErr *beecloud.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, beecloud.CodeNoSuchBill, apiErr.Code)

	bills, err := test.Bills(ctx, beecloud.BillQuery{OutTradeNo: req.OutTradeNo})
	require.NoError(t, err)
	require.Len(t, bills, 1)
	assert.Equal(t, beecloud.ChannelTypeWx, bills[0].Channel)
	assert.Equal(t, "WX_NATIVE", bills[0].SubChannel)
	assert.False(t, bills[0].CreatedAt.IsZero())
	n, err := test.CountBills(ctx, beecloud.BillQuery{OutTradeNo: req.OutTradeNo})
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	// Marked paid as BeeCloud's app SDKs do, over HTTP.
	resp, err := http.Get(shop.sb.URL + "/2/rest/sandbox/notify/" + billConfig.AppID + "/" + res.ID)
	require.NoError(t, err)
	var ack struct {
		ResultCode int `json:"result_code"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&ack))
	resp.Body.Close()
	assert.Equal(t, 0, ack.ResultCode)

	b, err := test.GetBill(ctx, res.ID)
	require.NoError(t, err)
	assert.True(t, b.Paid)
	assert.Equal(t, req.OutTradeNo, b.OutTradeNo)
	assert.NotEmpty(t, b.ChannelTransactionID)
	assert.Equal(t, map[string]any{"k": "v"}, b.Optional)

	d, err := shop.sb.WaitDelivery(ctx, req.OutTradeNo)
	require.NoError(t, err)
	assert.True(t, d.Acknowledged)
	assert.True(t, shop.note(t, req.OutTradeNo).Test, "the handler sees a test payment")

	// A live receiver (no legacy scheme) refuses the test webhook.
	_, err = billConfig.ParseNotification(d.Body)
	require.ErrorIs(t, err, beecloud.ErrLegacyDisabled)

	// The same bill_no is still free in live mode.
	_, err = shop.client.CreateBill(ctx, req)
	require.NoError(t, err)
}

func TestTestModeSigning(t *testing.T) {
	shop := newBillShop(t)
	ctx := context.Background()
	wrong := billConfig
	wrong.TestSecret = billConfig.AppSecret // signed with the App Secret instead
	_, err := (&beecloud.Client{Config: wrong, BaseURL: shop.sb.URL, Test: true}).CreateBill(ctx, validBill(beecloud.BillWxNative))
	var apiErr *beecloud.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, beecloud.CodeAppInvalid, apiErr.Code)

	noTest := billConfig
	noTest.TestSecret = ""
	_, err = (&beecloud.Client{Config: noTest, BaseURL: shop.sb.URL, Test: true}).Bills(ctx, beecloud.BillQuery{})
	require.ErrorIs(t, err, beecloud.ErrInvalidConfig)
}

func TestTestModeRefusals(t *testing.T) {
	shop := newBillShop(t)
	ctx := context.Background()
	test := &beecloud.Client{Config: billConfig, BaseURL: shop.sb.URL, Test: true}
	_, err := test.Refund(ctx, beecloud.RefundRequest{OutTradeNo: beecloud.NewOutTradeNo(), RefundNo: beecloud.NewRefundNo(time.Now()), Amount: 1})
	require.ErrorIs(t, err, beecloud.ErrTestMode)
	_, err = test.Refunds(ctx, beecloud.RefundQuery{})
	require.ErrorIs(t, err, beecloud.ErrTestMode)
	for _, q := range []beecloud.BillQuery{{PaidOnly: true}, {RefundedOnly: true}, {Detail: true}} {
		_, err = test.Bills(ctx, q)
		require.ErrorIs(t, err, beecloud.ErrInvalidRequest, "%+v", q)
	}
	assert.Empty(t, shop.sb.Bills())
}

// TestCreateBillAnswers: WeChat's timestamp comes as a string or a number
// and is passed through; a success without what pays the bill is
// ErrBillAnswerLost; a connection never made is not a lost answer.
func TestCreateBillAnswers(t *testing.T) {
	answer := ""
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	client := &beecloud.Client{Config: billConfig, BaseURL: srv.URL}
	ctx := context.Background()

	answer = `{"result_code":0,"result_msg":"OK","err_detail":"","id":"b1","app_id":"wx1","package":"prepay_id=p1","nonce_str":"n","timestamp":1426817510,"pay_sign":"S","sign_type":"MD5"}`
	res, err := client.CreateBill(ctx, validBill(beecloud.BillWxJSAPI))
	require.NoError(t, err)
	assert.Equal(t, beecloud.JSAPIParams{AppID: "wx1", TimeStamp: "1426817510", NonceStr: "n", Package: "prepay_id=p1", SignType: "MD5", PaySign: "S"}, *res.JSAPI)

	answer = `{"result_code":0,"result_msg":"OK","err_detail":"","id":"b2"}`
	_, err = client.CreateBill(ctx, validBill(beecloud.BillWxNative))
	require.ErrorIs(t, err, beecloud.ErrBillAnswerLost)
	assert.Contains(t, err.Error(), "code_url")
	assert.EqualValues(t, 2, calls.Load(), "a malformed answer was followed by another request")

	// Nothing listens on port 1: the connection is never made, so the bill
	// is retried and the failure is plain.
	_, err = (&beecloud.Client{Config: billConfig, BaseURL: "http://127.0.0.1:1"}).CreateBill(ctx, validBill(beecloud.BillWxNative))
	require.Error(t, err)
	require.NotErrorIs(t, err, beecloud.ErrUnknownOutcome)
	assert.NotErrorIs(t, err, beecloud.ErrBillAnswerLost)
}
