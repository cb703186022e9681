package beecloudtest

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/paybutton/beecloud"
)

// refundPagePath is where the url of an Alipay refund leads: on BeeCloud,
// Alipay's page where the merchant confirms the refund with its payment
// password; in the sandbox, a page saying where the refund stands.
const refundPagePath = "/sandbox/refund/"

// apiPrefix is where BeeCloud's API lives (/2/rest/…, /2/auth, /2/sms…):
// every path under it is answered with JSON, even one the sandbox does not
// serve.
const apiPrefix = "/2/"

// apiMethods are the methods answered under apiPrefix for a path the
// sandbox does not serve. Each has a pattern of its own: a pattern for
// every method would clash with the pages' "GET /".
var apiMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions}

// routeRESTCompat adds what BeeCloud's own clients rely on besides the
// calls: the refund confirmation page and JSON answers for unknown paths.
func (s *Sandbox) routeRESTCompat(mux *http.ServeMux) {
	mux.HandleFunc("GET "+refundPagePath+"{id}", s.serveRefundPage)
	unknown := restUnknown(mux)
	for _, m := range apiMethods {
		mux.HandleFunc(m+" "+apiPrefix, unknown)
	}
}

// restUnknown answers a REST call the sandbox does not serve as BeeCloud
// answers every call, with JSON and a result_code, so that a client that
// parses every answer as JSON does not choke on an HTML page: 405 when the
// path is served for other methods, 404 otherwise.
func restUnknown(mux *http.ServeMux) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var allowed []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); !strings.HasSuffix(pattern, " "+apiPrefix) && pattern != "GET /" {
				allowed = append(allowed, m)
			}
		}
		status, detail := http.StatusNotFound, fmt.Sprintf("the sandbox serves no API call %s %s", r.Method, r.URL.Path)
		if len(allowed) > 0 {
			status = http.StatusMethodNotAllowed
			detail = fmt.Sprintf("%s takes %s, not %s", r.URL.Path, strings.Join(allowed, " or "), r.Method)
			w.Header().Set("Allow", strings.Join(allowed, ", "))
		}
		writeJSON(w, status, map[string]any{
			"result_code": beecloud.CodeParamInvalid,
			"result_msg":  beecloud.CodeParamInvalid.String(),
			"err_detail":  detail,
		})
	}
}

// channelMatches reports whether b is of channel, a channel such as ALI,
// which keeps all its sub-channels, or a sub-channel such as ALI_WEB, as
// BeeCloud's bills and refunds queries take either. Empty matches all.
func channelMatches(b *Bill, channel string) bool {
	return channel == "" || channelType(b.Channel) == channel || b.SubChannel == channel
}

// warnLeak logs, once per app, that a REST call carried one of the app's
// secrets, as BeeCloud's own Node.js SDK sends all three in every call.
// BeeCloud serves such a call, and so does the sandbox; the warning names
// the secrets, never their values.
func (s *Sandbox) warnLeak(app App, r *http.Request, raw []byte) {
	secrets := []struct{ name, value string }{
		{"App Secret", app.Config.AppSecret},
		{"Master Secret", app.Config.MasterSecret},
		{"Test Secret", app.Config.TestSecret},
	}
	var leaked []string
	for _, sec := range secrets {
		if sec.value != "" && (bytes.Contains(raw, []byte(sec.value)) || strings.Contains(r.URL.RawQuery, sec.value)) {
			leaked = append(leaked, sec.name)
		}
	}
	if len(leaked) == 0 {
		return
	}
	id := app.Config.AppID
	s.mu.Lock()
	warned := s.rest.leaked[id]
	if !warned {
		if s.rest.leaked == nil {
			s.rest.leaked = make(map[string]bool)
		}
		s.rest.leaked[id] = true
	}
	s.mu.Unlock()
	if warned {
		return
	}
	s.logger().Warn("beecloudtest: a REST call carries secrets of its app: anyone who sees the request, or a log of it, can sign as the app; BeeCloud needs only app_sign (warned once per app)",
		"app_id", id, "secrets", strings.Join(leaked, ", "), "call", r.Method+" "+r.URL.Path)
}

func (s *Sandbox) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// serveRefundPage shows refunds made through the REST API, where an
// Alipay refund's url leads: one refund, or the comma-separated refunds
// of one approval.
func (s *Sandbox) serveRefundPage(w http.ResponseWriter, r *http.Request) {
	var found []Refund
	s.mu.Lock()
	for _, id := range strings.Split(r.PathValue("id"), ",") {
		if i := slices.IndexFunc(s.rest.refunds, func(rf *Refund) bool { return rf.ID == id }); i >= 0 {
			found = append(found, *s.rest.refunds[i])
		}
	}
	s.mu.Unlock()
	if len(found) == 0 {
		render(w, http.StatusNotFound, "error.html", errorPage{
			layout:  layout{Title: "找不到退款", Paths: sitePaths},
			Problem: "no-refund", Icon: "unknown", Heading: "找不到这笔退款",
			Message: "这个沙箱里没有这笔退款：链接可能有误，或者沙箱重启过。",
			Links:   []link{{ID: "home", Text: "打开沙箱首页", URL: "/"}},
		})
		return
	}
	names := map[RefundState]string{RefundPending: "退款待审核", RefundSucceeded: "退款成功", RefundDenied: "退款已拒绝"}
	icons := map[RefundState]string{RefundPending: "wait", RefundSucceeded: "ok", RefundDenied: "off"}
	state := found[0].State
	var facts []fact
	for _, rf := range found {
		if rf.State != state {
			state = RefundPending // a mixed batch: say it waits, each line says more
		}
		facts = append(facts, fact{"退款单号 " + rf.RefundNo, fmt.Sprintf("订单 %s，%s 元，%s", rf.OutTradeNo, yuan(rf.Amount), names[rf.State])})
	}
	render(w, http.StatusOK, "error.html", errorPage{
		layout:  layout{Title: names[state], Paths: sitePaths},
		Problem: "refund-" + string(state), Icon: icons[state], Heading: names[state],
		Message: "在 BeeCloud 上，支付宝退款要由商户在这个页面输入支付密码确认；沙箱不需要确认，退款的状态如下。",
		Facts:   facts,
		Links:   []link{{ID: "home", Text: "打开沙箱首页", URL: "/"}},
	})
}
