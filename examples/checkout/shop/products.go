package shop

import "fmt"

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
		{ID: "tea", Title: "Green tea 绿茶", Description: "明前龙井 50g · Longjing green tea, 50 g", Amount: 150},
		{ID: "mug", Title: "BeeCloud mug", Description: "陶瓷杯 · A ceramic mug", Amount: 2900},
	}
}

// yuan formats an amount in 分 as yuan: 150 → "¥1.50".
func yuan(fen int64) string {
	return fmt.Sprintf("¥%d.%02d", fen/100, fen%100)
}
