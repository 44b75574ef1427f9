package control

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"spanrec/firmware/index"
	"spanrec/firmware/users"
)

// Recordings returns the index entries matching q, newest first (q's
// Text, Limit and All: whether quarantined ones are among them is the
// daemon's to say, by the caller's role).
func (c *Client) Recordings(ctx context.Context, q index.Query) ([]index.Call, error) {
	v := url.Values{}
	if q.Text != "" {
		v.Set("q", q.Text)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.All {
		v.Set("all", "1")
	}
	var out []index.Call
	err := c.do(ctx, http.MethodGet, "/v1/recordings", v, &out)
	return out, err
}

// Recording returns one index entry (errors match index.ErrNotFound).
func (c *Client) Recording(ctx context.Context, id string) (index.Call, error) {
	var out index.Call
	err := c.do(ctx, http.MethodGet, "/v1/recordings/"+url.PathEscape(id), nil, &out)
	return out, err
}

// Verify checks one recording, or with id "all" every recording and the
// hash chain. It is bounded by ctx only (checking everything takes long).
func (c *Client) Verify(ctx context.Context, id string) (Verification, error) {
	var out Verification
	err := c.doBody(ctx, &http.Client{Transport: c.tr}, http.MethodGet, "/v1/recordings/"+url.PathEscape(id)+"/verify", nil, nil, &out)
	return out, err
}

// Config returns the effective configuration.
func (c *Client) Config(ctx context.Context) (ConfigInfo, error) {
	var out ConfigInfo
	err := c.do(ctx, http.MethodGet, "/v1/config", nil, &out)
	return out, err
}

// SetConfig sets one key of the configuration file and applies it.
func (c *Client) SetConfig(ctx context.Context, key, value string) (ConfigChange, error) {
	var out ConfigChange
	err := c.doBody(ctx, c.hc, http.MethodPost, "/v1/config", nil, configSetBody{Key: key, Value: value}, &out)
	return out, err
}

// Storage returns the data partition's state.
func (c *Client) Storage(ctx context.Context) (StorageInfo, error) {
	var out StorageInfo
	err := c.do(ctx, http.MethodGet, "/v1/storage", nil, &out)
	return out, err
}

// LogTail returns the daemon's last n log lines (0: DefaultLogLines).
func (c *Client) LogTail(ctx context.Context, n int) ([]string, error) {
	var v url.Values
	if n > 0 {
		v = url.Values{"n": {strconv.Itoa(n)}}
	}
	var out logBody
	err := c.do(ctx, http.MethodGet, "/v1/log", v, &out)
	return out.Lines, err
}

// LEDTest runs the LED self-test and returns when it is over.
func (c *Client) LEDTest(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/v1/led/test", nil, &okBody{})
}

// Time returns the appliance's clock.
func (c *Client) Time(ctx context.Context) (TimeInfo, error) {
	var out TimeInfo
	err := c.do(ctx, http.MethodGet, "/v1/time", nil, &out)
	return out, err
}

// DeleteRecording deletes a recording (admin).
func (c *Client) DeleteRecording(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/recordings/"+url.PathEscape(id), nil, &okBody{})
}

// Reboot reboots the appliance.
func (c *Client) Reboot(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/v1/reboot", nil, &okBody{})
}

// OffloadNow starts an offload run (errors match ErrNotConfigured without
// an offload target).
func (c *Client) OffloadNow(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/v1/offload/now", nil, &okBody{})
}

// OffloadStatus returns the offload state.
func (c *Client) OffloadStatus(ctx context.Context) (OffloadStatus, error) {
	var out OffloadStatus
	err := c.do(ctx, http.MethodGet, "/v1/offload", nil, &out)
	return out, err
}

// LoginRequired reports whether the console must ask for a login.
func (c *Client) LoginRequired(ctx context.Context) (bool, error) {
	var out loginRequiredBody
	err := c.do(ctx, http.MethodGet, "/v1/login", nil, &out)
	return out.Required, err
}

// Login checks name's password and starts a console session: use
// WithToken(result.Token) for the session's requests and Logout at its
// end. Every failure matches users.ErrBadCredentials.
func (c *Client) Login(ctx context.Context, name, password string) (LoginResult, error) {
	var out LoginResult
	err := c.doBody(ctx, c.hc, http.MethodPost, "/v1/login", nil, loginBody{Name: name, Password: password}, &out)
	return out, err
}

// Logout ends the client's session (WithToken).
func (c *Client) Logout(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/v1/logout", nil, &okBody{})
}

// ChangeOwnPassword sets the session's own account's password, given the
// current one.
func (c *Client) ChangeOwnPassword(ctx context.Context, name, current, password string) error {
	return c.doBody(ctx, c.hc, http.MethodPost, "/v1/users/"+url.PathEscape(name)+"/password", nil, userBody{Password: password, Current: current}, &okBody{})
}

// Users lists the accounts.
func (c *Client) Users(ctx context.Context) ([]users.User, error) {
	var out []users.User
	err := c.do(ctx, http.MethodGet, "/v1/users", nil, &out)
	return out, err
}

// AddUser creates an account.
func (c *Client) AddUser(ctx context.Context, name string, role users.Role, password string) error {
	return c.doBody(ctx, c.hc, http.MethodPost, "/v1/users", nil, userBody{Name: name, Role: role, Password: password}, &okBody{})
}

// RemoveUser deletes an account.
func (c *Client) RemoveUser(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/v1/users/"+url.PathEscape(name), nil, &okBody{})
}

// SetPassword sets an account's password.
func (c *Client) SetPassword(ctx context.Context, name, password string) error {
	return c.doBody(ctx, c.hc, http.MethodPost, "/v1/users/"+url.PathEscape(name)+"/password", nil, userBody{Password: password}, &okBody{})
}

// SetRole sets an account's role.
func (c *Client) SetRole(ctx context.Context, name string, role users.Role) error {
	return c.doBody(ctx, c.hc, http.MethodPost, "/v1/users/"+url.PathEscape(name)+"/role", nil, userBody{Role: role}, &okBody{})
}

// Unlock ends an account's lockout.
func (c *Client) Unlock(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodPost, "/v1/users/"+url.PathEscape(name)+"/unlock", nil, &okBody{})
}

// Audit returns the last n audit entries (0: DefaultAuditEntries).
func (c *Client) Audit(ctx context.Context, n int) ([]index.AuditEntry, error) {
	var v url.Values
	if n > 0 {
		v = url.Values{"n": {strconv.Itoa(n)}}
	}
	var out []index.AuditEntry
	err := c.do(ctx, http.MethodGet, "/v1/audit", v, &out)
	return out, err
}
