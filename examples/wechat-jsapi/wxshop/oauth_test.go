package wxshop

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAuthCodeURL(t *testing.T) {
	o := OAuth{AppID: "wx520c15f417810387"}
	got := o.AuthCodeURL("https://shop.example.com/oauth/callback", "s1")
	want := "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx520c15f417810387" +
		"&redirect_uri=https%3A%2F%2Fshop.example.com%2Foauth%2Fcallback" +
		"&response_type=code&scope=snsapi_base&state=s1#wechat_redirect"
	assert.Equal(t, want, got, "AuthCodeURL")
}

// fakeServer serves a FakeWeChat and returns an OAuth pointed at it.
func fakeServer(t *testing.T) (*FakeWeChat, OAuth, *httptest.Server) {
	t.Helper()
	fake := &FakeWeChat{AppID: "wxtest", Secret: "wxsecret", OpenID: "oTestUser0000000000000000001"}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return fake, OAuth{
		AppID:        fake.AppID,
		Secret:       fake.Secret,
		AuthorizeURL: srv.URL + "/connect/oauth2/authorize",
		TokenURL:     srv.URL + "/sns/oauth2/access_token",
		Client:       srv.Client(),
	}, srv
}

// authorize follows the authorize URL one step and returns the code and
// state the fake redirected back with.
func authorize(t *testing.T, o OAuth, redirectURI, state string) (code, gotState string) {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(o.AuthCodeURL(redirectURI, state))
	require.NoError(t, err, "GET the authorize URL")
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode, "authorize status")
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err, "the authorize answer's Location")
	assert.True(t, strings.HasPrefix(loc.String(), redirectURI+"?"), "redirected to %q; want %q with a query", loc, redirectURI)
	return loc.Query().Get("code"), loc.Query().Get("state")
}

func TestOAuthExchange(t *testing.T) {
	fake, o, _ := fakeServer(t)
	code, state := authorize(t, o, "http://127.0.0.1:8081/oauth/callback", "xyz")
	assert.Equal(t, "xyz", state, "state")
	openid, err := o.Exchange(context.Background(), code)
	require.NoError(t, err, "Exchange")
	assert.Equal(t, fake.OpenID, openid, "Exchange")
	// A code works once, as WeChat's do.
	_, err = o.Exchange(context.Background(), code)
	require.ErrorIs(t, err, ErrOAuth, "second Exchange")
	assert.ErrorContains(t, err, "40029", "second Exchange: want errcode 40029")
}

func TestOAuthExchangeErrors(t *testing.T) {
	_, o, srv := fakeServer(t)
	code, _ := authorize(t, o, "http://127.0.0.1:8081/cb", "s")

	wrongSecret := o
	wrongSecret.Secret = "nope"
	notJSON := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>")) }))
	defer notJSON.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()

	tests := []struct {
		name string
		o    OAuth
		code string
		want string
	}{
		{"no code", o, "", "no code"},
		{"unknown code", o, "bogus", "errcode 40029"},
		{"wrong secret", wrongSecret, code, "errcode 40125"},
		{"not json", OAuth{TokenURL: notJSON.URL}, "c", "bad answer"},
		{"http error", OAuth{TokenURL: srv.URL + "/nowhere"}, "c", "HTTP 404"},
		{"unreachable", OAuth{TokenURL: down.URL}, "c", "connect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			openid, err := tt.o.Exchange(context.Background(), tt.code)
			require.ErrorIs(t, err, ErrOAuth, "Exchange(%q) = %q", tt.code, openid)
			assert.ErrorContains(t, err, tt.want, "Exchange(%q) = %q", tt.code, openid)
		})
	}
}

func TestFakeWeChatRefusesBadAuthorize(t *testing.T) {
	_, o, srv := fakeServer(t)
	tests := []struct {
		name, query string
	}{
		{"wrong appid", "appid=other&redirect_uri=http%3A%2F%2Fa%2Fcb&response_type=code&scope=snsapi_base"},
		{"wrong scope", "appid=wxtest&redirect_uri=http%3A%2F%2Fa%2Fcb&response_type=code&scope=snsapi_userinfo2"},
		{"bad redirect", "appid=wxtest&redirect_uri=javascript%3Aalert(1)&response_type=code&scope=snsapi_base"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := srv.Client().Get(o.AuthorizeURL + "?" + tt.query)
			require.NoError(t, err, "GET the authorize URL")
			resp.Body.Close()
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "GET the authorize URL ?%s", tt.query)
		})
	}
}

// TestOAuthExchangeErrorHidesSecret checks that a failed token request
// does not put the Official Account's secret, which travels in the query,
// into the error the shop logs.
func TestOAuthExchangeErrorHidesSecret(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic(http.ErrAbortHandler) // the connection drops mid-answer
	}))
	defer srv.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for name, tokenURL := range map[string]string{
		"connection refused": closed.URL + "/sns/oauth2/access_token",
		"connection dropped": srv.URL + "/sns/oauth2/access_token",
	} {
		t.Run(name, func(t *testing.T) {
			o := OAuth{AppID: "wxtest", Secret: "wx-secret-that-must-not-leak", TokenURL: tokenURL}
			_, err := o.Exchange(context.Background(), "code-1")
			require.ErrorIs(t, err, ErrOAuth, "Exchange")
			assert.NotContains(t, err.Error(), o.Secret, "Exchange: the error shows the secret")
		})
	}
}
