package beecloud

import (
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paybutton/beecloud/internal/channel"
)

// channelTests is BeeCloud's channel table: every instant_channel code with the BeeCloud
// channel it maps to on desktop and on mobile, and its channel_type.
var channelTests = []struct {
	c                  Channel
	code               string
	web, wap, chanType string
	openID, qr, noURL  bool
}{
	{ChannelAli, "ali", "ALI_WEB", "ALI_WAP", "ALI", false, false, false},
	{ChannelWxMP, "wxmp", "WX_NATIVE", "WX_NATIVE", "WX", false, true, false},
	{ChannelBCWxMP, "bcwxmp", "BC_NATIVE", "BC_NATIVE", "BC", false, true, false},
	{ChannelWx, "wx", "WX_JSAPI", "WX_JSAPI", "WX", true, false, true},
	{ChannelBCWx, "bcwx", "BC_WX_JSAPI", "BC_WX_JSAPI", "BC", true, false, true},
	{ChannelUN, "un", "UN_WEB", "UN_WEB", "UN", false, false, false},
	{ChannelUNWap, "unwap", "UN_WAP", "UN_WAP", "UN", false, false, false},
	{ChannelBCKJ, "bckj", "BC_EXPRESS", "BC_EXPRESS", "BC", false, false, false},
	{ChannelBCWxWap, "bcwxwap", "BC_WX_WAP", "BC_WX_WAP", "BC", false, false, false},
	{ChannelWxWap, "wxwap", "WX_WAP", "WX_WAP", "WX", false, false, false},
	{ChannelBCAliQR, "bcaliqr", "BC_ALI_QRCODE", "BC_ALI_QRCODE", "BC", false, true, false},
	{ChannelBCAli, "bcali", "BC_ALI_WEB", "BC_ALI_WAP", "BC", false, false, false},
	{ChannelJD, "jd", "JD_WEB", "JD_WAP", "JD", false, false, false},
	{ChannelBD, "bd", "BD_WEB", "BD_WAP", "BD", false, false, false},
	{ChannelYee, "yee", "YEE_WEB", "YEE_WAP", "YEE", false, false, false},
	{ChannelKuaiqian, "kuaiqian", "KUAIQIAN_WEB", "KUAIQIAN_WAP", "KUAIQIAN", false, false, false},
}

// webhookChannelTypes are the channel_type values of BeeCloud's channel table.
var webhookChannelTypes = []string{"WX", "ALI", "UN", "KUAIQIAN", "JD", "BD", "YEE", "PAYPAL", "BC"}

func TestChannels(t *testing.T) {
	for _, tt := range channelTests {
		t.Run(tt.code, func(t *testing.T) {
			c := tt.c
			assert.Equal(t, tt.code, string(c), "constant")
			assert.True(t, c.Known(), "Known()")
			name := c.Name()
			assert.True(t, strings.ContainsFunc(name, func(r rune) bool { return unicode.Is(unicode.Han, r) }),
				"Name() = %q; want a Chinese name", name)
			assert.Equal(t, tt.openID, c.NeedsOpenID(), "NeedsOpenID()")
			assert.Equal(t, !tt.noURL, c.SupportsReturnURL(), "SupportsReturnURL()")
			assert.Equal(t, tt.qr, channel.QRCode(string(c)), "QRCode")
			assert.Equal(t, tt.web, channel.Sub(string(c), false), "Sub(false)")
			assert.Equal(t, tt.wap, channel.Sub(string(c), true), "Sub(true)")
			assert.Equal(t, tt.chanType, channel.Type(string(c)), "Type")
			assert.Contains(t, webhookChannelTypes, channel.Type(string(c)), "Type; want a webhook channel_type")
			// A webhook's sub_channel_type starts with its channel_type.
			for _, sub := range []string{channel.Sub(string(c), false), channel.Sub(string(c), true)} {
				assert.True(t, strings.HasPrefix(sub, channel.Type(string(c))+"_"),
					"Sub %q does not start with Type %q", sub, channel.Type(string(c)))
			}
		})
	}
}

func TestChannelsList(t *testing.T) {
	got := Channels()
	require.Len(t, got, len(channelTests), "Channels()")
	for _, tt := range channelTests {
		assert.Contains(t, got, tt.c, "Channels()")
	}
	for i, c := range got {
		assert.Equal(t, i, slices.Index(got, c), "Channels() lists %q twice", c)
	}
	assert.Equal(t, ChannelAli, got[0], "Channels()[0]; want the first on BeeCloud's menu")

	// The caller owns the slice: changing it changes nothing for others.
	got[0] = "changed"
	slices.Reverse(got)
	again := Channels()
	assert.Equal(t, ChannelAli, again[0], "after changing a returned slice, Channels()[0]")
	assert.NotContains(t, again, Channel("changed"), "after changing a returned slice, Channels()")
}

func TestChannelUnknown(t *testing.T) {
	for _, c := range []Channel{"", "alipay", "ALI", "wechat", "paypal", " ali"} {
		assert.False(t, c.Known(), "Channel(%q).Known()", c)
		assert.Equal(t, string(c), c.Name(), "Channel(%q).Name(); want the code itself", c)
		assert.False(t, c.NeedsOpenID(), "Channel(%q).NeedsOpenID()", c)
		assert.False(t, channel.QRCode(string(c)), "Channel(%q): QRCode", c)
		assert.False(t, c.SupportsReturnURL(), "Channel(%q).SupportsReturnURL()", c)
		assert.Empty(t, channel.Type(string(c)), "Channel(%q): Type", c)
		assert.Empty(t, channel.Sub(string(c), false), "Channel(%q): Sub(false)", c)
		assert.Empty(t, channel.Sub(string(c), true), "Channel(%q): Sub(true)", c)
	}
}

func TestSubChannelName(t *testing.T) {
	tests := []struct{ sub, want string }{
		{"ALI_WEB", "支付宝"},
		{"ALI_WAP", "支付宝"},
		{"BC_ALI_WAP", "支付宝"},
		{"ALI_QRCODE", "支付宝"},
		{"ALI_APP", "支付宝"},
		{"WX_NATIVE", "微信扫码支付"},
		{"BC_NATIVE", "微信扫码支付"},
		{"WX_JSAPI", "微信支付"},
		{"WX_APP", "微信支付"},
		{"BC_WX_SCAN", "微信支付"},
		{"BC_ALI_QRCODE", "支付宝扫码支付"},
		{"UN_WEB", "银联在线支付"},
		{"UN_WAP", "银联手机支付"},
		{"UN_APP", "银联支付"},
		{"BC_EXPRESS", "银联快捷支付"},
		{"BC_GATEWAY", "网银支付"},
		{"JD_WAP", "京东支付"},
		{"BD_APP", "百度钱包"},
		{"YEE_NOBANKCARD", "易宝支付"},
		{"KUAIQIAN_WEB", "快钱支付"},
		{"PAYPAL_LIVE", "PayPal"},
		{"NEW_CHANNEL", "NEW_CHANNEL"},
		{"", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, SubChannelName(tt.sub), "SubChannelName(%q)", tt.sub)
	}
	// Every BeeCloud channel the button pays through has its channel's name.
	for _, c := range Channels() {
		for _, mobile := range []bool{false, true} {
			sub := channel.Sub(string(c), mobile)
			assert.NotEqual(t, sub, SubChannelName(sub), "SubChannelName(%q); want a name", sub)
		}
	}
}
