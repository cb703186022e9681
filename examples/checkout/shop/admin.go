package shop

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/paybutton/beecloud"
)

// AdminPath is the admin page: the orders, and a refund form for each paid
// one.
const AdminPath = "/admin"

// adminRows bounds the orders the admin page lists.
const adminRows = 200

// adminCookie holds the admin page's session, to which each form's token
// is bound.
const adminCookie = "checkout_admin"

func (s *Shop) adminEnabled() bool {
	return s.cfg.AdminPassword != "" || s.cfg.Sandbox
}

// authorized checks the admin's password, when there is one, and asks the
// browser for it otherwise. Without one (Sandbox mode) the page answers
// only requests for a loopback host name: a web page the admin visits
// cannot reach it by pointing its own domain's DNS at 127.0.0.1 (DNS
// rebinding), for its requests name that domain in Host.
func (s *Shop) authorized(w http.ResponseWriter, r *http.Request) bool {
	if s.cfg.AdminPassword == "" {
		if !loopbackHost(r.Host) {
			http.Error(w, "the admin page without a password answers only at localhost or 127.0.0.1", http.StatusForbidden)
			return false
		}
		return true
	}
	user, pass, ok := r.BasicAuth()
	if ok && subtle.ConstantTimeCompare([]byte(user), []byte("admin"))&subtle.ConstantTimeCompare([]byte(pass), []byte(s.cfg.AdminPassword)) == 1 {
		return true
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="checkout admin", charset="UTF-8"`)
	http.Error(w, "admin password required", http.StatusUnauthorized)
	return false
}

// loopbackHost reports whether host (a Host header: a name or an IP, with
// or without a port) is localhost or a loopback address: 127.0.0.0/8, ::1.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), ".")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// adminSession returns the admin's session id from its cookie, setting a
// new one if there is none.
func (s *Shop) adminSession(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(adminCookie); err == nil && validSession(c.Value) {
		return c.Value
	}
	b := make([]byte, 32)
	rand.Read(b)
	id := hex.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{
		Name: adminCookie, Value: id, Path: AdminPath,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	return id
}

func validSession(id string) bool {
	_, err := hex.DecodeString(id)
	return len(id) == 64 && err == nil
}

// formToken is the token the admin's forms carry: bound to the session, so
// that a form posted from anywhere but a page the shop gave this browser
// is refused.
func (s *Shop) formToken(session string) string {
	m := hmac.New(sha256.New, s.adminKey)
	m.Write([]byte("admin form\x00" + session))
	return hex.EncodeToString(m.Sum(nil))
}

// checkForm checks that a POST from the admin page carries its session's
// token, and refuses it otherwise. The cross-origin check runs before, on
// every POST (see New).
func (s *Shop) checkForm(w http.ResponseWriter, r *http.Request) bool {
	c, err := r.Cookie(adminCookie)
	if err == nil && validSession(c.Value) && hmac.Equal([]byte(r.PostFormValue("token")), []byte(s.formToken(c.Value))) {
		return true
	}
	http.Error(w, "the admin form expired or did not come from the admin page: reload the admin page and try again", http.StatusForbidden)
	return false
}

// admin lists the newest orders with their refunds and a refund form for
// each paid one.
func (s *Shop) admin(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	q := r.URL.Query()
	s.render(w, http.StatusOK, adminTemplate, map[string]any{
		"Orders":    s.orders.List(adminRows, false),
		"CanRefund": s.cfg.Client != nil,
		"Sandbox":   s.cfg.Sandbox,
		"Token":     s.formToken(s.adminSession(w, r)),
		"Done":      q.Get("done"),
		"Error":     q.Get("error"),
	})
}

// refund gives back the amount in the form (yuan, such as 1.50) of a paid
// order, through the Client: the refund is recorded with a fresh refund_no
// first, so that its webhook finds the order, and marked done when the
// webhook comes. A refund whose outcome is unknown stays recorded, its
// amount not refundable again, until a check settles it.
func (s *Shop) refund(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if !s.checkForm(w, r) {
		return
	}
	no := r.PostFormValue("out_trade_no")
	back := adminBack(w, r, no)
	if s.cfg.Client == nil {
		back("error", "this shop has no BeeCloud client: refunds are off")
		return
	}
	amount, err := parseYuan(r.PostFormValue("amount"))
	if err != nil {
		back("error", err.Error())
		return
	}
	refundNo := beecloud.NewRefundNo(s.cfg.Now())
	if err := s.orders.AddRefund(no, Refund{RefundNo: refundNo, Amount: amount, Asked: s.cfg.Now()}); err != nil {
		back("error", strings.TrimPrefix(err.Error(), "shop: "))
		return
	}
	ctx, cancel := s.refundContext(w, r)
	defer cancel()
	res, err := s.cfg.Client.Refund(ctx, beecloud.RefundRequest{OutTradeNo: no, RefundNo: refundNo, Amount: amount})
	var apiErr *beecloud.APIError
	switch {
	case errors.Is(err, beecloud.ErrUnknownOutcome):
		// The refund stays recorded under its refund_no, its amount
		// spoken for, until a check (or its webhook) settles it.
		s.orders.UpdateRefund(refundNo, func(r *Refund) { r.Unknown = true }) //nolint:errcheck // recorded just above
		s.log.Error("shop: refund outcome unknown", "out_trade_no", no, "refund_no", refundNo, "err", err)
		back("error", fmt.Sprintf("refund %s of %s: OUTCOME UNKNOWN, it may or may not be made. Do not refund again: press 再次查询 Check again in a while.", refundNo, yuan(amount)))
		return
	case errors.As(err, &apiErr):
		// BeeCloud refused it: nothing was refunded.
		s.orders.UpdateRefund(refundNo, func(r *Refund) { r.Failed = true }) //nolint:errcheck // recorded just above
		s.log.Warn("shop: refund refused", "out_trade_no", no, "refund_no", refundNo, "err", err)
		back("error", fmt.Sprintf("BeeCloud refused the refund %s: %v", refundNo, apiErr))
		return
	case err != nil:
		// Any other error means no refund was made: the request never
		// left, or was answered by something that is not BeeCloud (a
		// wrong BaseURL).
		s.orders.UpdateRefund(refundNo, func(r *Refund) { r.Failed = true }) //nolint:errcheck // recorded just above
		s.log.Error("shop: refund failed", "out_trade_no", no, "refund_no", refundNo, "err", err)
		back("error", fmt.Sprintf("refund %s failed, nothing was refunded: %v", refundNo, err))
		return
	}
	s.orders.UpdateRefund(refundNo, func(r *Refund) { r.ID = res.ID }) //nolint:errcheck // recorded just above
	s.log.Info("shop: refund asked", "out_trade_no", no, "refund_no", refundNo, "amount", amount, "id", res.ID, "recovered", res.Recovered)
	msg := fmt.Sprintf("refund %s of %s asked; it is done when BeeCloud's refund webhook comes", refundNo, yuan(amount))
	if res.URL != "" {
		msg += "; confirm it on Alipay: " + res.URL
	}
	back("done", msg)
}

// checkRefund settles a refund whose outcome was unknown by asking
// BeeCloud for its refund_no: found, it is the refund's; not found, it
// stays unknown, for the request may still be on its way.
func (s *Shop) checkRefund(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if !s.checkForm(w, r) {
		return
	}
	refundNo := r.PostFormValue("refund_no")
	var asked Refund
	no, err := s.orders.UpdateRefund(refundNo, func(r *Refund) { asked = *r })
	back := adminBack(w, r, no)
	switch {
	case err != nil:
		back("error", strings.TrimPrefix(err.Error(), "shop: "))
		return
	case s.cfg.Client == nil:
		back("error", "this shop has no BeeCloud client")
		return
	case !asked.Unknown:
		back("done", fmt.Sprintf("refund %s is settled already", refundNo))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	found, err := s.cfg.Client.RefundOutcome(ctx, refundNo)
	switch {
	case errors.Is(err, beecloud.ErrRefundNotFound):
		back("error", fmt.Sprintf("BeeCloud has no refund %s yet. That proves nothing: it may still be on its way. Do not refund again: check again later.", refundNo))
		return
	case err != nil:
		back("error", fmt.Sprintf("refund %s: could not ask BeeCloud: %v; check again later", refundNo, err))
		return
	case found.OutTradeNo != no || found.Amount != asked.Amount:
		s.log.Error("shop: refund_no used twice", "refund_no", refundNo, "order", no, "found_order", found.OutTradeNo, "found_amount", found.Amount)
		back("error", fmt.Sprintf("BeeCloud's refund %s is of %s for order %s, not this one: refund numbers must be unique", refundNo, yuan(found.Amount), found.OutTradeNo))
		return
	}
	at := s.cfg.Now()
	s.orders.UpdateRefund(refundNo, func(r *Refund) { //nolint:errcheck // found just above
		r.Unknown, r.ID = false, found.ID
		switch {
		case found.Finished && found.Succeeded:
			r.Succeeded, r.Done = true, at
		case found.Finished:
			r.Failed = true
		}
	})
	s.log.Info("shop: refund outcome settled", "out_trade_no", no, "refund_no", refundNo, "id", found.ID, "finished", found.Finished, "succeeded", found.Succeeded)
	back("done", fmt.Sprintf("refund %s of %s: BeeCloud has it (id %s)", refundNo, yuan(found.Amount), found.ID))
}

// adminBack returns a function that sends the admin back to the order on
// the admin page, with a message under key ("done" or "error").
func adminBack(w http.ResponseWriter, r *http.Request, no string) func(key, msg string) {
	return func(key, msg string) {
		http.Redirect(w, r, AdminPath+"?"+url.Values{key: {msg}}.Encode()+"#order-"+url.PathEscape(no), http.StatusSeeOther)
	}
}

// refundContext bounds a refund by Config.RefundTimeout, whoever waits
// for it: an admin who closes the page does not abandon the refund half
// way. The response may take that long, past the server's WriteTimeout.
func (s *Shop) refundContext(w http.ResponseWriter, r *http.Request) (context.Context, context.CancelFunc) {
	d := s.cfg.RefundTimeout
	if d <= 0 {
		d = beecloud.DefaultMoneyTimeout
	}
	// Not every ResponseWriter can move its deadline (httptest's cannot).
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d + 5*time.Second)) //nolint:errcheck // see above
	return context.WithTimeout(context.WithoutCancel(r.Context()), d)
}

// parseYuan parses an amount in yuan with at most two decimals, such as
// "1.50" or "2", into 分.
func parseYuan(s string) (int64, error) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "¥"))
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 || len(whole) > 9 || strings.Trim(whole+frac, "0123456789") != "" {
		return 0, fmt.Errorf("amount %q: want yuan with at most two decimals, such as 1.50", s)
	}
	fen, _ := strconv.ParseInt(whole+frac+strings.Repeat("0", 2-len(frac)), 10, 64)
	if fen <= 0 {
		return 0, fmt.Errorf("amount %q: want more than zero", s)
	}
	return fen, nil
}

// yuanInput formats an amount in 分 for the refund form: 150 → "1.50".
func yuanInput(fen int64) string {
	return fmt.Sprintf("%d.%02d", fen/100, fen%100)
}
