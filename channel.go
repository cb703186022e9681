package beecloud

// Channel is a value of BC.click's instant_channel: the pay channel the
// button jumps to without showing its channel menu. The zero value means
// "show the menu".
//
// Channel values outside the constants below are refused by
// [Order.Validate]; the webhook's channel_type and sub_channel_type are
// plain strings instead, since BeeCloud adds channels over time.
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

// channelInfo is what the SDK knows about one instant_channel code.
type channelInfo struct {
	name        string // Chinese display name, as on BeeCloud's menu
	channelType string // the webhook's channel_type
	web, wap    string // BeeCloud channel on desktop and on mobile
	openID      bool   // needs data.openid (WeChat JSAPI, inside WeChat)
	qrCode      bool   // shows a QR code and polls the bill
	noReturnURL bool   // the channel never sends the buyer to return_url
}

// channels lists every known code in the order a menu shows them by default.
var channels = []Channel{
	ChannelAli, ChannelWxMP, ChannelWx, ChannelUN, ChannelUNWap, ChannelBCKJ,
	ChannelJD, ChannelBD, ChannelYee, ChannelKuaiqian, ChannelWxWap,
	ChannelBCWxMP, ChannelBCWx, ChannelBCWxWap, ChannelBCAliQR, ChannelBCAli,
}

var channelInfos = map[Channel]channelInfo{
	ChannelAli:      {name: "支付宝", channelType: "ALI", web: "ALI_WEB", wap: "ALI_WAP"},
	ChannelWxMP:     {name: "微信扫码支付", channelType: "WX", web: "WX_NATIVE", wap: "WX_NATIVE", qrCode: true},
	ChannelBCWxMP:   {name: "微信扫码支付", channelType: "BC", web: "BC_NATIVE", wap: "BC_NATIVE", qrCode: true},
	ChannelWx:       {name: "微信支付", channelType: "WX", web: "WX_JSAPI", wap: "WX_JSAPI", openID: true, noReturnURL: true},
	ChannelBCWx:     {name: "微信支付", channelType: "BC", web: "BC_WX_JSAPI", wap: "BC_WX_JSAPI", openID: true, noReturnURL: true},
	ChannelUN:       {name: "银联在线支付", channelType: "UN", web: "UN_WEB", wap: "UN_WEB"},
	ChannelUNWap:    {name: "银联手机支付", channelType: "UN", web: "UN_WAP", wap: "UN_WAP"},
	ChannelBCKJ:     {name: "银联快捷支付", channelType: "BC", web: "BC_EXPRESS", wap: "BC_EXPRESS"},
	ChannelBCWxWap:  {name: "微信支付", channelType: "BC", web: "BC_WX_WAP", wap: "BC_WX_WAP"},
	ChannelWxWap:    {name: "微信支付", channelType: "WX", web: "WX_WAP", wap: "WX_WAP"},
	ChannelBCAliQR:  {name: "支付宝扫码支付", channelType: "BC", web: "BC_ALI_QRCODE", wap: "BC_ALI_QRCODE", qrCode: true},
	ChannelBCAli:    {name: "支付宝", channelType: "BC", web: "BC_ALI_WEB", wap: "BC_ALI_WAP"},
	ChannelJD:       {name: "京东支付", channelType: "JD", web: "JD_WEB", wap: "JD_WAP"},
	ChannelBD:       {name: "百度钱包", channelType: "BD", web: "BD_WEB", wap: "BD_WAP"},
	ChannelYee:      {name: "易宝支付", channelType: "YEE", web: "YEE_WEB", wap: "YEE_WAP"},
	ChannelKuaiqian: {name: "快钱支付", channelType: "KUAIQIAN", web: "KUAIQIAN_WEB", wap: "KUAIQIAN_WAP"},
}

// Channels returns every instant_channel code the SDK knows, in the order
// of BeeCloud's default channel menu. The caller owns the returned slice.
func Channels() []Channel {
	return append([]Channel(nil), channels...)
}

// Known reports whether c is one of the instant_channel codes above.
func (c Channel) Known() bool {
	_, ok := channelInfos[c]
	return ok
}

// Name returns the channel's Chinese display name, such as "支付宝", or the
// code itself for an unknown channel.
func (c Channel) Name() string {
	if info, ok := channelInfos[c]; ok {
		return info.name
	}
	return string(c)
}

// NeedsOpenID reports whether the channel pays inside WeChat through its
// JSAPI bridge and so requires [Order].OpenID.
func (c Channel) NeedsOpenID() bool { return channelInfos[c].openID }

// SupportsReturnURL reports whether the channel sends the buyer to
// return_url after paying. WeChat JSAPI payment (wx, bcwx) does not. It is
// false for an unknown channel and for the zero Channel, where the channel
// the buyer picks from the menu decides.
func (c Channel) SupportsReturnURL() bool {
	info, ok := channelInfos[c]
	return ok && !info.noReturnURL
}

// QRCode reports whether the channel shows a QR code to scan with a phone
// and polls the bill until it is paid.
func (c Channel) QRCode() bool { return channelInfos[c].qrCode }

// ChannelType returns the channel_type a webhook for a payment through c
// carries ("ALI", "WX", "UN", "BC", …), or "" for an unknown channel.
func (c Channel) ChannelType() string { return channelInfos[c].channelType }

// BeeCloudChannel returns the BeeCloud channel (the webhook's
// sub_channel_type) that c maps to on a desktop browser or, when mobile is
// true, on a phone: ChannelAli gives "ALI_WEB" or "ALI_WAP". It returns ""
// for an unknown channel.
func (c Channel) BeeCloudChannel(mobile bool) string {
	info := channelInfos[c]
	if mobile {
		return info.wap
	}
	return info.web
}
