package beecloud

import "time"

// SetCompleteBudgets shortens how long h retries Store.Complete before it
// answers (inline) and then in the background, so that tests of store
// outages stay quick.
func SetCompleteBudgets(h *WebhookHandler, inline, background time.Duration) {
	h.inlineBudget, h.backgroundBudget = inline, background
}
