package wxshop

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// FakeWeChat stands in for WeChat's OAuth endpoints when the example runs
// offline. Like snsapi_base inside WeChat, its authorize endpoint redirects
// at once, with a code that can be exchanged once, within five minutes,
// for the openid of one fixed test user.
//
// Serve it under a prefix and point [OAuth]'s URLs at
// prefix+"/connect/oauth2/authorize" and prefix+"/sns/oauth2/access_token".
type FakeWeChat struct {
	AppID  string
	Secret string
	// OpenID is the test user's openid.
	OpenID string

	mu    sync.Mutex
	codes map[string]time.Time // code → expiry
}

const fakeCodeLifetime = 5 * time.Minute

func (f *FakeWeChat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasSuffix(r.URL.Path, "/connect/oauth2/authorize"):
		f.authorize(w, r)
	case strings.HasSuffix(r.URL.Path, "/sns/oauth2/access_token"):
		f.token(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (f *FakeWeChat) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case q.Get("appid") != f.AppID:
		http.Error(w, "appid 参数错误 (invalid appid)", http.StatusBadRequest)
		return
	case q.Get("response_type") != "code" || q.Get("scope") != "snsapi_base":
		http.Error(w, "scope 参数错误或没有 scope 权限 (want response_type=code, scope=snsapi_base)", http.StatusBadRequest)
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || (redirect.Scheme != "http" && redirect.Scheme != "https") || redirect.Host == "" {
		http.Error(w, "redirect_uri 参数错误 (invalid redirect_uri)", http.StatusBadRequest)
		return
	}
	code := randomHex(16)
	f.mu.Lock()
	if f.codes == nil {
		f.codes = make(map[string]time.Time)
	}
	now := time.Now()
	for c, exp := range f.codes {
		if now.After(exp) {
			delete(f.codes, c)
		}
	}
	f.codes[code] = now.Add(fakeCodeLifetime)
	f.mu.Unlock()

	rq := redirect.Query()
	rq.Set("code", code)
	rq.Set("state", q.Get("state"))
	redirect.RawQuery = rq.Encode()
	redirect.Fragment = ""
	http.Redirect(w, r, redirect.String(), http.StatusFound) //nolint:gosec // G710: a fake OAuth server redirects where it is told, as WeChat does for a registered domain
}

func (f *FakeWeChat) token(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	fail := func(code int, msg string) {
		json.NewEncoder(w).Encode(map[string]any{"errcode": code, "errmsg": msg}) //nolint:errcheck // the client went away
	}
	switch {
	case q.Get("appid") != f.AppID:
		fail(40013, "invalid appid")
		return
	case q.Get("secret") != f.Secret:
		fail(40125, "invalid appsecret")
		return
	case q.Get("grant_type") != "authorization_code":
		fail(40002, "invalid grant_type")
		return
	}
	code := q.Get("code")
	f.mu.Lock()
	exp, ok := f.codes[code]
	delete(f.codes, code)
	f.mu.Unlock()
	if !ok || time.Now().After(exp) {
		fail(40029, "invalid code")
		return
	}
	json.NewEncoder(w).Encode(tokenResponse{ //nolint:errcheck // the client went away
		AccessToken: randomHex(32),
		ExpiresIn:   7200,
		OpenID:      f.OpenID,
		Scope:       "snsapi_base",
	})
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
