package wxshop

import "html/template"

const head = `<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1.0,minimum-scale=1.0,maximum-scale=1.0,user-scalable=no">
<link rel="icon" href="data:,">
<style>
body{font-family:-apple-system,"PingFang SC","Hiragino Sans GB","Microsoft YaHei",sans-serif;margin:0;background:#ededed;color:#222}
main{max-width:32rem;margin:0 auto;padding:1rem}
.en{color:#777;font-weight:normal;font-size:.85em}
.card{background:#fff;border-radius:.6rem;padding:1rem;margin-bottom:.8rem}
.card h1{font-size:1.4rem;margin:0 0 .4rem}
.price{font-size:1.6rem;color:#222;margin:.4rem 0}
.muted{color:#777;font-size:.85rem;word-break:break-all}
button,.button{display:block;width:100%;box-sizing:border-box;text-align:center;background:#07c160;color:#fff;border:0;border-radius:.4rem;padding:.8rem;font-size:1.05rem;text-decoration:none}
#message{color:#fa5151;min-height:1.2em}#message.ok{color:#07c160}
.paid{color:#07c160;font-size:1.3rem}.pending{color:#e6a23c;font-size:1.3rem}
.paid,.pending{display:flex;align-items:center;gap:.4rem}.icon{width:1.3em;height:1.3em;flex:none}
</style>
`

var indexTemplate = template.Must(template.New("index").Parse(head + `<title>{{.Product.Title}}</title>
</head>
<body>
<main>
<section class="card">
<h1>{{.Product.Title}}</h1>
<p class="price">{{.Price}}</p>
<p class="muted">openid: {{.OpenID}}</p>
</section>
<form method="post" action="{{.OrdersPath}}">
<button type="submit" id="buy">购买 <span>Buy</span></button>
</form>
</main>
</body>
</html>
`))

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
	show: function (text, ok) {
		var m = document.getElementById("message");
		m.textContent = text;
		m.className = ok ? "ok" : "";
	},
	// wxJsapiSuccess: WeChat says the buyer paid. Only the webhook proves
	// it, so go to the result page, which shows what the webhook set, and
	// what WeChat said, as WeChat said it.
	paid: function (res) {
		wxshop.show("微信支付完成，正在确认订单… · WeChat says paid; confirming the order…", true);
		window.location.href = wxshop.resultPath + "?wx=" + encodeURIComponent((res && res.err_msg) || "");
	},
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
</head>
<body>
<main>
<section class="card">
<h1>{{.Order.Title}} <span class="en">{{.Price}}</span></h1>
{{if .Order.Paid}}
<p class="paid" id="state" data-state="paid" data-channel="{{.Order.Channel}}"><svg class="icon" viewBox="0 0 24 24" aria-hidden="true"><circle cx="12" cy="12" r="11" fill="currentColor"/><path d="M6.5 12.5l3.5 3.5 7.5-8" fill="none" stroke="#fff" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round"/></svg><span>已支付 <span class="en">Paid</span> · 微信支付</span></p>
{{else}}
<p class="pending" id="state" data-state="pending">等待支付结果… <span class="en">Waiting for the payment webhook…</span></p>
<p class="muted" id="late" hidden>暂未收到付款通知：如果您已付款，请稍后刷新本页；如果没有付款，可以再买一次。<br>No payment notice yet: if you paid, reload this page in a while; if not, nothing was charged.</p>
<script>
// Checks for the webhook for a minute, then stops and says so.
(function () {
	var deadline = Date.now() + 60000;
	function poll() {
		fetch({{.StatusPath}}, {cache: "no-store"})
			.then(function (r) { return r.json(); })
			.then(function (s) { if (s.paid) { location.reload(); } else { next(); } })
			.catch(next);
	}
	function next() {
		if (Date.now() < deadline) { setTimeout(poll, 2000); return; }
		document.getElementById("late").hidden = false;
		document.getElementById("state").dataset.waiting = "false";
	}
	setTimeout(poll, 2000);
})();
</script>
{{end}}
<p class="muted">订单号 Order no. {{.Order.OutTradeNo}}</p>
{{with .WeChatSaid}}<p class="muted" id="wx-result">微信返回 WeChat said: {{.}}{{if not $.Order.Paid}} · 以服务器收到的通知为准 (the webhook decides){{end}}</p>{{end}}
</section>
<a class="button" href="/">再买一个 · Buy another</a>
</main>
</body>
</html>
`))
