package beecloud

import (
	"strings"

	"github.com/paybutton/beecloud/internal/channel"
)

// Channel is a value of BC.click's instant_channel: the pay channel the
// button jumps to without showing its channel menu. The zero value means
// "show the menu".
//
// Channel values outside the constants below are refused by
// [Order.Validate]. A webhook's channel_type is one of the ChannelType
// constants instead, such as [ChannelTypeAli], and its sub_channel_type a
// plain string (see [SubChannelName]).
type Channel string

// The instant_channel codes the BeeCloud button script accepts.
const (
	ChannelAli      Channel = "ali"      // 支付宝网页/移动网页 (ALI_WEB, ALI_WAP)
	ChannelWxMP     Channel = "wxmp"     // 微信扫码 (WX_NATIVE)
	ChannelBCWxMP   Channel = "bcwxmp"   // BC微信扫码 (BC_NATIVE)
	ChannelWx       Channel = "wx"       // 微信公众号支付 (WX_JSAPI), needs an openid
	ChannelBCWx     Channel = "bcwx"     // BC微信公众号 (BC_WX_JSAPI), needs an openid
	ChannelUN       Channel = "un"       // 银联网页 (UN_WEB)
	ChannelUNWap    Channel = "unwap"    // 银联手机网页 (UN_WAP)
	ChannelBCKJ     Channel = "bckj"     // 银联快捷 (BC_EXPRESS)
	ChannelBCWxWap  Channel = "bcwxwap"  // BC微信手机网页 (BC_WX_WAP)
	ChannelWxWap    Channel = "wxwap"    // 微信手机网页 (WX_WAP)
	ChannelBCAliQR  Channel = "bcaliqr"  // BC支付宝扫码 (BC_ALI_QRCODE)
	ChannelBCAli    Channel = "bcali"    // BC支付宝 (BC_ALI_WEB, BC_ALI_WAP)
	ChannelJD       Channel = "jd"       // 京东支付 (JD_WEB, JD_WAP)
	ChannelBD       Channel = "bd"       // 百度支付 (BD_WEB, BD_WAP)
	ChannelYee      Channel = "yee"      // 易宝支付 (YEE_WEB, YEE_WAP)
	ChannelKuaiqian Channel = "kuaiqian" // 快钱 (KUAIQIAN_WEB, KUAIQIAN_WAP)
)

// channels lists every known code in the order a menu shows them by default.
var channels = func() []Channel {
	out := make([]Channel, len(channel.Codes))
	for i, code := range channel.Codes {
		out[i] = Channel(code)
	}
	return out
}()

// Channels returns every instant_channel code the SDK knows, in the order
// of BeeCloud's default channel menu. The caller owns the returned slice.
func Channels() []Channel {
	return append([]Channel(nil), channels...)
}

// String returns the instant_channel code, such as "ali".
func (c Channel) String() string { return string(c) }

// Known reports whether c is one of the instant_channel codes above.
func (c Channel) Known() bool {
	_, ok := channel.Lookup(string(c))
	return ok
}

// Name returns the channel's Chinese display name, such as "支付宝", or the
// code itself for an unknown channel.
func (c Channel) Name() string {
	if info, ok := channel.Lookup(string(c)); ok {
		return info.Name
	}
	return string(c)
}

// NeedsOpenID reports whether the channel pays inside WeChat through its
// JSAPI bridge and so requires [Order].OpenID.
func (c Channel) NeedsOpenID() bool {
	info, _ := channel.Lookup(string(c))
	return info.OpenID
}

// SupportsReturnURL reports whether the channel sends the buyer to
// return_url after paying. WeChat JSAPI payment (wx, bcwx) does not. It is
// false for an unknown channel and for the zero Channel, where the channel
// the buyer picks from the menu decides.
func (c Channel) SupportsReturnURL() bool {
	info, ok := channel.Lookup(string(c))
	return ok && !info.NoReturnURL
}

// SubChannelName returns a name to show a buyer for a webhook's
// sub_channel_type, the BeeCloud channel a payment went through: "支付宝"
// for ALI_WEB or ALI_WAP, "微信扫码支付" for WX_NATIVE, "银联在线支付" for
// UN_WEB. A channel the button does not offer gets the name of its
// family ("微信支付" for WX_APP, "支付宝" for ALI_QRCODE, "PayPal" for
// PAYPAL_LIVE), and a value BeeCloud may add later is returned as it is.
func SubChannelName(sub string) string {
	if name, ok := subChannelNames[sub]; ok {
		return name
	}
	switch {
	case strings.Contains(sub, "ALI"):
		return "支付宝"
	case strings.Contains(sub, "WX"):
		return "微信支付"
	case strings.HasPrefix(sub, "UN_"):
		return "银联支付"
	case sub == "BC_GATEWAY":
		return "网银支付"
	}
	for prefix, name := range subChannelFamilies {
		if strings.HasPrefix(sub, prefix) {
			return name
		}
	}
	return sub
}

// subChannelFamilies names the payments of a channel family, by the
// prefix of their sub_channel_type.
var subChannelFamilies = map[string]string{
	"JD_": "京东支付", "BD_": "百度钱包", "YEE_": "易宝支付", "KUAIQIAN_": "快钱支付", "PAYPAL_": "PayPal",
}

// subChannelNames maps the BeeCloud channels the button can pay through
// to the names of their instant_channel codes.
var subChannelNames = func() map[string]string {
	m := map[string]string{}
	for _, code := range channel.Codes {
		info, _ := channel.Lookup(code)
		for _, sub := range []string{info.Web, info.Wap} {
			if _, ok := m[sub]; !ok {
				m[sub] = info.Name
			}
		}
	}
	return m
}()
