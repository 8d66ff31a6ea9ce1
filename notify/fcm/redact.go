package fcm

import "strconv"

// String names the configuration without the service account's key.
func (c Config) String() string {
	return "fcm.Config{ProjectID: " + strconv.Quote(c.ProjectID) + ", Endpoint: " + strconv.Quote(c.Endpoint) +
		", Credentials: [hidden]}"
}

// GoString is String.
func (c Config) GoString() string { return c.String() }

// String names the client without its key or access token.
func (c *Client) String() string { return "fcm.Client{" + strconv.Quote(c.send) + "}" }

// GoString is String.
func (c *Client) GoString() string { return c.String() }
