// Package beecloudtest provides helpers for testing code that uses package
// beecloud, in the way net/http/httptest sits beside net/http.
//
// Its webhook signer builds the bodies BeeCloud would POST to a merchant's
// webhook URL, signed with the current scheme or the legacy one:
// [NotificationBody] returns the bytes, [NewRequest] an *http.Request to
// pass to a handler's ServeHTTP, and [Paid] the notification for paying an
// order. With them a test can drive a [beecloud.WebhookHandler], or any
// handler built on [beecloud.Config.ParseNotification], without BeeCloud.
//
// It also holds a local BeeCloud sandbox: a server that stands in for
// BeeCloud's button script and pay pages, so that the whole pay flow, from
// the button to the webhook, runs offline in tests and demos.
package beecloudtest
