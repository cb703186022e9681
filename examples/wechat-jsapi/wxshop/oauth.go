package wxshop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// WeChat's web OAuth (网页授权) endpoints.
const (
	WeChatAuthorizeURL = "https://open.weixin.qq.com/connect/oauth2/authorize"
	WeChatTokenURL     = "https://api.weixin.qq.com/sns/oauth2/access_token" //nolint:gosec // G101: a URL, not a credential
)

// ErrOAuth is matched by errors.Is for every failed code exchange.
var ErrOAuth = errors.New("wxshop: wechat oauth failed")

// OAuth gets a WeChat user's openid through web OAuth with scope
// snsapi_base: silent inside WeChat, no consent page. The zero value talks
// to WeChat's real endpoints once AppID and Secret are set.
type OAuth struct {
	// AppID and Secret are the Official Account's (公众号) credentials,
	// not BeeCloud's.
	AppID  string
	Secret string
	// AuthorizeURL and TokenURL default to WeChat's; the example points
	// them at its fake when it runs offline.
	AuthorizeURL string
	TokenURL     string
	// Client makes the token request; nil means a client with a 10 s
	// timeout.
	Client *http.Client
}

// AuthCodeURL returns the address to send the buyer's browser to. WeChat
// answers by redirecting to redirectURI with code and state in the query.
// WeChat insists on this parameter order and on the #wechat_redirect
// fragment.
func (o OAuth) AuthCodeURL(redirectURI, state string) string {
	base := o.AuthorizeURL
	if base == "" {
		base = WeChatAuthorizeURL
	}
	var b strings.Builder
	b.WriteString(base)
	b.WriteString("?appid=")
	b.WriteString(url.QueryEscape(o.AppID))
	b.WriteString("&redirect_uri=")
	b.WriteString(url.QueryEscape(redirectURI))
	b.WriteString("&response_type=code&scope=snsapi_base&state=")
	b.WriteString(url.QueryEscape(state))
	b.WriteString("#wechat_redirect")
	return b.String()
}

// tokenResponse is WeChat's answer to the code exchange: either the tokens
// or errcode and errmsg.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	OpenID      string `json:"openid"`
	Scope       string `json:"scope"`
	ErrCode     int    `json:"errcode,omitempty"`
	ErrMsg      string `json:"errmsg,omitempty"`
}

// Exchange trades the code from the redirect for the user's openid.
func (o OAuth) Exchange(ctx context.Context, code string) (openid string, err error) {
	if code == "" {
		return "", fmt.Errorf("%w: no code (the user refused, or the redirect was opened outside WeChat)", ErrOAuth)
	}
	base := o.TokenURL
	if base == "" {
		base = WeChatTokenURL
	}
	q := url.Values{
		"appid":      {o.AppID},
		"secret":     {o.Secret},
		"code":       {code},
		"grant_type": {"authorization_code"},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"?"+q.Encode(), nil)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrOAuth, err)
	}
	client := o.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		// The *url.Error names the request's URL, whose query holds the
		// secret: name the endpoint alone, since the error gets logged.
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = base
		}
		return "", fmt.Errorf("%w: %w", ErrOAuth, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", fmt.Errorf("%w: reading the answer: %w", ErrOAuth, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%w: HTTP %s", ErrOAuth, resp.Status)
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return "", fmt.Errorf("%w: bad answer: %w", ErrOAuth, err)
	}
	if tr.ErrCode != 0 {
		return "", fmt.Errorf("%w: errcode %d: %s", ErrOAuth, tr.ErrCode, tr.ErrMsg)
	}
	if tr.OpenID == "" {
		return "", fmt.Errorf("%w: the answer has no openid", ErrOAuth)
	}
	return tr.OpenID, nil
}
