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
// Several server instances behind one webhook URL share a [Store], so that
// Handle still runs once per transaction: the PostgreSQL and Redis stores
// are the modules github.com/paybutton/beecloud/stores/pgstore and
// github.com/paybutton/beecloud/stores/redisstore. The package beecloudtest
// signs webhook bodies for tests and runs a local BeeCloud sandbox;
// storetest checks a Store against the contract.
package beecloud
