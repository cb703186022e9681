package channel

import "strings"

// bills describes the channels of BeeCloud's REST API (POST /2/rest/bill),
// by BeeCloud's name for each, such as "WX_NATIVE": a server pays through
// them without the button. Their names are in capitals and so never clash
// with the button's codes.
var bills = map[string]Info{
	"WX_APP":             {Name: "微信支付", Type: "WX"},
	"WX_NATIVE":          {Name: "微信扫码支付", Type: "WX", QRCode: true},
	"WX_JSAPI":           {Name: "微信支付", Type: "WX", OpenID: true, NoReturnURL: true},
	"ALI_APP":            {Name: "支付宝", Type: "ALI"},
	"ALI_WEB":            {Name: "支付宝", Type: "ALI"},
	"ALI_QRCODE":         {Name: "支付宝扫码支付", Type: "ALI", QRCode: true},
	"ALI_OFFLINE_QRCODE": {Name: "支付宝扫码支付", Type: "ALI", QRCode: true},
	"ALI_WAP":            {Name: "支付宝", Type: "ALI"},
	"UN_APP":             {Name: "银联手机支付", Type: "UN"},
	"UN_WEB":             {Name: "银联在线支付", Type: "UN"},
	"JD_WAP":             {Name: "京东支付", Type: "JD"},
	"JD_WEB":             {Name: "京东支付", Type: "JD"},
	"YEE_WAP":            {Name: "易宝支付", Type: "YEE"},
	"YEE_WEB":            {Name: "易宝支付", Type: "YEE"},
	"YEE_NOBANKCARD":     {Name: "易宝点卡支付", Type: "YEE"},
	"KUAIQIAN_WAP":       {Name: "快钱支付", Type: "KUAIQIAN"},
	"KUAIQIAN_WEB":       {Name: "快钱支付", Type: "KUAIQIAN"},
	"PAYPAL_LIVE":        {Name: "PayPal", Type: "PAYPAL"},
	"PAYPAL_SANDBOX":     {Name: "PayPal", Type: "PAYPAL"},
	"BD_APP":             {Name: "百度钱包", Type: "BD"},
	"BD_WAP":             {Name: "百度钱包", Type: "BD"},
	"BD_WEB":             {Name: "百度钱包", Type: "BD"},
}

// Bill returns what is known about the REST API channel name, such as
// "WX_NATIVE", and whether it is one. Its Web and Wap are the name itself.
func Bill(name string) (Info, bool) {
	info, ok := bills[name]
	if ok {
		info.Web, info.Wap = name, name
	}
	return info, ok
}

// lookupAny returns what is known about a button code or a REST API
// channel name.
func lookupAny(code string) Info {
	if info, ok := infos[code]; ok {
		return info
	}
	if strings.ToUpper(code) == code {
		info, _ := Bill(code)
		return info
	}
	return Info{}
}
