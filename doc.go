// Package beecloud is a server-side SDK for BeeCloud's pay button
// (秒支付Button): it signs orders for BC.click, renders the script tag and
// the pay button for html/template pages, verifies the webhooks (回调)
// BeeCloud sends when a buyer has paid, and handles each of them once.
//
// A merchant's server holds one [Config] per BeeCloud app. To take a
// payment it builds an [Order] and renders [Config.Button] (or hands
// [Config.Params] to its own script), and serves a [WebhookHandler] at the
// webhook URL set on BeeCloud's dashboard. Goods are granted in the
// handler's Handle function, never on the buyer's return_url, which the
// buyer controls. A [Client] speaks BeeCloud's REST API: it looks bills up,
// for a webhook that never came ([WebhookHandler.Reconcile]), and refunds.
// Amounts are integers in 分 (fen, 1 = ¥0.01) throughout.
//
// The package's Example is the whole integration in one program. In
// the repository, README.md's section "Integrate in 30 lines" shows it for
// a real server, and the section "The examples and the beecloud command"
// runs two complete shops offline against a local sandbox:
// examples/checkout (desktop and phone, with reconciliation and refunds)
// and examples/wechat-jsapi (paying inside WeChat).
//
// Without the button, a server makes the payment itself through BeeCloud's
// REST API with [Client.CreateBill]: for a native app (WX_APP, ALI_APP,
// UN_APP, BD_APP), for its own WeChat QR code (WX_NATIVE), for
// WeixinJSBridge inside WeChat (WX_JSAPI), or for a web channel. The same
// [Client] finds bills and refunds them.
//
// Several server instances behind one webhook URL share a [Store], so that
// Handle still runs once per transaction: the PostgreSQL and Redis stores
// are the modules github.com/paybutton/beecloud/stores/pgstore and
// github.com/paybutton/beecloud/stores/redisstore. The package beecloudtest
// signs webhook bodies for tests and runs a local BeeCloud sandbox;
// storetest checks a Store against the contract.
//
// # Test mode
//
// A [Client] with Test set uses BeeCloud's test mode, whose bills are never
// charged. BeeCloud's description of it is unfinished and its own SDKs
// disagree; this package chooses:
//
//   - the paths /2/rest/sandbox/bill, /2/rest/sandbox/bills,
//     /2/rest/sandbox/bills/count and /2/rest/sandbox/bill/{id}, as
//     BeeCloud's Node.js, PHP and Android SDKs (its document says /1/…, and
//     the Node.js SDK looks a bill up by id on the live path);
//   - the Test Secret for every test-mode call (the document's tables say
//     the App Secret for queries, its text and the SDKs the Test Secret);
//   - the answers' own field names (created_time, createdat,
//     channel_trade_no; no id in a list), read into [Bill];
//   - no filters that test mode lacks: [Client.Bills] refuses PaidOnly,
//     RefundedOnly and Detail there, and so [WebhookHandler.Reconcile]
//     fails rather than take a test payment for a live one;
//   - no refunds, which test mode does not have ([ErrTestMode]).
//
// How BeeCloud signs a test payment's webhook is not documented either;
// its SDKs' receivers check the legacy sign with the Test Secret, which
// [Config.ParseNotification] accepts only with LegacyWebhook set, marking
// the [Notification] Test. A handler without LegacyWebhook refuses it, so
// a test payment never marks a live order paid.
package beecloud
