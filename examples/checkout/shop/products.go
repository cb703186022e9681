package shop

import (
	"fmt"
	"strings"
)

// Product is one thing the shop sells.
type Product struct {
	ID          string
	Title       string // sent to BeeCloud as the order title: at most 16 Chinese or 32 ASCII characters
	Description string
	Amount      int64 // price in 分
}

// Price formats the product's amount in yuan, such as "¥1.50".
func (p Product) Price() string { return yuan(p.Amount) }

// DefaultProducts is the example shop's catalog: cheap test goods, one with
// a Chinese title, whose sign must hash the title's UTF-8 bytes.
func DefaultProducts() []Product {
	return []Product{
		{ID: "test", Title: "测试商品", Description: "一分钱的测试商品 · A one-fen test item", Amount: 1},
		{ID: "tea", Title: "明前龙井绿茶", Description: "西湖龙井 50 克 · Longjing green tea, 50 g", Amount: 150},
		{ID: "mug", Title: "蜜蜂陶瓷马克杯", Description: "350 毫升陶瓷杯 · A 350 ml ceramic mug", Amount: 2900},
	}
}

// yuan formats an amount in 分 as yuan: 150 → "¥1.50".
func yuan(fen int64) string {
	return fmt.Sprintf("¥%d.%02d", fen/100, fen%100)
}

// channelNames are the buyer-facing names of the channels, by the start
// of sub_channel_type (BC_ALI_WEB is BeeCloud's own Alipay account).
var channelNames = []struct{ prefix, name string }{
	{"ALI", "支付宝 Alipay"}, {"BC_ALI", "支付宝 Alipay"},
	{"WX", "微信支付 WeChat Pay"}, {"BC_WX", "微信支付 WeChat Pay"},
	{"UN", "银联 UnionPay"}, {"BC_EXPRESS", "银联快捷 UnionPay"}, {"JD", "京东支付 JD Pay"}, {"BD", "百度钱包 Baidu Wallet"},
	{"YEE", "易宝支付 YeePay"}, {"KUAIQIAN", "快钱 99bill"}, {"PAYPAL", "PayPal"},
}

// channelName names the channel of a sub_channel_type such as "ALI_WEB"
// for the buyer; an unknown one is shown as it is.
func channelName(sub string) string {
	for _, c := range channelNames {
		if sub == c.prefix || strings.HasPrefix(sub, c.prefix+"_") {
			return c.name
		}
	}
	return sub
}
