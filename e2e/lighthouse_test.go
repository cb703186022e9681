package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paybutton/beecloud/examples/checkout/shop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lighthouseCategories are the Lighthouse categories scored; only
// accessibility has a floor here, the others are reported.
var lighthouseCategories = []string{"accessibility", "best-practices", "seo", "performance"}

// TestLighthouse runs Lighthouse 12 against the checkout example's shop,
// pay, result and admin pages and fails if accessibility scores under 98.
// It is slow (about half a minute a page), so it runs only when
// $BEECLOUD_LIGHTHOUSE is set: to the lighthouse command, or to 1 for
// e2e/node_modules/.bin/lighthouse ("npm ci" in e2e/ installs it).
func TestLighthouse(t *testing.T) {
	bin := os.Getenv("BEECLOUD_LIGHTHOUSE")
	switch bin {
	case "":
		t.Skip("set BEECLOUD_LIGHTHOUSE=1 (after npm ci in e2e/) or to a lighthouse command to run Lighthouse")
	case "1":
		bin = filepath.Join("node_modules", ".bin", "lighthouse")
	}
	o := startCheckout(t, shop.Config{})
	b := NewBrowser(t)
	viewDesktop(b)
	bill := payCheckout(t, b, o, "tea", "ali", "#pay")
	waitPaidPage(b)
	buyCheckout(b, o, "mug")
	pages := []struct{ name, url string }{
		{"shop", o.URL + "/"},
		{"pay", Eval[string](b, `location.href`)},
		{"result", o.URL + shop.ResultPath + bill.Order.OutTradeNo},
		{"admin", o.URL + shop.AdminPath},
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, p.url, // the test's own tool, chosen by the developer
				"--output=json", "--output-path=stdout", "--quiet",
				"--only-categories="+strings.Join(lighthouseCategories, ","),
				"--chrome-path="+chromiumPath(),
				"--chrome-flags=--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --no-first-run")
			out, err := cmd.Output()
			require.NoError(t, err, "%s %s", bin, p.url)
			var report struct {
				Categories map[string]struct {
					Score float64 `json:"score"`
				} `json:"categories"`
				Audits map[string]struct {
					Title string   `json:"title"`
					Score *float64 `json:"score"`
				} `json:"audits"`
			}
			require.NoError(t, json.Unmarshal(out, &report), "lighthouse's report")
			var scores []string
			for _, c := range lighthouseCategories {
				scores = append(scores, fmt.Sprintf("%s %.0f", c, report.Categories[c].Score*100))
			}
			t.Logf("%s: %s", p.name, strings.Join(scores, ", "))
			if s := report.Categories["accessibility"].Score * 100; !assert.GreaterOrEqual(t, s, 98.0, "%s: accessibility score", p.name) {
				for id, a := range report.Audits {
					if a.Score != nil && *a.Score < 1 {
						t.Logf("audit %s: %s (%.2f)", id, a.Title, *a.Score)
					}
				}
			}
		})
	}
}
