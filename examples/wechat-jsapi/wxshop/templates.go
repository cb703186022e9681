package wxshop

import "html/template"

const head = `<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1.0,minimum-scale=1.0,maximum-scale=1.0,user-scalable=no">
<style>
body{font-family:-apple-system,"PingFang SC","Hiragino Sans GB","Microsoft YaHei",sans-serif;margin:0;background:#ededed;color:#222}
main{max-width:32rem;margin:0 auto;padding:1rem}
.en{color:#777;font-weight:normal;font-size:.85em}
.card{background:#fff;border-radius:.6rem;padding:1rem;margin-bottom:.8rem}
.price{font-size:1.6rem;color:#222;margin:.4rem 0}
.muted{color:#777;font-size:.85rem;word-break:break-all}
button,.button{display:block;width:100%;box-sizing:border-box;text-align:center;background:#07c160;color:#fff;border:0;border-radius:.4rem;padding:.8rem;font-size:1.05rem;text-decoration:none}
#message{color:#fa5151;min-height:1.2em}
.paid{color:#07c160;font-size:1.3rem}.pending{color:#e6a23c;font-size:1.3rem}
</style>
`

var payTemplate = template.Must(template.New("pay").Parse(head + `<title>微信支付 · WeChat Pay</title>
{{.ScriptTag}}
</head>
<body>
<main>
<section class="card">
<h1>{{.Product.Title}}</h1>
<p class="price">{{.Price}}</p>
<p class="muted">openid: {{.OpenID}}<br>订单号 Order no. {{.OutTradeNo}}</p>
</section>
<button type="button" id="pay">微信支付 <span>Pay with WeChat</span></button>
<p id="message" role="status"></p>
</main>
<script>
var wxshop = {
	resultPath: {{.ResultPath}},
	show: function (text) { document.getElementById("message").textContent = text; },
	// wxJsapiSuccess: WeChat says the buyer paid. Only the webhook proves
	// it, so go to the result page, which shows what the webhook set.
	paid: function (res) { window.location.href = wxshop.resultPath; },
	failed: function (res) {
		var cancelled = res && res.err_msg === "get_brand_wcpay_request:cancel";
		wxshop.show(cancelled ? "已取消支付 · Payment cancelled" : "支付失败 · Payment failed: " + (res && res.err_msg));
	},
	dataError: function (msg) { wxshop.show("订单数据有误 · Bad order data: " + msg); },
	error: function (err) { wxshop.show("支付出错 · Payment error: " + (err && err.ERROR)); }
};
</script>
{{.ClickScript}}
</body>
</html>
`))

var resultTemplate = template.Must(template.New("result").Parse(head + `<title>订单状态 · Order status</title>
{{if not .Order.Paid}}<meta http-equiv="refresh" content="2">{{end}}
</head>
<body>
<main>
<section class="card">
<h1>{{.Order.Title}} <span class="en">{{.Price}}</span></h1>
{{if .Order.Paid}}
<p class="paid" id="state" data-state="paid">✓ 已支付 <span class="en">Paid</span> · {{.Order.Channel}}</p>
{{else}}
<p class="pending" id="state" data-state="pending">等待支付结果… <span class="en">Waiting for the payment webhook…</span></p>
{{end}}
<p class="muted">订单号 Order no. {{.Order.OutTradeNo}}</p>
</section>
<a class="button" href="/">再买一个 · Buy another</a>
</main>
</body>
</html>
`))
