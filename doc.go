// Package beecloud is a server-side SDK for BeeCloud's pay button
// (秒支付Button): it signs orders for BC.click, renders the script tag and
// the pay button for html/template pages, and verifies and answers the
// webhooks (回调) that BeeCloud sends when a buyer has paid.
//
// A merchant's server holds one [Config] per BeeCloud app. To take a
// payment it builds an [Order], calls [Config.Params] (or [Config.Button]
// to get ready-made HTML), and serves a [WebhookHandler] at the webhook URL
// set on BeeCloud's dashboard. Goods are granted in the handler's Handle
// function, never on the buyer's return_url, which the buyer controls.
//
// Amounts are integers in 分 (fen, 1 = ¥0.01) throughout.
//
// Without the button, a server makes the payment itself through BeeCloud's
// REST API with [Client.CreateBill]: for a native app (WX_APP, ALI_APP,
// UN_APP, BD_APP), for its own WeChat QR code (WX_NATIVE), for
// WeixinJSBridge inside WeChat (WX_JSAPI), or for a web channel. The same
// [Client] finds bills and refunds them.
//
// Several server instances behind one webhook URL share a [Store] so that
// Handle still runs once per transaction: PostgreSQL and Redis ones are in
// the modules github.com/paybutton/beecloud/stores/pgstore and
// github.com/paybutton/beecloud/stores/redisstore, each its own module so
// that an application pulls in only the database driver it uses.
//
// The package beecloudtest holds helpers for tests: a signer for webhook
// bodies and a local BeeCloud sandbox that runs the whole pay flow offline.
// The package storetest checks a Store implementation against the contract.
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
