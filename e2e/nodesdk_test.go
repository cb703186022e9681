package e2e

// BeeCloud's official Node.js SDK (beecloud-node-sdk, pinned in
// testdata/nodesdk/package-lock.json, unmodified) against the sandbox: the
// proof that the sandbox speaks BeeCloud's wire format to a client nobody
// here wrote. testdata/nodesdk/redirect.js sends the SDK's HTTPS requests
// to the sandbox over loopback; harness.js runs the operations this test
// plans and prints what the SDK resolved with.
//
// The test needs node and npm (Debian's nodejs and npm packages) and the
// npm registry, or npm's cache, for npm ci: without node or npm it is
// skipped, unless CI=true, when it fails.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

// nodeSDKFiles are the harness's files in testdata/nodesdk.
var nodeSDKFiles = []string{"package.json", "package-lock.json", "redirect.js", "harness.js"}

// installNodeSDK copies the harness to a temporary directory and installs
// the pinned SDK there with npm ci, so that the test writes nothing into
// the clone. It skips t when node or npm is missing, unless CI=true.
func installNodeSDK(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			msg := fmt.Sprintf("e2e: %s not found (%v): install Debian's nodejs and npm packages to run BeeCloud's Node.js SDK against the sandbox", tool, err)
			if os.Getenv("CI") == "true" {
				require.Fail(t, msg)
			}
			t.Skip(msg)
		}
	}
	dir := t.TempDir()
	for _, name := range nodeSDKFiles {
		b, err := os.ReadFile(filepath.Join("testdata", "nodesdk", name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o600))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "npm_config_update_notifier=false")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "npm ci (needs the npm registry or its cache):\n%s", out)
	return dir
}

// sdkOp is one call of the SDK: api[Fn](Param), in test mode if Sandbox.
type sdkOp struct {
	Name    string         `json:"name"`
	Fn      string         `json:"fn"`
	Sandbox bool           `json:"sandbox,omitempty"`
	Param   map[string]any `json:"param,omitempty"`
}

// sdkResult is what one call resolved with, and the requests it sent.
type sdkResult struct {
	Answer   map[string]any `json:"answer"`
	Error    string         `json:"error"`
	Requests []struct {
		Method, Host, Path string
	} `json:"requests"`
}

// runNodeSDK runs ops with the SDK installed in dir, registered with cfg,
// against the sandbox at sandboxURL.
func runNodeSDK(t *testing.T, dir, sandboxURL string, cfg beecloud.Config, ops []sdkOp) map[string]sdkResult {
	t.Helper()
	plan, err := json.Marshal(map[string]any{
		"app": map[string]string{"id": cfg.AppID, "secret": cfg.AppSecret, "master": cfg.MasterSecret, "test": cfg.TestSecret},
		"ops": ops,
	})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "-r", "./redirect.js", "harness.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "BEECLOUD_SANDBOX_URL="+sandboxURL)
	cmd.Stdin = bytes.NewReader(plan)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "node harness.js:\n%s", stderr.String())
	out := map[string]sdkResult{}
	dec := json.NewDecoder(bytes.NewReader(stdout.Bytes()))
	dec.UseNumber() // amounts and counts compare as the integers they are
	require.NoError(t, dec.Decode(&out), "harness output:\n%s", stdout.String())
	return out
}

// syncBuffer collects the sandbox's log while it serves.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// billNos returns the bill_no of each bill (or refund) in answer[key].
func billNos(t *testing.T, answer map[string]any, key string) []string {
	t.Helper()
	list, ok := answer[key].([]any)
	require.True(t, ok, "%s is a list: %v", key, answer)
	var out []string
	for _, v := range list {
		m, ok := v.(map[string]any)
		require.True(t, ok, "%s holds objects: %v", key, answer)
		out = append(out, fmt.Sprint(m["bill_no"]))
	}
	return out
}

func TestNodeSDK(t *testing.T) {
	dir := installNodeSDK(t)
	cfg := beecloud.Config{
		AppID:        "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719",
		AppSecret:    "39a7a518-9ac8-4a9e-87bc-7885f33cf18c",
		MasterSecret: "506371c7-b095-45da-bfce-9ae857c41a85",
		TestSecret:   "4bfdd244-574d-4bf3-b034-0c751ed34fee",
	}
	var logs syncBuffer
	sb := beecloudtest.NewUnstartedSandbox(beecloudtest.App{
		Config:   cfg,
		Channels: []beecloud.Channel{beecloud.ChannelAli, beecloud.ChannelWxMP, beecloud.ChannelUN},
	})
	sb.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	sb.Start()
	t.Cleanup(sb.Close)

	pay := func(amount int64, ch beecloud.Channel) beecloudtest.Bill {
		params, err := cfg.Params(beecloud.Order{Title: "测试", Amount: amount, OutTradeNo: beecloud.NewOutTradeNo(), Optional: map[string]any{"k": "v"}})
		require.NoError(t, err)
		b, err := sb.Pay(cfg.AppID, params, ch)
		require.NoError(t, err)
		return b
	}
	ali, wx, un := pay(150, beecloud.ChannelAli), pay(3, beecloud.ChannelWxMP), pay(20, beecloud.ChannelUN)
	require.Equal(t, "ALI_WEB", ali.SubChannel)
	require.Equal(t, "WX_NATIVE", wx.SubChannel)
	// The refunds to query are made as BeeCloud's doc says, signed with
	// the Master Secret: the SDK signs its own with the App Secret.
	client := &beecloud.Client{Config: cfg, BaseURL: sb.URL}
	ctx := context.Background()
	aliRefundNo, wxRefundNo := beecloud.NewRefundNo(time.Now()), beecloud.NewRefundNo(time.Now())
	aliRefund, err := client.Refund(ctx, beecloud.RefundRequest{OutTradeNo: ali.Order.OutTradeNo, RefundNo: aliRefundNo, Amount: 50})
	require.NoError(t, err)
	_, err = client.Refund(ctx, beecloud.RefundRequest{OutTradeNo: wx.Order.OutTradeNo, RefundNo: wxRefundNo, Amount: 1})
	require.NoError(t, err)
	// A test-mode bill for the SDK's test-mode look-up by id.
	testBill, err := (&beecloud.Client{Config: cfg, BaseURL: sb.URL, Test: true}).CreateBill(ctx,
		beecloud.BillRequest{Channel: beecloud.BillWxNative, OutTradeNo: beecloud.NewOutTradeNo(), Title: "测试", Amount: 1})
	require.NoError(t, err)

	ops := []sdkOp{
		{Name: "bills", Fn: "getBills"},
		{Name: "bills ALI", Fn: "getBills", Param: map[string]any{"channel": "ALI"}},
		{Name: "bills ALI_WEB", Fn: "getBills", Param: map[string]any{"channel": "ALI_WEB"}},
		{Name: "bills WX_NATIVE", Fn: "getBills", Param: map[string]any{"channel": "WX_NATIVE"}},
		{Name: "bills ALI_WAP", Fn: "getBills", Param: map[string]any{"channel": "ALI_WAP"}},
		{Name: "bills by bill_no", Fn: "getBills", Param: map[string]any{"bill_no": un.Order.OutTradeNo}},
		{Name: "bills paid, with detail", Fn: "getBills", Param: map[string]any{"spay_result": true, "need_detail": true, "limit": 50}},
		{Name: "bills page", Fn: "getBills", Param: map[string]any{"skip": 1, "limit": 1}},
		{Name: "bills count", Fn: "getBillsCount"},
		{Name: "bills count WX_NATIVE", Fn: "getBillsCount", Param: map[string]any{"channel": "WX_NATIVE"}},
		{Name: "bill by id", Fn: "getBillById", Param: map[string]any{"id": ali.ID}},
		{Name: "bill by unknown id", Fn: "getBillById", Param: map[string]any{"id": "nosuchbill"}},
		{Name: "refunds", Fn: "getRefunds"},
		{Name: "refunds ALI_WEB", Fn: "getRefunds", Param: map[string]any{"channel": "ALI_WEB"}},
		{Name: "refunds by refund_no", Fn: "getRefunds", Param: map[string]any{"refund_no": wxRefundNo}},
		{Name: "refunds count", Fn: "getRefundsCount"},
		{Name: "refunds count WX", Fn: "getRefundsCount", Param: map[string]any{"channel": "WX"}},
		{Name: "refund by id", Fn: "getRefundById", Param: map[string]any{"id": aliRefund.ID}},
		{Name: "refund status", Fn: "getRefundStatus", Param: map[string]any{"channel": "WX", "refund_no": wxRefundNo}},
		{Name: "refund", Fn: "refund", Param: map[string]any{"bill_no": un.Order.OutTradeNo, "refund_no": beecloud.NewRefundNo(time.Now()), "refund_fee": 1}},
		{Name: "pay", Fn: "bill", Param: map[string]any{"channel": "WX_NATIVE", "total_fee": 1, "bill_no": "nodesdk" + beecloud.NewOutTradeNo()[:16], "title": "测试"}},
		{Name: "test bills", Fn: "getBills", Sandbox: true},
		{Name: "test bills count", Fn: "getBillsCount", Sandbox: true},
		{Name: "test pay", Fn: "bill", Sandbox: true, Param: map[string]any{"channel": "WX_NATIVE", "total_fee": 1, "bill_no": "nodesdk" + beecloud.NewOutTradeNo()[:16], "title": "测试"}},
		{Name: "test bill by id", Fn: "getBillById", Sandbox: true, Param: map[string]any{"id": testBill.ID}},
		{Name: "test mode: a live bill by id", Fn: "getBillById", Sandbox: true, Param: map[string]any{"id": ali.ID}},
	}
	// The calls the sandbox does not serve (in-store payments, payouts,
	// identity checks, SMS): each must still get JSON with a result_code.
	unserved := []sdkOp{
		{Name: "auth", Fn: "auth", Param: map[string]any{"name": "张三", "id_no": "110101199001011234"}},
		{Name: "sms", Fn: "sms", Param: map[string]any{"phone": "13800000000"}},
		{Name: "transfer", Fn: "transfer", Param: map[string]any{"channel": "WX_TRANSFER", "transfer_no": "1234567890", "total_fee": 100, "desc": "测试", "channel_user_id": "openid"}},
		{Name: "transfers", Fn: "transfers", Param: map[string]any{"channel": "ALI", "batch_no": "20261206001", "account_name": "测试", "transfer_data": []any{}}},
		{Name: "bcTransfer", Fn: "bcTransfer", Param: map[string]any{"total_fee": 100, "bill_no": "nodesdk0001", "title": "测试", "trade_source": "OUT_PC", "bank_fullname": "中国银行", "card_type": "DE", "account_type": "P", "account_no": "6222000000000000", "account_name": "张三"}},
		{Name: "transferBanks", Fn: "transferBanks", Param: map[string]any{"type": "P_DE"}},
		{Name: "offlineBill", Fn: "offlineBill", Param: map[string]any{"channel": "WX_SCAN", "total_fee": 1, "bill_no": "nodesdk0002", "title": "测试", "auth_code": "130000000000000000"}},
		{Name: "getOfflineStatus", Fn: "getOfflineStatus", Param: map[string]any{"bill_no": "nodesdk0002"}},
		{Name: "offlineRevert", Fn: "offlineRevert", Param: map[string]any{"bill_no": "nodesdk0002", "method": "REVERT"}},
		{Name: "offlineRefund", Fn: "offlineRefund", Param: map[string]any{"bill_no": "nodesdk0002", "refund_no": beecloud.NewRefundNo(time.Now()), "refund_fee": 1}},
	}
	got := runNodeSDK(t, dir, sb.URL, cfg, append(ops, unserved...))

	// Every call is sent to BeeCloud's host and answered with JSON that
	// carries a result_code: the SDK, which parses every answer as JSON,
	// resolves each one.
	for _, op := range append(ops, unserved...) {
		r, ok := got[op.Name]
		require.True(t, ok, "the harness ran %q", op.Name)
		require.Empty(t, r.Error, "%s: the SDK must get an answer it can parse", op.Name)
		require.Len(t, r.Requests, 1, "%s sends one request", op.Name)
		assert.Equal(t, "api.beecloud.cn", r.Requests[0].Host, op.Name)
		_, isNumber := r.Answer["result_code"].(json.Number)
		require.True(t, isNumber, "%s: the answer carries a result_code: %v", op.Name, r.Answer)
	}
	code := func(name string) int {
		n, err := got[name].Answer["result_code"].(json.Number).Int64()
		require.NoError(t, err, "%s: result_code", name)
		return int(n)
	}
	answer := func(name string) map[string]any {
		t.Helper()
		require.Equal(t, 0, code(name), "%s: %v", name, got[name].Answer)
		return got[name].Answer
	}

	t.Run("bills", func(t *testing.T) {
		all := answer("bills")
		assert.Equal(t, []string{un.Order.OutTradeNo, wx.Order.OutTradeNo, ali.Order.OutTradeNo}, billNos(t, all, "bills"), "newest first")
		b := all["bills"].([]any)[2].(map[string]any)
		for _, key := range []string{"id", "bill_no", "total_fee", "trade_no", "channel", "sub_channel", "title", "spay_result", "create_time", "optional", "revert_result", "refund_result"} {
			assert.Contains(t, b, key, "a bill as BeeCloud documents it")
		}
		assert.Equal(t, ali.ID, b["id"])
		assert.Equal(t, "ALI", b["channel"])
		assert.Equal(t, "ALI_WEB", b["sub_channel"])
		assert.Equal(t, json.Number("150"), b["total_fee"])
		assert.Equal(t, true, b["spay_result"])
		assert.Equal(t, true, b["refund_result"])
		assert.JSONEq(t, `{"k":"v"}`, fmt.Sprint(b["optional"]), "optional is a JSON string")

		assert.Equal(t, []string{ali.Order.OutTradeNo}, billNos(t, answer("bills ALI"), "bills"))
		assert.Equal(t, []string{ali.Order.OutTradeNo}, billNos(t, answer("bills ALI_WEB"), "bills"), "a sub-channel filter")
		assert.Equal(t, []string{wx.Order.OutTradeNo}, billNos(t, answer("bills WX_NATIVE"), "bills"), "a sub-channel filter")
		assert.Empty(t, billNos(t, answer("bills ALI_WAP"), "bills"))
		assert.Equal(t, []string{un.Order.OutTradeNo}, billNos(t, answer("bills by bill_no"), "bills"))
		assert.Equal(t, []string{wx.Order.OutTradeNo}, billNos(t, answer("bills page"), "bills"))
		detailed := answer("bills paid, with detail")["bills"].([]any)
		require.Len(t, detailed, 3)
		for _, v := range detailed {
			assert.IsType(t, "", v.(map[string]any)["message_detail"], "need_detail adds message_detail, a JSON string")
		}
		assert.Equal(t, json.Number("3"), answer("bills count")["count"])
		assert.Equal(t, json.Number("1"), answer("bills count WX_NATIVE")["count"])

		one := answer("bill by id")["pay"].(map[string]any)
		assert.Equal(t, ali.ID, one["id"])
		assert.Equal(t, ali.Order.OutTradeNo, one["bill_no"])
		assert.Equal(t, ali.ChannelTransactionID, one["trade_no"])
		assert.Equal(t, int(beecloud.CodeNoSuchBill), code("bill by unknown id"))
	})

	t.Run("refunds", func(t *testing.T) {
		assert.Equal(t, []string{wx.Order.OutTradeNo, ali.Order.OutTradeNo}, billNos(t, answer("refunds"), "refunds"), "newest first")
		r := answer("refunds")["refunds"].([]any)[1].(map[string]any)
		for _, key := range []string{"id", "bill_no", "refund_no", "total_fee", "refund_fee", "title", "channel", "sub_channel", "finish", "result", "optional", "create_time"} {
			assert.Contains(t, r, key, "a refund as BeeCloud documents it")
		}
		assert.Equal(t, aliRefundNo, r["refund_no"])
		assert.Equal(t, json.Number("50"), r["refund_fee"])
		assert.Equal(t, true, r["result"])
		assert.Equal(t, []string{ali.Order.OutTradeNo}, billNos(t, answer("refunds ALI_WEB"), "refunds"), "a sub-channel filter")
		assert.Equal(t, []string{wx.Order.OutTradeNo}, billNos(t, answer("refunds by refund_no"), "refunds"))
		assert.Equal(t, json.Number("2"), answer("refunds count")["count"])
		assert.Equal(t, json.Number("1"), answer("refunds count WX")["count"])
		assert.Equal(t, aliRefundNo, answer("refund by id")["refund"].(map[string]any)["refund_no"])
		assert.Equal(t, "SUCCESS", answer("refund status")["refund_status"])
	})

	t.Run("refund signed with the App Secret is refused", func(t *testing.T) {
		a := got["refund"].Answer
		assert.Equal(t, int(beecloud.CodeAppInvalid), code("refund"), "BeeCloud wants the Master Secret: %v", a)
		assert.Contains(t, a["err_detail"], "Master Secret")
		assert.Len(t, sb.Refunds(), 2, "no refund was made")
	})

	t.Run("paths", func(t *testing.T) {
		want := map[string]string{
			"bills": "/2/rest/bills", "bills count": "/2/rest/bills/count", "bill by id": "/2/rest/bill/" + ali.ID,
			"refunds": "/2/rest/refunds", "refunds count": "/2/rest/refunds/count", "refund by id": "/2/rest/refund/" + aliRefund.ID,
			"refund status": "/2/rest/refund/status", "refund": "/2/rest/refund", "pay": "/2/rest/bill",
			"test bills": "/2/rest/sandbox/bills", "test bills count": "/2/rest/sandbox/bills/count",
			"test pay": "/2/rest/sandbox/bill", "test bill by id": "/2/rest/bill/" + testBill.ID,
		}
		for name, path := range want {
			p, _, _ := strings.Cut(got[name].Requests[0].Path, "?")
			assert.Equal(t, path, p, name)
		}
	})

	// Bill creation (live and test mode) and test-mode queries: each is
	// answered with BeeCloud's documented fields. The SDK looks a test bill
	// up by id on the live path, signed with the Test Secret.
	t.Run("bill creation and test mode", func(t *testing.T) {
		checks := map[string]func(map[string]any){
			"pay": func(a map[string]any) {
				assert.NotEmpty(t, a["id"], "pay: the bill's id")
				assert.NotEmpty(t, a["code_url"], "pay: WX_NATIVE answers a code_url")
			},
			"test pay": func(a map[string]any) {
				assert.NotEmpty(t, a["code_url"], "test pay: WX_NATIVE answers a code_url")
			},
			"test bills": func(a map[string]any) {
				assert.IsType(t, []any{}, a["bills"], "test bills: a list of bills")
			},
			"test bills count": func(a map[string]any) {
				assert.IsType(t, json.Number(""), a["count"], "test bills count: a count")
			},
			"test bill by id": func(a map[string]any) {
				assert.Contains(t, a, "pay", "test bill by id: the bill")
			},
		}
		assert.Equal(t, int(beecloud.CodeNoSuchBill), code("test mode: a live bill by id"), "test mode never shows live bills")
		for name, check := range checks {
			if !assert.Zero(t, code(name), "%s: refused by the sandbox: result_code (%v)", name, got[name].Answer["err_detail"]) {
				continue
			}
			check(got[name].Answer)
		}
	})

	t.Run("unserved calls", func(t *testing.T) {
		for _, op := range unserved {
			assert.NotEqual(t, 0, code(op.Name), "%s: the sandbox does not do it and says so", op.Name)
		}
	})

	// The SDK sends the app's three secrets in every call: BeeCloud serves
	// it, and the sandbox warns, once, without printing them.
	t.Run("secrets leak warning", func(t *testing.T) {
		out := logs.String()
		assert.Equal(t, 1, strings.Count(out, "level=WARN"), "one warning: %s", out)
		assert.Contains(t, out, "app_id="+cfg.AppID)
		assert.Contains(t, out, "App Secret, Master Secret, Test Secret")
		for _, secret := range []string{cfg.AppSecret, cfg.MasterSecret, cfg.TestSecret} {
			assert.NotContains(t, out, secret)
		}
	})
}
