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
// Several server instances behind one webhook URL share a [Store] so that
// Handle still runs once per transaction: PostgreSQL and Redis ones are in
// the modules github.com/paybutton/beecloud/stores/pgstore and
// github.com/paybutton/beecloud/stores/redisstore, each its own module so
// that an application pulls in only the database driver it uses.
//
// The package beecloudtest holds helpers for tests: a signer for webhook
// bodies and a local BeeCloud sandbox that runs the whole pay flow offline.
// The package storetest checks a Store implementation against the contract.
package beecloud
