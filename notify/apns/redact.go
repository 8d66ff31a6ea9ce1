package apns

import "strconv"

// String names the configuration without its key.
func (c Config) String() string {
	return "apns.Config{TeamID: " + strconv.Quote(c.TeamID) + ", KeyID: " + strconv.Quote(c.KeyID) +
		", Topic: " + strconv.Quote(c.Topic) + ", Endpoint: " + strconv.Quote(c.Endpoint) +
		", PushType: " + strconv.Quote(string(c.PushType)) + ", Key: [hidden]}"
}

// GoString is String.
func (c Config) GoString() string { return c.String() }

// String names the client without its key or provider token.
func (c *Client) String() string { return "apns.Client{" + c.cfg.String() + "}" }

// GoString is String.
func (c *Client) GoString() string { return c.String() }
