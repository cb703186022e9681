package wxshop

import "html/template"

const head = `<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="data:,">
<style>
body{font-family:-apple-system,"PingFang SC","Hiragino Sans GB","Microsoft YaHei","WenQuanYi Micro Hei",sans-serif;margin:0;background:#ededed;color:#222;line-height:1.5}
main{max-width:32rem;margin:0 auto;padding:1rem}
.en{color:#5f6368;font-weight:normal;font-size:.85em}
.card{background:#fff;border-radius:.6rem;padding:1rem;margin-bottom:.8rem}
.card h1{font-size:1.4rem;margin:0 0 .4rem}
.price{font-size:1.6rem;color:#222;margin:.4rem 0}
.muted{color:#5f6368;font-size:.85rem;word-break:break-all}
button,.button{display:block;width:100%;box-sizing:border-box;text-align:center;background:#067d3f;color:#fff;border:0;border-radius:.4rem;padding:.8rem;font-size:1.05rem;text-decoration:none;cursor:pointer}
button:active,.button:active{filter:brightness(.88);transform:translateY(1px)}
button:focus-visible,.button:focus-visible{outline:3px solid #0958d9;outline-offset:2px}
button[data-beecloud-state=loading]{cursor:progress;opacity:.8}
button[data-beecloud-state=loading]::after{content:"";display:inline-block;width:.9em;height:.9em;margin-left:.5em;vertical-align:-.15em;border:2px solid currentColor;border-right-color:transparent;border-radius:50%;animation:spin .8s linear infinite}
@keyframes spin{to{transform:rotate(360deg)}}
@media (prefers-reduced-motion:reduce){button[data-beecloud-state=loading]::after{animation:none}}
.beecloud-message{display:block;margin:.6rem 0;color:#b3261e;background:#fdecea;border-radius:.4rem;padding:.5rem .8rem}
.banner{background:#fff7e6;color:#613400;border-radius:.6rem;padding:.6rem 1rem;margin-bottom:.8rem;font-size:.9rem}
#message{color:#c7282b;min-height:1.2em}#message.ok{color:#067d3f}
.paid{color:#067d3f;font-size:1.3rem}.pending{color:#ad4e00;font-size:1.3rem}
.paid,.pending{display:flex;align-items:center;gap:.4rem}.icon{width:1.3em;height:1.3em;flex:none}
</style>
`

var indexTemplate = template.Must(template.New("index").Parse(head + `<title>{{.Product.Title}}</title>
</head>
<body>
<main>
{{if .Sandbox}}<p class="banner" id="sandbox-banner">沙箱模式：不会真实扣款 · Sandbox mode: no real money moves.</p>{{end}}
<section class="card">
<h1>{{.Product.Title}}</h1>
<p class="price">{{.Price}}</p>
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
{{if .Sandbox}}<p class="banner" id="sandbox-banner">沙箱模式：不会真实扣款 · Sandbox mode: no real money moves.</p>{{end}}
<p class="banner" id="open-in-wechat" hidden>请在微信中打开本页付款：微信支付只能在微信内完成。 · Open this page in WeChat to pay.</p>
<section class="card">
<h1>{{.Product.Title}}</h1>
<p class="price">{{.Price}}</p>
<p class="muted">订单号 Order no. {{.OutTradeNo}}</p>
</section>
<button type="button" id="pay">微信支付 <span>Pay with WeChat</span></button>
<p id="message" role="status"></p>
</main>
<script>
// WeChat Pay (JSAPI) works only inside WeChat: elsewhere, say where to
// open the page{{if .Sandbox}} (the sandbox pays anywhere){{end}}.
if (!/MicroMessenger/i.test(navigator.userAgent)) document.getElementById("open-in-wechat").hidden = false;
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
	// The buyer reads what happened and what to do; the detail goes to
	// the console.
	failed: function (res) {
		var cancelled = res && res.err_msg === "get_brand_wcpay_request:cancel";
		if (window.console) console.error("wxJsapiFail:", res);
		wxshop.show(cancelled ? "已取消支付，未扣款。可以再次点击付款。" : "支付未成功，未扣款。请稍后再试，或联系本店客服。");
	},
	dataError: function (msg) {
		if (window.console) console.error("dataError:", msg);
		wxshop.show("订单信息有误，无法付款。请刷新页面后重试。");
	},
	error: function (err) {
		if (window.console) console.error("BC.err:", err && err.ERROR ? err.ERROR : err);
		if (err && err.MESSAGE) return; // shown beside the button already
		wxshop.show("无法发起支付，未扣款。请刷新页面后重试。");
	}
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
{{with .WeChatSaid}}{{if not $.Order.Paid}}<p class="muted" id="wx-result" data-wx="{{.}}">微信已提示付款完成，本店正在确认收款，请稍候。 · WeChat says you paid; the shop is confirming it.</p>{{end}}{{end}}
</section>
<a class="button" href="/">再买一个 · Buy another</a>
</main>
</body>
</html>
`))
