module github.com/paybutton/beecloud/e2e

go 1.24

require github.com/paybutton/beecloud v0.0.0

replace github.com/paybutton/beecloud => ..
