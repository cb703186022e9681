module github.com/paybutton/beecloud/examples

go 1.24

require github.com/paybutton/beecloud v0.0.0

require github.com/google/uuid v1.6.0 // indirect

replace github.com/paybutton/beecloud => ..
