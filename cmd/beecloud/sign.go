package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/paybutton/beecloud"
)

const signUsage = `Usage: beecloud sign -app-id ID -app-secret SECRET -title TITLE -amount FEN -out-trade-no NO [-v [-show-secret]]

Sign prints the sign of one order: the value of BC.click's data.sign, the
lowercase hex MD5 of appId + title + amount + out_trade_no + appSecret
(UTF-8). Compare it with what your server computes when BeeCloud answers
"sign mismatch" (签名错误).

-amount is an integer in 分 (fen): 1 = ¥0.01, so ¥1.00 is -amount 100.

With -v, sign also prints each part and the exact string that was hashed,
with the App Secret masked unless -show-secret is given. Problems with the
order (a title too long, a bad out_trade_no…) are reported as warnings on
stderr; the sign is printed anyway.

The App ID and Secret may come from $BEECLOUD_APP_ID and
$BEECLOUD_APP_SECRET instead of flags.

Example:

	beecloud sign -app-id c5d1cba1-5e3f-4ba0-941d-9b0a371fe719 \
		-app-secret 39a7a518-9ac8-4a9e-87bc-7885f33cf18c \
		-title test -amount 1 -out-trade-no test0001
	e68639606d2d0a99b2e2c8872729d004
`

func (c *cli) sign(args []string) int {
	const name = "sign"
	fs := c.newFlagSet(name, signUsage)
	var cr credentials
	cr.define(fs, true, false)
	title := fs.String("title", "", "order title (BC.click data.title)")
	amountText := fs.String("amount", "", "order amount, an integer in 分 (1 = ¥0.01)")
	outTradeNo := fs.String("out-trade-no", "", "the merchant's order number (data.out_trade_no)")
	verbose := fs.Bool("v", false, "print each part and the exact string hashed")
	showSecret := fs.Bool("show-secret", false, "with -v, print the App Secret in the hashed string instead of masking it")
	if code, done := c.parseFlagsOnly(fs, args); done {
		return code
	}
	cr.fill(c.getenv)
	missing := cr.missingFlags(true, false)
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, f := range []string{"title", "amount", "out-trade-no"} {
		if !given[f] {
			missing = append(missing, "-"+f)
		}
	}
	if m := missingText(missing); m != "" {
		return c.usageError(name, "%s", m)
	}
	amount, err := parseFen(*amountText)
	if err != nil {
		return c.usageError(name, "%v", err)
	}
	if s := strings.TrimSpace(*amountText); s != strconv.FormatInt(amount, 10) {
		c.warnf(name, "-amount %q is signed as %d; make sure your server writes it the same way", *amountText, amount)
	}

	order := beecloud.Order{Title: *title, Amount: amount, OutTradeNo: *outTradeNo}
	c.warnSignProblems(order, cr)
	sign := beecloud.Sign(cr.appID, *title, amount, *outTradeNo, cr.appSecret)
	if !*verbose {
		fmt.Fprintln(c.stdout, sign)
		return exitOK
	}
	secret := maskSecret(cr.appSecret)
	if *showSecret {
		secret = cr.appSecret
	}
	c.explainSign(order, cr, secret, sign)
	return exitOK
}

// warnSignProblems warns about what BeeCloud would refuse in the order and
// about stray spaces in the credentials; the sign is printed anyway.
func (c *cli) warnSignProblems(order beecloud.Order, cr credentials) {
	const name = "sign"
	if err := order.Validate(); err != nil {
		var ve *beecloud.ValidationError
		if errors.As(err, &ve) {
			for _, p := range ve.Problems {
				c.warnf(name, "%s; BeeCloud will refuse this order", p)
			}
		} else {
			c.warnf(name, "%v", err)
		}
	}
	if strings.TrimSpace(cr.appID) != cr.appID || strings.TrimSpace(cr.appSecret) != cr.appSecret {
		c.warnf(name, "the App ID or Secret has leading or trailing spaces; they are hashed too")
	}
}

// explainSign prints each part of the sign and the exact string hashed,
// with the secret as shown.
func (c *cli) explainSign(o beecloud.Order, cr credentials, secret, sign string) {
	hashed := beecloud.SignString(cr.appID, o.Title, o.Amount, o.OutTradeNo, "")
	w := c.stdout
	fmt.Fprintf(w, "app_id:       %s\n", cr.appID)
	fmt.Fprintf(w, "title:        %s\n", describeText(o.Title))
	fmt.Fprintf(w, "amount:       %d (分, ¥%s)\n", o.Amount, yuan(o.Amount))
	fmt.Fprintf(w, "out_trade_no: %s\n", o.OutTradeNo)
	fmt.Fprintf(w, "app_secret:   %s\n", secret)
	fmt.Fprintf(w, "hashed:       %s%s\n", hashed, secret)
	fmt.Fprintf(w, "              (%d bytes of UTF-8: app_id + title + amount + out_trade_no + app_secret)\n", len(hashed)+len(cr.appSecret))
	fmt.Fprintf(w, "sign:         %s\n", sign)
}

// maskSecret stands in for a secret in printed output: it tells its length,
// which is what differs when a secret was pasted with a stray character.
func maskSecret(s string) string {
	return fmt.Sprintf("<secret: %d bytes>", len(s))
}

// describeText shows a title quoted, with its UTF-8 bytes in hex when it
// has non-ASCII characters: other implementations have hashed those in
// another encoding (GBK, or Latin-1 by a Node crypto.update without
// 'utf8').
func describeText(s string) string {
	q := strconv.Quote(s)
	if len(s) == utf8.RuneCountInString(s) {
		return q
	}
	var hexBytes strings.Builder
	for i := 0; i < len(s); i++ {
		if i > 0 {
			hexBytes.WriteByte(' ')
		}
		fmt.Fprintf(&hexBytes, "%02x", s[i])
	}
	return fmt.Sprintf("%s (UTF-8: %s)", q, hexBytes.String())
}

// yuan formats an amount in 分 as yuan: 150 → "1.50".
func yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}
