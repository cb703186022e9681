package shop

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
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

func (s *Shop) adminEnabled() bool {
	return s.cfg.AdminPassword != "" || s.cfg.Sandbox
}

// authorized checks the admin's password, when there is one, and asks the
// browser for it otherwise.
func (s *Shop) authorized(w http.ResponseWriter, r *http.Request) bool {
	if s.cfg.AdminPassword == "" {
		return true // Sandbox mode: no real money
	}
	user, pass, ok := r.BasicAuth()
	if ok && subtle.ConstantTimeCompare([]byte(user), []byte("admin"))&subtle.ConstantTimeCompare([]byte(pass), []byte(s.cfg.AdminPassword)) == 1 {
		return true
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="checkout admin", charset="UTF-8"`)
	http.Error(w, "admin password required", http.StatusUnauthorized)
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
		"Done":      q.Get("done"),
		"Error":     q.Get("error"),
	})
}

// refundTimeout bounds a refund's call to BeeCloud, which looks a refund
// whose answer was lost up before it gives up.
const refundTimeout = 25 * time.Second

// refund gives back the amount in the form (yuan, such as 1.50) of a paid
// order, through the Client: the refund is recorded with a fresh refund_no
// first, so that its webhook finds the order, and marked done when the
// webhook comes.
func (s *Shop) refund(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	no := r.PostFormValue("out_trade_no")
	back := func(key, msg string) {
		http.Redirect(w, r, AdminPath+"?"+url.Values{key: {msg}}.Encode()+"#order-"+url.PathEscape(no), http.StatusSeeOther)
	}
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
	ctx, cancel := context.WithTimeout(r.Context(), refundTimeout)
	defer cancel()
	res, err := s.cfg.Client.Refund(ctx, beecloud.RefundRequest{OutTradeNo: no, RefundNo: refundNo, Amount: amount})
	var apiErr *beecloud.APIError
	switch {
	case errors.As(err, &apiErr):
		// BeeCloud refused it: nothing was refunded.
		s.orders.UpdateRefund(refundNo, func(r *Refund) { r.Failed = true }) //nolint:errcheck // recorded just above
		s.log.Warn("shop: refund refused", "out_trade_no", no, "refund_no", refundNo, "err", err)
		back("error", fmt.Sprintf("BeeCloud refused the refund %s: %v", refundNo, apiErr))
		return
	case err != nil:
		// The outcome is unknown: the refund stays "processing" under its
		// refund_no, which its webhook (or a look-up) settles.
		s.log.Error("shop: refund outcome unknown", "out_trade_no", no, "refund_no", refundNo, "err", err)
		back("error", fmt.Sprintf("refund %s: %v", refundNo, err))
		return
	}
	s.orders.UpdateRefund(refundNo, func(r *Refund) { r.ID = res.ID }) //nolint:errcheck // recorded just above
	s.log.Info("shop: refund asked", "out_trade_no", no, "refund_no", refundNo, "amount", amount, "id", res.ID)
	msg := fmt.Sprintf("refund %s of %s asked; it is done when BeeCloud's refund webhook comes", refundNo, yuan(amount))
	if res.URL != "" {
		msg += "; confirm it on Alipay: " + res.URL
	}
	back("done", msg)
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
