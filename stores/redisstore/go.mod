module github.com/paybutton/beecloud/stores/redisstore

go 1.24

require github.com/paybutton/beecloud v0.0.0

replace github.com/paybutton/beecloud => ../..
