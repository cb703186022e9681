package beecloudtest

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
)

// FuzzReadClick feeds BC.click data, which comes from any page, to the
// sandbox's reader: it must never panic, must refuse with an error that
// matches beecloud.ErrInvalidOrder, and what it accepts must be a valid
// order whose webhook can be built.
func FuzzReadClick(f *testing.F) {
	for _, seed := range []string{
		`{"title":"测试商品","amount":150,"out_trade_no":"order0001","sign":"x"}`,
		`{"title":"test","amount":"1","out_trade_no":"test0001","sign":"e68639606d2d0a99b2e2c8872729d004","optional":{"a":1,"b":true,"c":"s","d":1.5}}`,
		`{"title":"t","amount":1e2,"out_trade_no":"x","optional":{"a":{"b":1}},"debug":"yes"}`,
		`{"amount":1e999,"optional":{"n":-1e999}}`,
		`{"return_url":"https://shop.example/done","instant_channel":"wx","openid":"o3kK","need_ali_guide":false,"use_app":false}`,
		`[]`, `null`, `"s"`, `{}{}`, `{"title":null,"amount":null,"optional":null}`,
	} {
		f.Add([]byte(seed))
	}
	app := App{Config: beecloud.Config{AppID: "app", AppSecret: "s", MasterSecret: "m"}}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := readClick(data)
		if err != nil {
			if !errors.Is(err, beecloud.ErrInvalidOrder) {
				t.Fatalf("readClick(%q): error %v does not match ErrInvalidOrder", data, err)
			}
			return
		}
		if err := c.order.Validate(); err != nil {
			t.Fatalf("readClick(%q) accepted an invalid order: %v", data, err)
		}
		body := webhookBody(app, &Bill{Order: c.order, Channel: beecloud.ChannelAli, SubChannel: "ALI_WEB", Updated: time.Now()})
		if !json.Valid(body) {
			t.Fatalf("webhook body is not JSON: %s", body)
		}
	})
}
