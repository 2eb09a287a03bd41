package oidc

import "testing"

// TestAllowed checks the allow-lists, and that with Google a domain is
// the Workspace's (its hd claim), not any account's verified address.
func TestAllowed(t *testing.T) {
	tests := []struct {
		name, issuer, email, hd string
		emails, domains         []string
		want                    bool
	}{
		{"no lists", "https://id.example", "a@x.org", "", nil, nil, true},
		{"listed email", "https://id.example", "a@x.org", "", []string{"A@X.org"}, nil, true},
		{"other email", "https://id.example", "b@x.org", "", []string{"a@x.org"}, nil, false},
		{"domain", "https://id.example", "a@corp.com", "", nil, []string{"corp.com"}, true},
		{"other domain", "https://id.example", "a@evil.com", "", nil, []string{"corp.com"}, false},
		{"google workspace", "https://accounts.google.com", "a@corp.com", "corp.com", nil, []string{"corp.com"}, true},
		{"google personal account with a corp address", "https://accounts.google.com", "a@corp.com", "", nil, []string{"corp.com"}, false},
		{"google other workspace", "https://accounts.google.com", "a@corp.com", "other.com", nil, []string{"corp.com"}, false},
		{"google listed email", "https://accounts.google.com", "a@gmail.com", "", []string{"a@gmail.com"}, []string{"corp.com"}, true},
	}
	for _, tt := range tests {
		c := New(Config{Issuer: tt.issuer, AllowedEmails: tt.emails, AllowedDomains: tt.domains})
		claims := map[string]any{}
		if tt.hd != "" {
			claims["hd"] = tt.hd
		}
		if got := c.allowed(tt.email, claims); got != tt.want {
			t.Errorf("%s: allowed = %v, want %v", tt.name, got, tt.want)
		}
	}
}
