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

  // answer reads the sandbox's JSON answer. An error status with an
  // {ERROR} body is the sandbox refusing the click, which the caller
  // reports; any other failure rejects.
  function answer(r) {
    return r.json().then(function (body) {
      if (!r.ok && !(body && body.ERROR)) throw new Error('HTTP ' + r.status);
      return body;
    }, function () {
      throw new Error('HTTP ' + r.status + ' with a body that is not JSON');
    });
  }

  function post(body) {
    return fetch(cfg.base + cfg.paths.click + '?appId=' + encodeURIComponent(cfg.appId), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body)
    }).then(answer);
  }

  function unreachable(event) {
    return function (e) {
      fail('beecloudtest: the click did not get through to the sandbox at ' + cfg.base + ': ' + e, event);
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

  // style links the sandbox's stylesheet, once per page, and calls then
  // once it has loaded, so that a sheet never shows unstyled.
  var styled = false, afterStyle = [];
  function style(then) {
    if (then) {
      if (styled) then();
      else afterStyle.push(then);
    }
    if (document.getElementById('beecloud-sandbox-style')) return;
    var link = el('link');
    link.id = 'beecloud-sandbox-style';
    link.rel = 'stylesheet';
    link.href = cfg.base + cfg.paths.css;
    link.onload = link.onerror = function () {
      styled = true;
      var fns = afterStyle;
      afterStyle = [];
      fns.forEach(function (f) { f(); });
    };
    (document.head || document.documentElement).appendChild(link);
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

  // dialog shows root, whose element sheet is a modal dialog, as the
  // WAI-ARIA dialog pattern has it: focus moves into the sheet and stays
  // there (Tab and Shift+Tab wrap), Escape calls onEscape, the page behind
  // does not scroll, and closing gives focus back to where it was. Focus
  // starts on the element first, if given. It returns the function that
  // closes the dialog.
  function dialog(root, sheet, onEscape, first) {
    var before = document.activeElement;
    var html = document.documentElement, overflow = html.style.overflow;
    sheet.setAttribute('role', 'dialog');
    sheet.setAttribute('aria-modal', 'true');
    sheet.tabIndex = -1;
    html.style.overflow = 'hidden';
    function focusable() {
      return Array.prototype.filter.call(
        sheet.querySelectorAll('button, [href], input, select, textarea, [tabindex]:not([tabindex="-1"])'),
        function (e) { return !e.disabled && e.offsetParent !== null; });
    }
    function keydown(e) {
      if (e.key === 'Escape') {
        e.preventDefault();
        onEscape();
        return;
      }
      if (e.key !== 'Tab') return;
      var f = focusable();
      if (!f.length) {
        e.preventDefault();
        sheet.focus();
        return;
      }
      var first = f[0], last = f[f.length - 1];
      if (e.shiftKey && (document.activeElement === first || !sheet.contains(document.activeElement))) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && (document.activeElement === last || !sheet.contains(document.activeElement))) {
        e.preventDefault();
        first.focus();
      }
    }
    function focusin(e) {
      if (!sheet.contains(e.target)) (focusable()[0] || sheet).focus();
    }
    document.addEventListener('keydown', keydown, true);
    document.addEventListener('focusin', focusin, true);
    var closed = false;
    // Hidden until the stylesheet is in, and then focused: a hidden
    // element cannot take focus.
    root.style.visibility = 'hidden';
    document.body.appendChild(root);
    style(function () {
      if (closed) return;
      root.style.visibility = '';
      (first || focusable()[0] || sheet).focus();
    });
    return function close(keepFocus) {
      if (closed) return;
      closed = true;
      document.removeEventListener('keydown', keydown, true);
      document.removeEventListener('focusin', focusin, true);
      html.style.overflow = overflow;
      if (root.parentNode) root.parentNode.removeChild(root);
      if (!keepFocus && before && before.focus && document.contains(before)) before.focus();
    };
  }

  var closeMenu = function () {};

  // menu shows the channel menu: a modal on a desktop, a bottom sheet on
  // a phone (sandbox.css decides by the viewport's width).
  function menu(r, choose) {
    closeMenu();
    var root = el('div', 'bcs-root bcs-backdrop');
    root.id = 'beecloud-sandbox-menu';
    var sheet = el('div', 'bcs-sheet');
    sheet.setAttribute('aria-labelledby', 'beecloud-sandbox-menu-title');

    var head = sheetHead('选择支付方式');
    head.firstChild.id = 'beecloud-sandbox-menu-title';
    var close = el('button', 'bcs-close', '×');
    close.type = 'button';
    close.setAttribute('data-action', 'close');
    close.setAttribute('aria-label', '关闭');
    close.onclick = function () { closeMenu(); };
    sheet.appendChild(head);
    sheet.appendChild(orderBox(r, 'bcs-order'));

    var list = el('ul', 'bcs-list');
    (r.channels || []).forEach(function (c) {
      var item = el('li');
      var b = el('button', 'bcs-channel');
      b.type = 'button';
      b.setAttribute('data-channel', c.code);
      b.setAttribute('data-sub', c.sub);
      var icon = el('span', 'bcs-icon', c.glyph);
      icon.style.background = c.color;
      icon.setAttribute('aria-hidden', 'true');
      b.appendChild(icon);
      var label = el('span', 'bcs-label');
      label.appendChild(el('span', 'bcs-name', c.name));
      label.appendChild(el('span', 'bcs-sub', c.kind));
      b.appendChild(label);
      var chevron = el('span', 'bcs-chevron', '›');
      chevron.setAttribute('aria-hidden', 'true');
      b.appendChild(chevron);
      b.onclick = function () { closeMenu(true); choose(c.code); };
      item.appendChild(b);
      list.appendChild(item);
    });
    if (!r.channels || !r.channels.length) {
      list.appendChild(el('li', 'bcs-empty', '这个应用没有可用的支付渠道'));
    }
    sheet.appendChild(list);
    sheet.appendChild(el('div', 'bcs-foot', 'BeeCloud 本地沙箱 · 不会产生真实扣款'));
    head.appendChild(close);
    root.appendChild(sheet);
    root.onclick = function (e) { if (e.target === root) closeMenu(); };
    var close_ = dialog(root, sheet, function () { closeMenu(); }, list.querySelector('button'));
    closeMenu = function (keepFocus) {
      closeMenu = function () {};
      close_(keepFocus);
    };
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
    var root = el('div', 'bcs-root bcs-backdrop bcs-wx');
    root.id = 'beecloud-sandbox-wx';
    var sheet = el('div', 'bcs-sheet');
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
        fetch(cfg.base + cfg.paths.pay + r.bill + '/' + a[0], {
          method: 'POST', headers: { Accept: 'application/json' }
        }).then(answer).then(function (st) {
          close();
          var res = { err_msg: 'get_brand_wcpay_request:' + a[2] };
          if (st.ERROR) res = { err_msg: 'get_brand_wcpay_request:fail', err_desc: st.ERROR };
          else if (a[2] === 'fail') res.err_desc = 'beecloudtest: the buyer pressed 支付失败';
          delete pending[r.bill];
          cb(res);
        }, function (e) {
          close();
          cb({ err_msg: 'get_brand_wcpay_request:fail', err_desc: 'beecloudtest: cannot reach the sandbox at ' + cfg.base + ': ' + e });
        });
      };
      actions.appendChild(b);
    });
    sheet.appendChild(actions);
    sheet.appendChild(el('div', 'bcs-foot', 'BeeCloud 本地沙箱 · 模拟微信 JSAPI 支付'));
    root.appendChild(sheet);
    // Escape is the buyer closing WeChat's sheet: a cancel.
    var close = dialog(root, sheet, function () {
      var cancel = document.getElementById('beecloud-sandbox-wx-cancel');
      if (cancel && !cancel.disabled) cancel.click();
    });
  }

  // Fetch the stylesheet now, so that it is there by the first click.
  if (document.head) style();
  document.dispatchEvent(new Event('beecloud:onready'));
})(/*CONFIG*/null);
