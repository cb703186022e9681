// BeeCloud sandbox button script (beecloudtest). It stands in for
// https://jspay.beecloud.cn/1/pay/jsbutton/returnscripts: it defines
// window.BC = {click(data, event), err(e)} and then fires the DOM event
// beecloud:onready. The sandbox fills in its configuration below.
(function (cfg) {
  'use strict';

  var PREFIX = '[beecloud sandbox]';
  var debug = false;
  var pending = {}; // fake WeixinJSBridge: bill id -> click response

  var BC = {
    // err receives {"ERROR": "…"} for every BC.click that fails; pages
    // replace it, as BeeCloud's documentation shows.
    err: function (e) { console.log(e); },
    click: function (data, event) { click(data, event || {}); }
  };
  window.BC = BC;

  function log() {
    if (!debug) return;
    var args = Array.prototype.slice.call(arguments);
    console.log.apply(console, [PREFIX].concat(args));
    panelLine(args.map(function (a) {
      return typeof a === 'string' ? a : JSON.stringify(a);
    }).join(' '));
  }

  // Diagnostics go to an on-page panel (and the console) rather than to
  // alert(), so that a headless browser is never stuck on a dialog.
  function panelLine(text) {
    var panel = document.getElementById('beecloud-sandbox-debug');
    if (!panel) {
      style();
      panel = el('div', 'bcs-root bcs-debug');
      panel.id = 'beecloud-sandbox-debug';
      panel.appendChild(el('div', 'bcs-debug-head', 'BeeCloud sandbox · debug'));
      document.body.appendChild(panel);
    }
    panel.appendChild(el('div', 'bcs-debug-line', text));
  }

  function call(f, arg) {
    if (typeof f !== 'function') return;
    try { f(arg); } catch (e) { console.error(PREFIX, e); }
  }

  function fail(msg, event) {
    var e = { ERROR: msg };
    log('error:', msg);
    call(event.dataError, e);
    call(BC.err, e);
  }

  function isMobile() {
    return (window.matchMedia && window.matchMedia('(max-width: 640px)').matches) ||
      /Android|iPhone|iPad|iPod|Mobile|MicroMessenger/i.test(navigator.userAgent);
  }

  function post(body) {
    return fetch(cfg.base + '/2/rest/jsbutton/click?appId=' + encodeURIComponent(cfg.appId), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body)
    }).then(function (r) { return r.json(); });
  }

  function unreachable(event) {
    return function (e) {
      fail('beecloudtest: cannot reach the sandbox at ' + cfg.base + ': ' + e, event);
    };
  }

  function click(data, event) {
    debug = !!(data && data.debug === true);
    if (!cfg.known) return fail(cfg.error, event);
    if (!data || typeof data !== 'object') {
      return fail('beecloudtest: BC.click needs its data, an object', event);
    }
    log('BC.click data:', data);
    var mobile = isMobile();
    var body;
    try {
      body = { data: data, mobile: mobile, page: location.href };
      JSON.stringify(body);
    } catch (e) {
      return fail('beecloudtest: BC.click data cannot be sent as JSON: ' + e, event);
    }
    post(body).then(function (r) {
      if (r.ERROR) return fail(r.ERROR, event);
      log('data checked: sign and fields OK' + (mobile ? ' (mobile)' : ' (desktop)'));
      if (r.ignored) log('keys BeeCloud ignores:', r.ignored.join(', '));
      if (data.instant_channel) return pay(data, event, data.instant_channel, mobile);
      menu(r, function (code) { pay(data, event, code, mobile); });
    }, unreachable(event));
  }

  function pay(data, event, code, mobile) {
    log('channel:', code);
    post({ data: data, channel: code, mobile: mobile, page: location.href }).then(function (r) {
      if (r.ERROR) return fail(r.ERROR, event);
      log('bill', r.bill, r.jsapi ? 'paid through WeixinJSBridge' : 'pay page ' + r.url);
      if (r.jsapi) return jsapi(r, event);
      location.assign(r.url);
    }, unreachable(event));
  }

  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (text != null) e.textContent = text;
    return e;
  }

  function style() {
    if (document.getElementById('beecloud-sandbox-style')) return;
    var s = el('style');
    s.id = 'beecloud-sandbox-style';
    s.textContent = cfg.css;
    document.head.appendChild(s);
  }

  function sheetHead(title) {
    var head = el('div', 'bcs-head');
    head.appendChild(el('span', 'bcs-head-title', title));
    return head;
  }

  // orderBox shows the order's title and amount, as the click answer r
  // carries them; textContent keeps the merchant's title plain text.
  function orderBox(r, className) {
    var order = el('div', className);
    order.appendChild(el('div', 'bcs-order-title', r.title));
    var amount = el('div', 'bcs-order-amount');
    amount.appendChild(el('span', 'bcs-yen', '¥'));
    amount.appendChild(el('span', 'bcs-order-yuan', r.yuan));
    order.appendChild(amount);
    return order;
  }

  function closeMenu() {
    var old = document.getElementById('beecloud-sandbox-menu');
    if (old) old.parentNode.removeChild(old);
  }

  // menu shows the channel menu: a modal on a desktop, a bottom sheet on
  // a phone (sandbox.css decides by the viewport's width).
  function menu(r, choose) {
    style();
    closeMenu();
    var root = el('div', 'bcs-root bcs-backdrop');
    root.id = 'beecloud-sandbox-menu';
    var sheet = el('div', 'bcs-sheet');
    sheet.setAttribute('role', 'dialog');
    sheet.setAttribute('aria-modal', 'true');
    sheet.setAttribute('aria-label', '选择支付方式');

    var head = sheetHead('选择支付方式');
    var close = el('button', 'bcs-close', '×');
    close.type = 'button';
    close.setAttribute('data-action', 'close');
    close.setAttribute('aria-label', '关闭');
    close.onclick = closeMenu;
    head.appendChild(close);
    sheet.appendChild(head);
    sheet.appendChild(orderBox(r, 'bcs-order'));

    var list = el('ul', 'bcs-list');
    (r.channels || []).forEach(function (c) {
      var item = el('li');
      var b = el('button', 'bcs-channel');
      b.type = 'button';
      b.setAttribute('data-channel', c.code);
      var icon = el('span', 'bcs-icon', c.glyph);
      icon.style.background = c.color;
      b.appendChild(icon);
      var label = el('span', 'bcs-label');
      label.appendChild(el('span', 'bcs-name', c.name));
      label.appendChild(el('span', 'bcs-sub', (c.qr ? '扫码支付 · ' : '') + c.sub));
      b.appendChild(label);
      b.appendChild(el('span', 'bcs-chevron', '›'));
      b.onclick = function () { closeMenu(); choose(c.code); };
      item.appendChild(b);
      list.appendChild(item);
    });
    if (!r.channels || !r.channels.length) {
      list.appendChild(el('li', 'bcs-empty', '这个应用没有可用的支付渠道'));
    }
    sheet.appendChild(list);
    sheet.appendChild(el('div', 'bcs-foot', 'BeeCloud 本地沙箱 · 不会产生真实扣款'));
    root.appendChild(sheet);
    root.onclick = function (e) { if (e.target === root) closeMenu(); };
    document.body.appendChild(root);
  }

  // jsapi pays a WeChat JSAPI bill the way BeeCloud's script does inside
  // WeChat: through WeixinJSBridge.invoke('getBrandWCPayRequest', …), then
  // the page's wxJsapiSuccess or wxJsapiFail, then wxJsapiFinish. Outside
  // WeChat the sandbox defines a fake bridge that asks the buyer in an
  // overlay.
  function jsapi(r, event) {
    pending[r.bill] = r;
    var bridge = window.WeixinJSBridge || fakeBridge();
    bridge.invoke('getBrandWCPayRequest', r.jsapi, function (res) {
      log('getBrandWCPayRequest:', res);
      if (res && res.err_msg === 'get_brand_wcpay_request:ok') {
        call(event.wxJsapiSuccess, res);
      } else {
        call(event.wxJsapiFail, res);
      }
      call(event.wxJsapiFinish, res);
    });
  }

  function fakeBridge() {
    window.WeixinJSBridge = {
      sandbox: true,
      invoke: function (name, params, cb) {
        cb = cb || function () {};
        var m = /^prepay_id=sandbox_([0-9a-f]+)$/.exec((params && params.package) || '');
        if (name !== 'getBrandWCPayRequest' || !m || !pending[m[1]]) {
          return cb({ err_msg: name + ':fail', err_desc: 'beecloudtest: unknown request' });
        }
        wxSheet(pending[m[1]], cb);
      }
    };
    return window.WeixinJSBridge;
  }

  function wxSheet(r, cb) {
    style();
    var root = el('div', 'bcs-root bcs-backdrop bcs-wx');
    root.id = 'beecloud-sandbox-wx';
    var sheet = el('div', 'bcs-sheet');
    sheet.setAttribute('role', 'dialog');
    sheet.setAttribute('aria-label', '微信支付');
    sheet.appendChild(sheetHead('微信支付'));
    sheet.appendChild(orderBox(r, 'bcs-order bcs-center'));
    var actions = el('div', 'bcs-actions');
    [['pay', '支付成功', 'ok'], ['fail', '支付失败', 'fail'], ['cancel', '取消', 'cancel']].forEach(function (a) {
      var b = el('button', 'bcs-btn bcs-btn-' + a[0], a[1]);
      b.type = 'button';
      b.id = 'beecloud-sandbox-wx-' + a[0];
      b.setAttribute('data-action', a[0]);
      b.onclick = function () {
        // One answer per sheet, as in WeChat: a second press does nothing.
        var btns = actions.querySelectorAll('button');
        for (var i = 0; i < btns.length; i++) btns[i].disabled = true;
        fetch(cfg.base + '/sandbox/pay/' + r.bill + '/' + a[0], {
          method: 'POST', headers: { Accept: 'application/json' }
        }).then(function (resp) { return resp.json(); }).then(function (st) {
          if (root.parentNode) root.parentNode.removeChild(root);
          var res = { err_msg: 'get_brand_wcpay_request:' + a[2] };
          if (st.ERROR) res = { err_msg: 'get_brand_wcpay_request:fail', err_desc: st.ERROR };
          else if (a[2] === 'fail') res.err_desc = 'beecloudtest: the buyer pressed 支付失败';
          delete pending[r.bill];
          cb(res);
        }, function (e) {
          if (root.parentNode) root.parentNode.removeChild(root);
          cb({ err_msg: 'get_brand_wcpay_request:fail', err_desc: String(e) });
        });
      };
      actions.appendChild(b);
    });
    sheet.appendChild(actions);
    sheet.appendChild(el('div', 'bcs-foot', 'BeeCloud 本地沙箱 · 模拟微信 JSAPI 支付'));
    root.appendChild(sheet);
    document.body.appendChild(root);
  }

  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape') closeMenu();
  });

  var ready;
  try {
    ready = new Event('beecloud:onready');
  } catch (e) {
    ready = document.createEvent('Event');
    ready.initEvent('beecloud:onready', true, true);
  }
  document.dispatchEvent(ready);
})(/*CONFIG*/null);
