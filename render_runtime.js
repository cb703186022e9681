(function () {
	"use strict";
	// The click runtime of the package beecloud: one copy per page, in the
	// inline script that Config.ScriptTag puts just before BeeCloud's
	// script tag. It is constant text: every value it works with is read
	// at run time from data attributes and JSON data blocks, with
	// JSON.parse, so nothing a merchant or a buyer typed ever becomes code.
	if (window.__beecloud) return;
	var rt = window.__beecloud = {failed: null, loaded: false, waiting: []};

	// BeeCloud's tag is the script element with id spay-script after this one; its
	// error and load events do not bubble, so a capturing listener on
	// window hears them. Being installed before the tag is parsed, it
	// hears them whenever they happen.
	function tag() {
		var el = document.getElementById("spay-script");
		return el && el.tagName === "SCRIPT" ? el : null;
	}
	function ours(el) {
		return !!el && el.tagName === "SCRIPT" && el.id === "spay-script";
	}
	window.addEventListener("error", function (e) {
		if (!ours(e.target) || rt.failed) return;
		rt.failed = {
			detail: "beecloud: BeeCloud's button script failed to load from " + e.target.src +
				": it was blocked (an ad blocker or a content security policy), not found, or the network failed",
			buyer: "支付组件加载失败，可能被浏览器的广告拦截插件或网络拦截。请关闭拦截插件、检查网络后刷新页面重试。"
		};
		flush(rt.failed);
	}, true);
	// An element's load event stops at the document: it never reaches window.
	document.addEventListener("load", function (e) {
		if (ours(e.target)) rt.loaded = true;
	}, true);
	document.addEventListener("beecloud:onready", function () {
		flush(null);
	}, false);

	function flush(failure) {
		var w = rt.waiting;
		rt.waiting = [];
		for (var i = 0; i < w.length; i++) w[i](failure);
	}

	function wait() {
		var t = tag(), ms = t ? parseInt(t.getAttribute("data-beecloud-wait"), 10) : NaN;
		return ms > 0 ? ms : 5000;
	}

	function timedOut(ms) {
		var t = tag(), s = ms / 1000 + " s";
		if (!t) {
			return {
				detail: "beecloud: no script element with id spay-script on the page loads BeeCloud's button script: render Config.ScriptTag once per page",
				buyer: "支付功能暂时不可用。请刷新页面重试；如仍无法支付，请联系商家。"
			};
		}
		if (rt.loaded) {
			return {
				detail: "beecloud: BeeCloud's button script from " + t.src + " loaded but was not ready " + s +
					" after the click: it defined no BC and fired no beecloud:onready",
				buyer: "支付服务暂时不可用。请稍后刷新页面重试；如仍无法支付，请联系商家。"
			};
		}
		return {
			detail: "beecloud: BeeCloud's button script from " + t.src + " has not loaded " + s +
				" after the click: the network is slow or BeeCloud's server does not answer",
			buyer: "支付组件加载超时，网络可能较慢。请稍等片刻再点一次，或刷新页面重试。"
		};
	}

	function fn(path) {
		var v = window, parts = path.split(".");
		for (var i = 0; i < parts.length && v != null; i++) v = v[parts[i]];
		if (typeof v === "function") return v;
		if (window.console) console.error("beecloud: " + path + " is not a function");
	}

	// The buyer's message stands right after the element, in a live
	// region, so that a screen reader reads it out.
	function message(el, text) {
		var m = el.nextElementSibling;
		if (!m || m.getAttribute("data-beecloud-message") === null) {
			if (!text) return;
			m = document.createElement("span");
			m.className = "beecloud-message";
			m.setAttribute("data-beecloud-message", "");
			m.setAttribute("role", "alert");
			el.parentNode.insertBefore(m, el.nextSibling);
		}
		if (text) m.textContent = text;
		else m.parentNode.removeChild(m);
	}

	function state(el, s) {
		if (s) el.setAttribute("data-beecloud-state", s);
		else el.removeAttribute("data-beecloud-state");
		if (s === "loading") el.setAttribute("aria-busy", "true");
		else el.removeAttribute("aria-busy");
	}

	function pay(el, d) {
		var onErr, ev, k, f;
		state(el, "");
		message(el, "");
		if (d.err && (onErr = fn(d.err))) BC.err = onErr;
		if (!d.events) {
			BC.click(d.params);
			return;
		}
		ev = {};
		for (k in d.events) if (Object.prototype.hasOwnProperty.call(d.events, k) && (f = fn(d.events[k]))) ev[k] = f;
		BC.click(d.params, ev);
	}

	function fail(el, d, failure) {
		var onErr = d.err && fn(d.err);
		state(el, "error");
		message(el, failure.buyer);
		if (window.console) console.error(failure.detail);
		if (onErr) onErr({ERROR: failure.detail, MESSAGE: failure.buyer});
	}

	// A click before BC exists waits for beecloud:onready, for the tag's
	// error event, or for the timeout, whichever comes first, and settles
	// once: each click calls BC.click at most once.
	function click(el, d) {
		if (typeof BC !== "undefined") {
			pay(el, d);
			return;
		}
		if (rt.failed) {
			fail(el, d, rt.failed);
			return;
		}
		var done = false, ms = wait(), timer;
		function settle(failure) {
			if (done) return;
			done = true;
			clearTimeout(timer);
			for (var i = 0; i < rt.waiting.length; i++) if (rt.waiting[i] === settle) rt.waiting.splice(i, 1);
			if (failure) fail(el, d, failure);
			else pay(el, d);
		}
		rt.waiting.push(settle);
		state(el, "loading");
		message(el, "");
		timer = setTimeout(function () {
			settle(typeof BC !== "undefined" ? null : timedOut(ms));
		}, ms);
	}

	// data returns the click settings of el, from its data-beecloud
	// attribute (Config.Button) or from the data block that
	// Config.ClickScript renders for its id; null if it has none.
	function data(el) {
		var raw = el.getAttribute("data-beecloud"), blocks, i;
		if (raw === null && el.id) {
			blocks = document.querySelectorAll("script[data-beecloud-for]");
			for (i = 0; i < blocks.length; i++) {
				if (blocks[i].getAttribute("data-beecloud-for") === el.id) {
					raw = blocks[i].textContent;
					break;
				}
			}
		}
		if (raw === null) return null;
		try {
			return JSON.parse(raw);
		} catch (e) {
			if (window.console) console.error("beecloud: the click settings of #" + el.id + " are not JSON: " + e.message);
			return null;
		}
	}

	document.addEventListener("click", function (e) {
		if (e.defaultPrevented) return;
		for (var el = e.target; el && el.nodeType === 1; el = el.parentNode) {
			var d = data(el);
			if (d) {
				click(el, d);
				return;
			}
		}
	}, false);

	// The default look of the states, at zero specificity (:where) so that
	// any rule of the page wins. A constructed style sheet is not inline
	// style, so a content security policy's style-src does not apply.
	try {
		var sheet = new CSSStyleSheet();
		sheet.replaceSync(
			":where(.beecloud-button){cursor:pointer}" +
			":where(.beecloud-button):active{transform:translateY(1px);filter:brightness(.92)}" +
			":where([data-beecloud-state=loading]){cursor:progress;opacity:.8}" +
			":where(.beecloud-button[data-beecloud-state=loading])::after{content:\"\";display:inline-block;width:.9em;height:.9em;" +
			"margin-left:.5em;vertical-align:-.15em;border:2px solid currentColor;border-right-color:transparent;border-radius:50%;" +
			"animation:beecloud-spin .8s linear infinite}" +
			"@keyframes beecloud-spin{to{transform:rotate(360deg)}}" +
			"@media (prefers-reduced-motion:reduce){:where(.beecloud-button[data-beecloud-state=loading])::after{animation:none}}" +
			":where(.beecloud-message){display:block;margin:.5em 0;color:#b3261e;font-size:.9375em;line-height:1.5}");
		document.adoptedStyleSheets = document.adoptedStyleSheets.concat([sheet]);
	} catch (e) {
		// An older browser: the states keep their attributes, unstyled.
	}
})();
