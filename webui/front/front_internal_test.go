package front

import (
	"net"
	"testing"
)

// One client is an IPv4 address or an IPv6 /64.
func TestClientKey(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.7:4000":             "192.0.2.7",
		"[::ffff:192.0.2.7]:4000":    "192.0.2.7",
		"[2001:db8:1:2:3:4:5:6]:443": "2001:db8:1:2::/64",
		"[2001:db8:1:2:ff::9]:443":   "2001:db8:1:2::/64",
		"[2001:db8:1:3::1]:443":      "2001:db8:1:3::/64",
	} {
		ap, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := clientKey(ap); got != want {
			t.Errorf("%s: %s, want %s", addr, got, want)
		}
	}
}

func TestHeaderCount(t *testing.T) {
	raw := []byte("Host: a\r\nX-Host: b\r\nhost:c\r\nHOST : d\r\nAccept: */*\r\n\r\n")
	if got := headerCount(raw, "host"); got != 2 {
		t.Fatalf("%d Host lines, want 2", got)
	}
}

func BenchmarkHeaderCount(b *testing.B) {
	raw := []byte("Host: example.org\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\nAccept: text/html,application/xhtml+xml\r\n" +
		"Accept-Language: en\r\nAccept-Encoding: gzip, br\r\nConnection: keep-alive\r\n\r\n")
	b.ReportAllocs()
	for b.Loop() {
		headerCount(raw, "host")
	}
}
