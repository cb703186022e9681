package beecloudtest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/stretchr/testify/require"
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
			require.ErrorIs(t, err, beecloud.ErrInvalidOrder, "readClick(%q)", data)
			return
		}
		require.NoError(t, c.order.Validate(), "readClick(%q) accepted an invalid order", data)
		body := webhookBody(app, &Bill{Order: c.order, Channel: beecloud.ChannelAli, SubChannel: "ALI_WEB", Updated: time.Now()})
		require.True(t, json.Valid(body), "webhook body is not JSON: %s", body)
	})
}
