package beecloud

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// FuzzDecodeBillResult: no answer makes the decoder panic, and a decoded
// result without an error holds what its channel is paid with.
func FuzzDecodeBillResult(f *testing.F) {
	for _, seed := range []string{
		`{"id":"b1","code_url":"weixin://wxpay/bizpayurl?pr=x"}`,
		`{"id":"b1","app_id":"wx","package":"prepay_id=p","nonce_str":"n","timestamp":"1426817510","pay_sign":"S","sign_type":"MD5"}`,
		`{"id":"b1","timestamp":1426817510,"prepay_id":"p","pay_sign":"S"}`,
		`{"id":"b1","timestamp":{}}`,
		`{"html":"<form></form>","url":"http://x"}`,
		`{"orderInfo":"a=b"}`,
		`[]`, `null`, ``,
	} {
		for _, ch := range billChannels {
			f.Add(seed, string(ch))
		}
	}
	f.Fuzz(func(t *testing.T, body, ch string) {
		res, err := decodeBillResult([]byte(body), BillChannel(ch))
		if err != nil {
			return
		}
		switch BillChannel(ch) {
		case BillWxNative:
			assert.NotEmpty(t, res.CodeURL, "WX_NATIVE without a code_url: %s", body)
		case BillWxJSAPI:
			if assert.NotNil(t, res.JSAPI, "WX_JSAPI without its parameters: %s", body) {
				assert.NotEmpty(t, res.JSAPI.Package, "WX_JSAPI without its package: %s", body)
				assert.NotEmpty(t, res.JSAPI.PaySign, "WX_JSAPI without its pay_sign: %s", body)
			}
		case BillAliApp:
			assert.NotEmpty(t, res.OrderString, "ALI_APP without an order_string: %s", body)
		}
	})
}

// FuzzBillRequestParams: checking a request never panics, and a request
// it passes has every key BeeCloud requires.
func FuzzBillRequestParams(f *testing.F) {
	f.Add("WX_NATIVE", "order0001", "咖啡", int64(1), "", "", "", "", "", int64(0))
	f.Add("WX_JSAPI", "order0001", "咖啡", int64(1), "oUser", "", "", "", "", int64(60))
	f.Add("ALI_QRCODE", "order0001", "t", int64(1), "", "https://x.example/r", "", "3", "", int64(0))
	f.Add("YEE_WAP", "order0001", "t", int64(1), "", "", "", "", "id1", int64(0))
	f.Fuzz(func(t *testing.T, ch, no, title string, amount int64, openid, ret, show, mode, identity string, timeoutSec int64) {
		r := BillRequest{Channel: BillChannel(ch), OutTradeNo: no, Title: title, Amount: amount, OpenID: openid,
			ReturnURL: ret, ShowURL: show, QRPayMode: QRPayMode(mode), IdentityID: identity, Timeout: durationSeconds(timeoutSec)}
		m, err := r.params()
		if err != nil {
			return
		}
		for _, key := range []string{"channel", "bill_no", "title", "total_fee"} {
			assert.Contains(t, m, key, "params() accepted without %s: %+v", key, r)
		}
		if r.Channel == BillWxJSAPI {
			assert.NotNil(t, m["openid"], "params(): WX_JSAPI accepted without openid: %+v", r)
		}
	})
}

func durationSeconds(s int64) time.Duration { return time.Duration(s%1e6) * time.Second }
