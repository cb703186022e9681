package beecloud

import (
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/paybutton/beecloud/internal/channel"
)

// channelTests is SPEC §4: every instant_channel code with the BeeCloud
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

// webhookChannelTypes are the channel_type values of SPEC §4.
var webhookChannelTypes = []string{"WX", "ALI", "UN", "KUAIQIAN", "JD", "BD", "YEE", "PAYPAL", "BC"}

func TestChannels(t *testing.T) {
	for _, tt := range channelTests {
		t.Run(tt.code, func(t *testing.T) {
			c := tt.c
			if string(c) != tt.code {
				t.Errorf("constant = %q; want %q", c, tt.code)
			}
			if !c.Known() {
				t.Errorf("Known() = false; want true")
			}
			if name := c.Name(); !strings.ContainsFunc(name, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
				t.Errorf("Name() = %q; want a Chinese name", name)
			}
			if got := c.NeedsOpenID(); got != tt.openID {
				t.Errorf("NeedsOpenID() = %t; want %t", got, tt.openID)
			}
			if got := c.SupportsReturnURL(); got != !tt.noURL {
				t.Errorf("SupportsReturnURL() = %t; want %t", got, !tt.noURL)
			}
			if got := channel.QRCode(string(c)); got != tt.qr {
				t.Errorf("QRCode = %t; want %t", got, tt.qr)
			}
			if got := channel.Sub(string(c), false); got != tt.web {
				t.Errorf("Sub(false) = %q; want %q", got, tt.web)
			}
			if got := channel.Sub(string(c), true); got != tt.wap {
				t.Errorf("Sub(true) = %q; want %q", got, tt.wap)
			}
			if got := channel.Type(string(c)); got != tt.chanType {
				t.Errorf("Type = %q; want %q", got, tt.chanType)
			}
			if !slices.Contains(webhookChannelTypes, channel.Type(string(c))) {
				t.Errorf("Type = %q is not a webhook channel_type", channel.Type(string(c)))
			}
			// A webhook's sub_channel_type starts with its channel_type.
			for _, sub := range []string{channel.Sub(string(c), false), channel.Sub(string(c), true)} {
				if !strings.HasPrefix(sub, channel.Type(string(c))+"_") {
					t.Errorf("Sub %q does not start with Type %q", sub, channel.Type(string(c)))
				}
			}
		})
	}
}

func TestChannelsList(t *testing.T) {
	got := Channels()
	if len(got) != len(channelTests) {
		t.Fatalf("Channels() has %d channels; want %d", len(got), len(channelTests))
	}
	for _, tt := range channelTests {
		if !slices.Contains(got, tt.c) {
			t.Errorf("Channels() lacks %q", tt.c)
		}
	}
	for i, c := range got {
		if slices.Index(got, c) != i {
			t.Errorf("Channels() lists %q twice", c)
		}
	}
	if got[0] != ChannelAli {
		t.Errorf("Channels()[0] = %q; want %q, first on BeeCloud's menu", got[0], ChannelAli)
	}

	// The caller owns the slice: changing it changes nothing for others.
	got[0] = "changed"
	slices.Reverse(got)
	if again := Channels(); again[0] != ChannelAli || slices.Contains(again, "changed") {
		t.Errorf("after changing a returned slice, Channels() = %q", again)
	}
}

func TestChannelUnknown(t *testing.T) {
	for _, c := range []Channel{"", "alipay", "ALI", "wechat", "paypal", " ali"} {
		if c.Known() {
			t.Errorf("Channel(%q).Known() = true; want false", c)
		}
		if got := c.Name(); got != string(c) {
			t.Errorf("Channel(%q).Name() = %q; want the code itself", c, got)
		}
		if c.NeedsOpenID() || channel.QRCode(string(c)) || c.SupportsReturnURL() {
			t.Errorf("Channel(%q): NeedsOpenID %t, QRCode %t, SupportsReturnURL %t; want all false",
				c, c.NeedsOpenID(), channel.QRCode(string(c)), c.SupportsReturnURL())
		}
		if got := channel.Type(string(c)); got != "" {
			t.Errorf("Channel(%q).Type = %q; want \"\"", c, got)
		}
		if web, wap := channel.Sub(string(c), false), channel.Sub(string(c), true); web != "" || wap != "" {
			t.Errorf("Channel(%q) Sub = %q, %q; want \"\"", c, web, wap)
		}
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
		if got := SubChannelName(tt.sub); got != tt.want {
			t.Errorf("SubChannelName(%q) = %q; want %q", tt.sub, got, tt.want)
		}
	}
	// Every BeeCloud channel the button pays through has its channel's name.
	for _, c := range Channels() {
		for _, mobile := range []bool{false, true} {
			sub := channel.Sub(string(c), mobile)
			if got := SubChannelName(sub); got == sub {
				t.Errorf("SubChannelName(%q) = %q; want a name", sub, got)
			}
		}
	}
}
