// Package e2e holds the browser tests of the beecloud SDK: they render
// pages with the SDK and drive them in headless Chromium (chromedp). It is
// a module of its own so that importing the SDK never pulls in a browser
// driver. See browser_test.go for the harness.
package e2e
