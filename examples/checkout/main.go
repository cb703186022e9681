// Command checkout is a small shop that takes payments with BeeCloud's pay
// button (秒支付Button), on net/http and html/template alone.
//
//	go run ./examples/checkout
//
// Without credentials it runs offline: a local BeeCloud sandbox serves the
// button script and the pay pages and sends the shop signed webhooks. With
// BEECLOUD_APP_ID, BEECLOUD_APP_SECRET and BEECLOUD_MASTER_SECRET set it
// serves BeeCloud's real script instead, and payments are real.
//
// The buyer presses 购买 (Buy), which creates an order, and pays it on its
// pay page with one of two buttons: 立即支付 opens BeeCloud's channel menu,
// and 微信扫码支付 skips it with instant_channel wxmp. A click BeeCloud
// refuses (a wrong App Secret gives a bad sign) shows BC.err's message on
// the page. The result page waits a minute for a late webhook, then offers
// to pay again or to ask BeeCloud; a sweeper asks about unpaid orders in
// the background; /admin lists the orders and refunds them (offline it is
// open; with BeeCloud itself set CHECKOUT_ADMIN_PASSWORD, user admin).
//
// This command records handled webhooks in memory, which is right for one
// process, and so builds without any database driver. For PostgreSQL or
// Redis, which several instances of a shop share, run
// "go run ./examples/checkout/withdb -store postgres" (or redis).
//
// Flags:
//
//	-addr 127.0.0.1:8080   the shop's listen address
//	-fail-first N          fail each order's first N webhooks on purpose,
//	                       to watch BeeCloud resend them (after 2 s, 4 s,
//	                       …) and the order end paid, handled once
package main

import "github.com/paybutton/beecloud/examples/checkout/internal/shopcmd"

// command is this program: the in-memory store only.
var command = shopcmd.Command{
	Name:      "go run ./examples/checkout",
	Stores:    []shopcmd.Store{shopcmd.Memory},
	Elsewhere: "; PostgreSQL and Redis are in go run ./examples/checkout/withdb",
}

func main() { shopcmd.Main(command) }
