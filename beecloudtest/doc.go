// Package beecloudtest provides helpers for testing code that uses package
// beecloud, in the way net/http/httptest sits beside net/http.
//
// Its webhook signer builds the bodies BeeCloud would POST to a merchant's
// webhook URL, signed with the current scheme or the legacy one:
// [NotificationBody] returns the bytes, [NewRequest] an *http.Request to
// pass to a handler's ServeHTTP, and [Paid] the notification for paying an
// order. With them a test can drive a [beecloud.WebhookHandler], or any
// handler built on [beecloud.Config.ParseNotification], without BeeCloud.
//
// # The sandbox
//
// A [Sandbox] is a local BeeCloud: it serves the button script, checks
// each BC.click as BeeCloud does, shows the channel menu and a pay page
// per channel, and on payment sends the app a signed webhook, resending it
// on BeeCloud's schedule, scaled down, until the app answers success. So
// the whole pay flow, from the button to the webhook, runs offline in
// tests and demos. Point [beecloud.Config].ScriptURL at
// [Sandbox.ScriptURL]; its page at [Sandbox].URL lists the apps, bills and
// webhooks, and follows them live.
//
// The script defines window.BC = {click, err} and fires beecloud:onready,
// as BeeCloud's does. BC.click(data, event) checks every rule of
// BeeCloud's (through [beecloud.Order.Validate]; amount may also be a
// string of digits, as some of BeeCloud's examples send it), the sign
// against the app's AppSecret, and that an instant_channel is enabled. A
// refusal reaches event.dataError and then BC.err as {"ERROR": message}:
// [ErrSignMismatch], [ErrChannelNotEnabled], [ErrUnknownApp] or a
// [beecloud.ValidationError] naming each bad field.
//
// Otherwise the script shows the channel menu, #beecloud-sandbox-menu, a
// modal dialog (a bottom sheet on a viewport at most 640 px wide) whose
// channels are button[data-channel=CODE]; WeChat JSAPI (wx, bcwx) is
// offered only when data has an openid, and instant_channel skips the
// menu. A pay page has #pay (支付成功), #fail (支付失败) and #cancel (取消);
// a QR channel's page (wxmp, bcwxmp, bcaliqr) shows #qr and has #scan
// instead of #pay. Paying sends the browser to return_url with bill_no,
// spay_result=SUCCESS and total_fee, or to the sandbox's result page;
// 支付失败 shows the result page and 取消 goes back to the merchant's page.
// WeChat JSAPI bills are paid in place through WeixinJSBridge, faked in a
// sheet (#beecloud-sandbox-wx) outside WeChat. With data.debug the script
// logs each step to the console and to #beecloud-sandbox-debug rather than
// in alerts.
//
// A payment's webhook carries channel_type and sub_channel_type from the
// channel, transaction_id the out_trade_no and transaction_fee the amount,
// signed with the app's MasterSecret. It is resent after RetryBase, twice
// that, and so on, until the app answers a 2xx status with the body
// success, or MaxAttempts were made. Like BeeCloud, the sandbox can send
// a webhook again after it was acknowledged: [Sandbox.Redeliver] on
// demand, Duplicates for every one. An app must handle each payment once.
//
// # The REST API
//
// The sandbox also serves BeeCloud's REST API at URL, for a
// [beecloud.Client] whose BaseURL is set to it: bill and refund queries,
// refunds (partial up to the paid amount, pre-refunds awaiting approval)
// with REFUND webhooks signed and resent like payments, BeeCloud's signing
// checks and result codes. [Sandbox.FailNext] makes the next calls fail (a
// 5xx, an answer lost after the work was done, latency) and
// [Sandbox.DropWebhook] drops an order's payment webhook, so a test can
// prove that its retries and [beecloud.WebhookHandler.Reconcile] recover.
// [Sandbox.WaitDelivery] and [Sandbox.Redeliver] work on an order's newest
// delivery, which after a refund is the REFUND one.
//
// It answers BeeCloud's own clients as BeeCloud does: a call that carries
// the app's secrets (BeeCloud's Node.js SDK sends all three in every call)
// is served, with a warning to Logger once per app; bills and refunds
// queries take a channel (ALI, all its sub-channels) or a sub-channel
// (ALI_WEB); a direct Alipay refund's url opens a page showing the refund;
// a path of BeeCloud's API (under /2/) that the sandbox does not serve is
// answered with JSON and a result_code, never an HTML page.
//
// It also makes bills for a server (POST /2/rest/bill, every channel of
// [beecloud.Client.CreateBill]) whose answers lead to its own pay pages: a
// code_url and urls open one, an html form submits to one, and an app
// channel's order_string, tn, orderInfo or prepay_id goes back to
// [Sandbox.MarkPaid]. BeeCloud's test mode is served under
// /2/rest/sandbox/… for an app with a TestSecret: its bills are kept apart
// from live ones ([Bill].Test), marked paid by GET
// /2/rest/sandbox/notify/{app_id}/{id} as BeeCloud's Android SDK does, and
// their webhooks are signed with the legacy scheme and the TestSecret.
//
// # Bounds
//
// A sandbox keeps at most MaxBills bills ([DefaultMaxBills] unless set),
// and as many webhook deliveries, forgetting the oldest first; a
// forgotten paid bill no longer blocks paying its out_trade_no again. A
// click request may hold 32 KiB, and a bill remembers the merchant page
// it came from only if its address fits in 2 KiB. The same click sent
// again while its bill is pending gets that bill back rather than a new
// one. Times on its pages are Beijing time.
//
// The sandbox is for tests and local development only: it takes every
// payment the buyer clicks through, and its pages need no login.
package beecloudtest
