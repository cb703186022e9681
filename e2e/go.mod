module github.com/paybutton/beecloud/e2e

go 1.25.0

require (
	github.com/chromedp/cdproto v0.159.0
	github.com/chromedp/chromedp v0.23.0
	github.com/paybutton/beecloud v0.1.0
	github.com/paybutton/beecloud/examples v0.0.0
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/google/uuid v1.6.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	rsc.io/qr v0.2.0 // indirect
)

replace github.com/paybutton/beecloud => ..

replace github.com/paybutton/beecloud/examples => ../examples

replace github.com/paybutton/beecloud/stores/pgstore => ../stores/pgstore

replace github.com/paybutton/beecloud/stores/redisstore => ../stores/redisstore
