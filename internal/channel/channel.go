// Package channel holds what BeeCloud's pay channels are behind each
// instant_channel code: the facts package beecloud checks orders with and
// the sandbox of package beecloudtest acts out. It is internal because
// merchants need only the codes and their names, which package beecloud
// exports.
package channel

// Info is what is known about one instant_channel code.
type Info struct {
	Name        string // Chinese display name, as on BeeCloud's menu
	Type        string // the webhook's channel_type: "ALI", "WX", "BC", …
	Web, Wap    string // the BeeCloud channel (sub_channel_type) on a desktop and on a phone
	OpenID      bool   // needs data.openid (WeChat JSAPI, inside WeChat)
	QRCode      bool   // shows a QR code to scan with a phone and polls the bill
	NoReturnURL bool   // never sends the buyer to return_url
}

// Codes lists every known code in the order BeeCloud's menu shows them.
var Codes = []string{
	"ali", "wxmp", "wx", "un", "unwap", "bckj", "jd", "bd", "yee", "kuaiqian",
	"wxwap", "bcwxmp", "bcwx", "bcwxwap", "bcaliqr", "bcali",
}

var infos = map[string]Info{
	"ali":      {Name: "支付宝", Type: "ALI", Web: "ALI_WEB", Wap: "ALI_WAP"},
	"wxmp":     {Name: "微信扫码支付", Type: "WX", Web: "WX_NATIVE", Wap: "WX_NATIVE", QRCode: true},
	"bcwxmp":   {Name: "微信扫码支付", Type: "BC", Web: "BC_NATIVE", Wap: "BC_NATIVE", QRCode: true},
	"wx":       {Name: "微信支付", Type: "WX", Web: "WX_JSAPI", Wap: "WX_JSAPI", OpenID: true, NoReturnURL: true},
	"bcwx":     {Name: "微信支付", Type: "BC", Web: "BC_WX_JSAPI", Wap: "BC_WX_JSAPI", OpenID: true, NoReturnURL: true},
	"un":       {Name: "银联在线支付", Type: "UN", Web: "UN_WEB", Wap: "UN_WEB"},
	"unwap":    {Name: "银联手机支付", Type: "UN", Web: "UN_WAP", Wap: "UN_WAP"},
	"bckj":     {Name: "银联快捷支付", Type: "BC", Web: "BC_EXPRESS", Wap: "BC_EXPRESS"},
	"bcwxwap":  {Name: "微信支付", Type: "BC", Web: "BC_WX_WAP", Wap: "BC_WX_WAP"},
	"wxwap":    {Name: "微信支付", Type: "WX", Web: "WX_WAP", Wap: "WX_WAP"},
	"bcaliqr":  {Name: "支付宝扫码支付", Type: "BC", Web: "BC_ALI_QRCODE", Wap: "BC_ALI_QRCODE", QRCode: true},
	"bcali":    {Name: "支付宝", Type: "BC", Web: "BC_ALI_WEB", Wap: "BC_ALI_WAP"},
	"jd":       {Name: "京东支付", Type: "JD", Web: "JD_WEB", Wap: "JD_WAP"},
	"bd":       {Name: "百度钱包", Type: "BD", Web: "BD_WEB", Wap: "BD_WAP"},
	"yee":      {Name: "易宝支付", Type: "YEE", Web: "YEE_WEB", Wap: "YEE_WAP"},
	"kuaiqian": {Name: "快钱支付", Type: "KUAIQIAN", Web: "KUAIQIAN_WEB", Wap: "KUAIQIAN_WAP"},
}

// Lookup returns what is known about code, and whether it is known.
func Lookup(code string) (Info, bool) {
	info, ok := infos[code]
	return info, ok
}

// Sub returns the BeeCloud channel code maps to on a phone (mobile) or a
// desktop, or "" for an unknown code. Sub, Type and QRCode also take a
// REST API channel name (see Bill).
func Sub(code string, mobile bool) string {
	info := lookupAny(code)
	if mobile {
		return info.Wap
	}
	return info.Web
}

// Type returns the channel_type of a webhook for code, or "".
func Type(code string) string { return lookupAny(code).Type }

// QRCode reports whether code's pay page shows a QR code.
func QRCode(code string) bool { return lookupAny(code).QRCode }
