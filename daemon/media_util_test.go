package daemon

import "github.com/h2non/bimg"

func imageWidth(b []byte) (int, error) {
	s, err := bimg.Size(b)
	return s.Width, err
}
