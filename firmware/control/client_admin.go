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
	return get[[]index.Call](ctx, c, "/v1/recordings", v)
}

// Recording returns one index entry (errors match index.ErrNotFound).
func (c *Client) Recording(ctx context.Context, id string) (index.Call, error) {
	return get[index.Call](ctx, c, "/v1/recordings/"+url.PathEscape(id), nil)
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
	return get[ConfigInfo](ctx, c, "/v1/config", nil)
}

// SetConfig sets one key of the configuration file and applies it.
func (c *Client) SetConfig(ctx context.Context, key, value string) (ConfigChange, error) {
	var out ConfigChange
	err := c.doBody(ctx, c.hc, http.MethodPost, "/v1/config", nil, configSetBody{Key: key, Value: value}, &out)
	return out, err
}

// Storage returns the data partition's state.
func (c *Client) Storage(ctx context.Context) (StorageInfo, error) {
	return get[StorageInfo](ctx, c, "/v1/storage", nil)
}

// LogTail returns the daemon's last n log lines (0: DefaultLogLines).
func (c *Client) LogTail(ctx context.Context, n int) ([]string, error) {
	v := lastNQuery(n)
	var out logBody
	err := c.do(ctx, http.MethodGet, "/v1/log", v, &out)
	return out.Lines, err
}

// LEDTest runs the LED self-test and returns when it is over.
func (c *Client) LEDTest(ctx context.Context) error {
	return c.send(ctx, http.MethodPost, "/v1/led/test", nil)
}

// Time returns the appliance's clock.
func (c *Client) Time(ctx context.Context) (TimeInfo, error) {
	return get[TimeInfo](ctx, c, "/v1/time", nil)
}

// DeleteRecording deletes a recording (admin).
func (c *Client) DeleteRecording(ctx context.Context, id string) error {
	return c.send(ctx, http.MethodDelete, "/v1/recordings/"+url.PathEscape(id), nil)
}

// Reboot reboots the appliance.
func (c *Client) Reboot(ctx context.Context) error {
	return c.send(ctx, http.MethodPost, "/v1/reboot", nil)
}

// OffloadNow starts an offload run (errors match ErrNotConfigured without
// an offload target).
func (c *Client) OffloadNow(ctx context.Context) error {
	return c.send(ctx, http.MethodPost, "/v1/offload/now", nil)
}

// OffloadStatus returns the offload state.
func (c *Client) OffloadStatus(ctx context.Context) (OffloadStatus, error) {
	return get[OffloadStatus](ctx, c, "/v1/offload", nil)
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
	return c.send(ctx, http.MethodPost, "/v1/logout", nil)
}

// ChangeOwnPassword sets the session's own account's password, given the
// current one.
func (c *Client) ChangeOwnPassword(ctx context.Context, name, current, password string) error {
	return c.send(ctx, http.MethodPost, "/v1/users/"+url.PathEscape(name)+"/password", userBody{Password: password, Current: current})
}

// Users lists the accounts.
func (c *Client) Users(ctx context.Context) ([]users.User, error) {
	return get[[]users.User](ctx, c, "/v1/users", nil)
}

// AddUser creates an account.
func (c *Client) AddUser(ctx context.Context, name string, role users.Role, password string) error {
	return c.send(ctx, http.MethodPost, "/v1/users", userBody{Name: name, Role: role, Password: password})
}

// RemoveUser deletes an account.
func (c *Client) RemoveUser(ctx context.Context, name string) error {
	return c.send(ctx, http.MethodDelete, "/v1/users/"+url.PathEscape(name), nil)
}

// SetPassword sets an account's password.
func (c *Client) SetPassword(ctx context.Context, name, password string) error {
	return c.send(ctx, http.MethodPost, "/v1/users/"+url.PathEscape(name)+"/password", userBody{Password: password})
}

// SetRole sets an account's role.
func (c *Client) SetRole(ctx context.Context, name string, role users.Role) error {
	return c.send(ctx, http.MethodPost, "/v1/users/"+url.PathEscape(name)+"/role", userBody{Role: role})
}

// Unlock ends an account's lockout.
func (c *Client) Unlock(ctx context.Context, name string) error {
	return c.send(ctx, http.MethodPost, "/v1/users/"+url.PathEscape(name)+"/unlock", nil)
}

// Audit returns the last n audit entries (0: DefaultAuditEntries).
func (c *Client) Audit(ctx context.Context, n int) ([]index.AuditEntry, error) {
	v := lastNQuery(n)
	return get[[]index.AuditEntry](ctx, c, "/v1/audit", v)
}
