package site

import "testing"

func TestEncodingQualities(t *testing.T) {
	for _, tc := range []struct {
		header string
		br, gz float64
	}{
		{"", 0, 0},
		{"gzip", 0, 1},
		{"gzip, deflate, br, zstd", 1, 1},
		{"br;q=0.5, gzip", 0.5, 1},
		{"BR ; Q=0.8,GZIP;q=0.2", 0.8, 0.2},
		{"gzip;q=0, br;q=0", 0, 0},
		{"gzip;q=0.0", 0, 0},
		{"*", 1, 1},
		{"*;q=0.3, gzip;q=0", 0.3, 0},
		{"x-gzip", 0, 1},
		{"br;q=nonsense", 0, 0},
		{"identity", 0, 0},
	} {
		br, gz := encodingQualities(tc.header)
		if br != tc.br || gz != tc.gz {
			t.Errorf("%q: br %v gzip %v, want %v %v", tc.header, br, gz, tc.br, tc.gz)
		}
	}
}
