package shop

import "html/template"

// pageHead is shared by the pages: mobile-friendly (viewport meta, as
// BeeCloud asks of H5 pages), no external assets.
const pageHead = `{{define "head"}}<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1.0,minimum-scale=1.0,maximum-scale=1.0,user-scalable=no">
<title>{{.}}</title>
<style>
body{font-family:-apple-system,"PingFang SC","Hiragino Sans GB","Microsoft YaHei",sans-serif;margin:0;background:#f5f6f8;color:#222}
main{max-width:36rem;margin:0 auto;padding:1rem}
h1{font-size:1.4rem;margin:.5rem 0 1rem}
.en{color:#777;font-weight:normal;font-size:.85em}
.card{background:#fff;border-radius:.6rem;padding:1rem;margin-bottom:.8rem;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.card h2{font-size:1.1rem;margin:0 0 .3rem}
.price{font-size:1.2rem;color:#e4393c;margin:.4rem 0}
.muted{color:#777;font-size:.9rem}
button,.button{display:inline-block;background:#1aad19;color:#fff;border:0;border-radius:.4rem;padding:.6rem 1.2rem;font-size:1rem;text-decoration:none;cursor:pointer}
.state{font-size:1.3rem;margin:.6rem 0}
.state.paid{color:#1aad19}.state.pending{color:#e6a23c}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem .8rem;margin:0}dt{color:#777}dd{margin:0;word-break:break-all}
footer{color:#999;font-size:.8rem;text-align:center;margin:1.5rem 0}
</style>
{{end}}`

var indexTemplate = template.Must(template.New("index").Parse(pageHead + `{{template "head" "秒支付 Demo Shop"}}
{{.ScriptTag}}
</head>
<body>
<main>
<h1>秒支付 示例商店 <span class="en">BeeCloud Demo Shop</span></h1>
{{if .Sandbox}}<p class="muted">沙箱模式：不会真实扣款 · Sandbox mode: no real money moves.</p>{{end}}
{{range .Items}}
<section class="card" id="product-{{.Product.ID}}">
<h2>{{.Product.Title}}</h2>
<p class="muted">{{.Product.Description}}</p>
<p class="price">{{.Product.Price}}</p>
{{.Button}}
<p class="muted">订单号 Order no. {{.OutTradeNo}} · <a href="{{.ResultPath}}">查看订单 View order</a></p>
</section>
{{end}}
<footer>付款结果以服务器收到的 webhook 为准 · Orders are paid when the webhook says so.</footer>
</main>
</body>
</html>
`))

var resultTemplate = template.Must(template.New("result").Parse(pageHead + `{{template "head" "订单状态 Order status"}}
{{if eq .Order.State "pending"}}<meta http-equiv="refresh" content="2">{{end}}
</head>
<body>
<main>
<h1>订单状态 <span class="en">Order status</span></h1>
<section class="card">
<h2>{{.Order.Title}}</h2>
{{if eq .Order.State "paid"}}
<p class="state paid" id="state" data-state="paid">✓ 已支付 <span class="en">Paid</span></p>
{{else}}
<p class="state pending" id="state" data-state="pending">等待支付结果… <span class="en">Waiting for payment…</span></p>
<p class="muted">本页每 2 秒刷新，直到服务器收到支付通知（webhook）。<br>This page refreshes every 2 seconds until the server receives the payment webhook.</p>
{{end}}
<dl>
<dt>订单号 Order no.</dt><dd>{{.Order.OutTradeNo}}</dd>
<dt>金额 Amount</dt><dd>{{.Price}}</dd>
{{if eq .Order.State "paid"}}
<dt>渠道 Channel</dt><dd>{{.Order.SubChannel}}</dd>
{{with .Order.ChannelTransactionID}}<dt>渠道流水号 Channel no.</dt><dd>{{.}}</dd>{{end}}
<dt>支付时间 Paid at</dt><dd>{{.Order.PaidAt.Format "2006-01-02 15:04:05 MST"}}</dd>
{{end}}
</dl>
</section>
<p><a class="button" href="/">继续购物 Back to the shop</a></p>
</main>
</body>
</html>
`))

var notFoundTemplate = template.Must(template.New("notfound").Parse(pageHead + `{{template "head" "订单不存在 Order not found"}}
</head>
<body>
<main>
<h1>订单不存在 <span class="en">Order not found</span></h1>
<p class="card">没有订单号为 {{.}} 的订单。<br>There is no order {{.}}.</p>
<p><a class="button" href="/">返回商店 Back to the shop</a></p>
</main>
</body>
</html>
`))
