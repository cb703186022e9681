package shop

import (
	"html/template"
	"time"
)

// beijing is the time zone of the times the buyer reads: BeeCloud's
// buyers are in China (UTC+8, no daylight saving time).
var beijing = time.FixedZone("CST", 8*60*60)

var funcs = template.FuncMap{
	"yuan":      yuan,
	"channel":   channelName,
	"beijing":   func(t time.Time) string { return t.In(beijing).Format("2006-01-02 15:04:05") },
	"yuanInput": yuanInput,
}

// icons are inline SVG, so that no font has to have the glyph (the "✓"
// of some CJK fonts is a "√") and no request is made.
const icons = `
{{define "icon-ok"}}<svg class="icon" viewBox="0 0 24 24" aria-hidden="true"><circle cx="12" cy="12" r="11" fill="currentColor"/><path d="M6.5 12.5l3.5 3.5 7.5-8" fill="none" stroke="#fff" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round"/></svg>{{end}}
{{define "icon-wait"}}<svg class="icon" viewBox="0 0 24 24" aria-hidden="true"><circle cx="12" cy="12" r="10" fill="none" stroke="currentColor" stroke-width="2.4"/><path d="M12 6.5V12l3.5 2.5" fill="none" stroke="currentColor" stroke-width="2.4" stroke-linecap="round"/></svg>{{end}}
{{define "icon-no"}}<svg class="icon" viewBox="0 0 24 24" aria-hidden="true"><circle cx="12" cy="12" r="11" fill="currentColor"/><path d="M8 8l8 8M16 8l-8 8" stroke="#fff" stroke-width="2.4" stroke-linecap="round"/></svg>{{end}}
{{define "icon-back"}}<svg class="icon" viewBox="0 0 24 24" aria-hidden="true"><circle cx="12" cy="12" r="11" fill="currentColor"/><path d="M13 7l-5 5 5 5M8.5 12H17" fill="none" stroke="#fff" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round"/></svg>{{end}}`

// favicon is the shop's icon, served at /favicon.ico and /favicon.svg.
const favicon = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#1aad19"/><path d="M9 16.5l4.5 4.5L23 11.5" fill="none" stroke="#fff" stroke-width="3.5" stroke-linecap="round" stroke-linejoin="round"/></svg>`

// pageHead is shared by the pages: mobile-friendly (viewport meta, as
// BeeCloud asks of H5 pages), no external assets. On a narrow screen the
// label of each detail stacks above its value, so that an order number
// stays on one line.
const pageHead = `{{define "head"}}<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{.}}</title>
<meta name="description" content="秒支付 BeeCloud 示例商店：用 Go SDK 接入 BeeCloud 支付按钮。">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<style>
*{box-sizing:border-box}
body{font-family:-apple-system,"PingFang SC","Hiragino Sans GB","Microsoft YaHei","WenQuanYi Micro Hei",sans-serif;margin:0;background:#f5f6f8;color:#222;line-height:1.5}
main{max-width:36rem;margin:0 auto;padding:1rem}
main.wide{max-width:72rem}
@media (min-width:48rem){.admin .mono{overflow-wrap:normal;white-space:nowrap}}
h1{font-size:1.4rem;margin:.5rem 0 1rem}
.en{color:#5f6368;font-weight:normal;font-size:.85em}
.card{background:#fff;border-radius:.6rem;padding:1rem;margin-bottom:.8rem;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.card h2{font-size:1.1rem;margin:0 0 .3rem}
.price{font-size:1.2rem;color:#c7282b;margin:.4rem 0}
.muted{color:#5f6368;font-size:.9rem}
button,.button{display:inline-block;background:#107c10;color:#fff;border:0;border-radius:.4rem;padding:.6rem 1.2rem;font:inherit;font-size:1rem;text-decoration:none;cursor:pointer}
button.secondary,.button.secondary{background:#fff;color:#107c10;box-shadow:inset 0 0 0 1px #107c10}
button:active,.button:active{filter:brightness(.88);transform:translateY(1px)}
button:focus-visible,.button:focus-visible,a:focus-visible{outline:3px solid #0958d9;outline-offset:2px}
button[data-beecloud-state=loading]{cursor:progress;opacity:.8}
button[data-beecloud-state=loading]::after{content:"";display:inline-block;width:.9em;height:.9em;margin-left:.5em;vertical-align:-.15em;border:2px solid currentColor;border-right-color:transparent;border-radius:50%;animation:spin .8s linear infinite}
@keyframes spin{to{transform:rotate(360deg)}}
@media (prefers-reduced-motion:reduce){button[data-beecloud-state=loading]::after{animation:none}}
.beecloud-message{display:block;flex-basis:100%;color:#b3261e;background:#fdecea;border-radius:.4rem;padding:.5rem .8rem}
button.danger{background:#d93026}
form{margin:0}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin:.6rem 0}
.alert{background:#fdecea;color:#b3261e;border-radius:.6rem;padding:.8rem 1rem;margin-bottom:.8rem;overflow-wrap:anywhere}
.note{background:#eef6ee;color:#1d5e1c;border-radius:.6rem;padding:.8rem 1rem;margin-bottom:.8rem}
.state{display:flex;align-items:center;gap:.5rem;font-size:1.3rem;margin:.6rem 0}
.icon{width:1.4em;height:1.4em;flex:none}
.state.paid{color:#107c10}.state.pending{color:#ad4e00}.state.unpaid{color:#646a73}.state.refunded{color:#0958d9}
dl{display:grid;grid-template-columns:max-content 1fr;align-items:baseline;gap:.3rem .8rem;margin:.6rem 0 0}
dt{color:#5f6368}dd{margin:0;min-width:0}
.mono{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:.85rem;overflow-wrap:anywhere}
.nowrap{white-space:nowrap}
table{width:100%;border-collapse:collapse;font-size:.9rem}
th,td{text-align:left;padding:.4rem .3rem;border-bottom:1px solid #eee;vertical-align:top}
input[type=number]{width:7rem;font:inherit;padding:.3rem}
footer{color:#646a73;font-size:.8rem;text-align:center;margin:1.5rem 0}
@media (pointer:coarse) and (hover:none){.qr-only{display:none}}
@media (max-width:30rem){
dl{grid-template-columns:1fr;gap:0}
dt{font-size:.85rem;margin-top:.5rem}
.admin tr{display:block;border-bottom:1px solid #eee;padding:.4rem 0}
.admin th{display:none}
.admin td{display:block;border:0;padding:.1rem 0}
}
</style>
{{end}}` + icons

func page(name, body string) *template.Template {
	return template.Must(template.New(name).Funcs(funcs).Parse(pageHead + body))
}

var indexTemplate = page("index", `{{template "head" "秒支付 Demo Shop"}}
</head>
<body>
<main>
<h1>秒支付 示例商店 <span class="en">BeeCloud Demo Shop</span></h1>
{{if .Sandbox}}<p class="muted">沙箱模式：不会真实扣款 · Sandbox mode: no real money moves.</p>{{end}}
{{range .Products}}
<section class="card" id="product-{{.ID}}">
<h2>{{.Title}}</h2>
<p class="muted">{{.Description}}</p>
<p class="price">{{.Price}}</p>
<form method="post" action="/orders">
<input type="hidden" name="product" value="{{.ID}}">
<button type="submit" id="buy-{{.ID}}">购买 Buy</button>
</form>
</section>
{{end}}
{{if .Admin}}<footer><a href="/admin">订单管理 Orders (admin)</a></footer>{{end}}
</main>
</body>
</html>
`)

var payTemplate = page("pay", `{{template "head" "支付订单 Pay"}}
{{.ScriptTag}}
<script nonce="{{.Nonce}}">
// BC.err: BeeCloud refused the click (such as a bad sign). Tell the buyer
// instead of leaving the button silent.
// The buyer reads what happened and what to do; the developer's detail
// goes to the console. When BeeCloud's script itself did not come, the
// button already shows the buyer's message (err.MESSAGE) beside it.
var shop = {
	payError: function (err) {
		if (window.console) console.error("BC.err:", err && err.ERROR ? err.ERROR : err);
		if (err && err.MESSAGE) return;
		var box = document.getElementById("pay-error");
		box.textContent = "无法发起支付，订单未扣款。请刷新页面后重试；如仍失败，请联系本店客服。";
		box.hidden = false;
		box.scrollIntoView({block: "nearest"});
	}
};
</script>
</head>
<body>
<main>
<h1>支付订单 <span class="en">Pay</span></h1>
{{if .Sandbox}}<p class="muted">沙箱模式：不会真实扣款 · Sandbox mode: no real money moves.</p>{{end}}
<p class="alert" id="pay-error" role="alert" hidden></p>
<section class="card">
<h2>{{.Order.Title}}</h2>
<p class="price">{{yuan .Order.Amount}}</p>
<div class="actions">
<button type="button" id="pay-order">立即支付 Pay {{yuan .Order.Amount}}</button>
<button type="button" class="secondary qr-only" id="pay-order-{{.Direct}}">{{.Direct.Name}} WeChat QR</button>
</div>
{{.Scripts}}
<dl>
<dt>订单号 Order no.</dt><dd class="mono" id="order-no">{{.Order.OutTradeNo}}</dd>
</dl>
</section>
<p class="actions"><a class="button secondary" href="{{.ResultPath}}" id="view-order">查看订单 View order</a> <a class="button secondary" href="/">返回商店 Back to the shop</a></p>
</main>
</body>
</html>
`)

var resultTemplate = page("result", `{{template "head" "订单状态 Order status"}}
</head>
<body>
<main>
<h1>订单状态 <span class="en">Order status</span></h1>
{{with .Notice}}<p class="note" id="notice" role="status">{{.}}</p>{{end}}
<section class="card">
<h2>{{.Order.Title}}</h2>
{{if eq .Order.State "paid"}}
{{if .Order.Refunds}}{{if eq .Order.Refunded .Order.Amount}}
<p class="state refunded" id="state" data-state="refunded">{{template "icon-back"}}<span>已退款 <span class="en">Refunded</span></span></p>
{{else}}
<p class="state paid" id="state" data-state="paid">{{template "icon-ok"}}<span>已支付 <span class="en">Paid</span>{{if .Order.Refunded}} · 部分退款 <span class="en">partly refunded</span>{{end}}</span></p>
{{end}}{{else}}
<p class="state paid" id="state" data-state="paid">{{template "icon-ok"}}<span>已支付 <span class="en">Paid</span></span></p>
{{end}}
{{else if .Waiting}}
<p class="state pending" id="state" data-state="pending" data-waiting="true">{{template "icon-wait"}}<span>正在确认付款… <span class="en">Confirming your payment…</span></span></p>
<p class="muted" id="waiting">支付平台已将您送回本店；本页会自动更新，直到本店收到付款通知。<br>BeeCloud sent you back; this page updates itself until the shop receives the payment notice.</p>
<div id="late" hidden>
<p>暂未收到付款通知。如果您已付款，通知可能稍后到达，也可以向支付平台查询；如果支付失败或已取消，不会扣款，可以再次支付。<br>
<span class="en">No payment notice yet. If you paid, it may still come, or the shop can ask BeeCloud; if the payment failed or was cancelled, nothing was charged and you can pay again.</span></p>
{{template "unpaid-actions" .}}
</div>
<script>
(function () {
	var deadline = Date.now() + {{.WaitMillis}};
	function late() {
		document.getElementById("waiting").hidden = true;
		document.getElementById("late").hidden = false;
		document.getElementById("state").dataset.waiting = "false";
	}
	function poll() {
		fetch({{.StatusPath}}, {cache: "no-store", headers: {Accept: "application/json"}})
			.then(function (r) { return r.json(); })
			.then(function (s) {
				if (s.state !== "pending") { location.reload(); return; }
				if (Date.now() < deadline) { setTimeout(poll, 2000); } else { late(); }
			})
			.catch(function () { if (Date.now() < deadline) { setTimeout(poll, 2000); } else { late(); } });
	}
	setTimeout(poll, 2000);
})();
</script>
{{else}}
<p class="state unpaid" id="state" data-state="pending" data-waiting="false">{{template "icon-no"}}<span>尚未支付 <span class="en">Not paid</span></span></p>
<p>本店没有收到这笔订单的付款。如果支付失败或您取消了支付，不会扣款，可以再次支付。<br>
<span class="en">The shop has received no payment for this order. If the payment failed or you cancelled it, nothing was charged and you can pay again.</span></p>
{{template "unpaid-actions" .}}
{{end}}
<dl>
<dt>订单号 Order no.</dt><dd class="mono" id="order-no">{{.Order.OutTradeNo}}</dd>
<dt>金额 Amount</dt><dd>{{yuan .Order.Amount}}</dd>
<dt>下单时间 Ordered</dt><dd class="nowrap">{{beijing .Order.Created}}</dd>
{{if eq .Order.State "paid"}}
<dt>支付方式 Paid with</dt><dd>{{channel .Order.SubChannel}}</dd>
{{with .Order.ChannelTransactionID}}<dt>渠道流水号 Channel no.</dt><dd class="mono">{{.}}</dd>{{end}}
<dt>支付时间 Paid at</dt><dd class="nowrap" id="paid-at">{{beijing .Order.PaidAt}}</dd>
{{range .Order.Refunds}}<dt>退款 Refund</dt><dd class="refund">{{yuan .Amount}} · {{if .Succeeded}}已退款 refunded{{else if .Failed}}失败 failed{{else}}处理中 processing{{end}}</dd>{{end}}
{{end}}
<dt class="nowrap">时间为北京时间</dt><dd class="muted">Times are Beijing time (UTC+8).</dd>
</dl>
</section>
<p><a class="button secondary" href="/">继续购物 Back to the shop</a></p>
</main>
</body>
</html>
`)

// unpaidActions are the buttons under an unpaid order: pay again (the same
// order, so that it can never be paid twice) and, when the shop can ask
// BeeCloud, check the payment status.
const unpaidActions = `{{define "unpaid-actions"}}<div class="actions">
<a class="button" href="{{.PayPath}}" id="pay-again">再次支付 Pay again</a>
{{if .CanCheck}}<form method="post" action="{{.CheckPath}}"><button type="submit" class="secondary" id="check">查询支付状态 Check payment status</button></form>{{end}}
</div>{{end}}`

func init() {
	template.Must(resultTemplate.Parse(unpaidActions))
}

// messageTemplate is a page that says one thing: an unknown order, a
// refused request.
var messageTemplate = page("message", `{{template "head" .Title}}
</head>
<body>
<main>
<h1>{{.Title}}</h1>
<p class="card" id="message">{{.Text}}<br><span class="en">{{.English}}</span></p>
<p><a class="button" href="/">返回商店 Back to the shop</a></p>
</main>
</body>
</html>
`)

// message is the data of messageTemplate.
type message struct{ Title, Text, English string }

var adminTemplate = page("admin", `{{template "head" "订单管理 Orders"}}
</head>
<body>
<main class="wide">
<h1>订单管理 <span class="en">Orders</span></h1>
{{if .Sandbox}}<p class="muted">沙箱模式：退款不会真实发生 · Sandbox mode: no real money moves.</p>{{end}}
{{with .Done}}<p class="note" id="admin-done" role="status">{{.}}</p>{{end}}
{{with .Error}}<p class="alert" id="admin-error" role="alert">{{.}}</p>{{end}}
<section class="card">
{{if not .Orders}}<p class="muted">还没有订单 · No orders yet.</p>{{else}}
<table class="admin">
<tr><th>订单 Order</th><th>金额 Amount</th><th>状态 State</th><th>退款 Refund</th></tr>
{{range .Orders}}
<tr id="order-{{.OutTradeNo}}" data-state="{{.State}}" data-refunded="{{.Refunded}}">
<td><a class="mono" href="/result/{{.OutTradeNo}}">{{.OutTradeNo}}</a><br>{{.Title}}<br><span class="muted nowrap">{{beijing .Created}}</span></td>
<td>{{yuan .Amount}}</td>
<td>{{if eq .State "paid"}}已支付 <span class="en">Paid</span><br><span class="muted" id="paid-by-{{.OutTradeNo}}" data-paid-by="{{.PaidBy}}">{{if eq .PaidBy "reconciliation"}}主动查询确认 <span class="en">by query</span>{{else}}回调通知 <span class="en">by webhook</span>{{end}} · 处理 <span id="handled-{{.OutTradeNo}}">{{.Handled}}</span> 次{{with .FailedWebhooks}}（{{.}} 次故意失败）{{end}}</span>{{else}}未支付 <span class="en">Unpaid</span>{{end}}
{{range .Refunds}}<br><span class="refund" data-refund-no="{{.RefundNo}}">退款 {{yuan .Amount}}：{{if .Succeeded}}已退款 <span class="en">Refunded</span>{{else if .Failed}}失败 <span class="en">Failed</span>{{else if .Unknown}}<strong class="unknown">结果未知 <span class="en">Outcome unknown</span></strong> <span class="mono">{{.RefundNo}}</span>{{else}}处理中 <span class="en">Processing</span>{{end}}</span>
{{if and .Unknown $.CanRefund}}<form method="post" action="/admin/refund/check" class="actions check">
<input type="hidden" name="token" value="{{$.Token}}">
<input type="hidden" name="refund_no" value="{{.RefundNo}}">
<button type="submit" class="secondary">再次查询 <span class="en">Check again</span></button>
</form>{{end}}{{end}}</td>
<td>{{if and $.CanRefund .Refundable}}<form method="post" action="/admin/refund" class="actions">
<input type="hidden" name="token" value="{{$.Token}}">
<input type="hidden" name="out_trade_no" value="{{.OutTradeNo}}">
<label>¥ <input type="number" name="amount" min="0.01" step="0.01" max="{{yuanInput .Refundable}}" value="{{yuanInput .Refundable}}" aria-label="refund amount in yuan"></label>
<button type="submit" class="danger">退款 Refund</button>
</form>{{end}}</td>
</tr>
{{end}}
</table>
{{end}}
</section>
<p><a class="button secondary" href="/">返回商店 Back to the shop</a></p>
</main>
</body>
</html>
`)
