// Command mediaupload uploads N distinct photo-like JPEGs (12 megapixels by
// default) to a running daemon, C at a time, each waiting until every
// projection (the media variants included) has processed it, and prints
// how long that took.
//
//	go run ./bench/cmd/mediaupload -url http://127.0.0.1:8080 -email a@b.c -password … -n 20
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log"
	"math/rand"
	"mime/multipart"
	"net/http"
	"sync"
	"time"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "daemon address")
	email := flag.String("email", "", "account email")
	password := flag.String("password", "", "account password")
	n := flag.Int("n", 20, "uploads")
	conc := flag.Int("c", 4, "uploads at once")
	w := flag.Int("width", 4000, "image width")
	h := flag.Int("height", 3000, "image height")
	flag.Parse()

	body, _ := json.Marshal(map[string]string{"email": *email, "password": *password})
	resp, err := http.Post(*base+"/api/v1/auth/token", "application/json", bytes.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	var tok struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()

	jobs := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < *conc; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				var b bytes.Buffer
				mw := multipart.NewWriter(&b)
				fw, _ := mw.CreateFormFile("file", fmt.Sprintf("photo-%d.jpg", i))
				fw.Write(photo(*w, *h, int64(i)))
				mw.Close()
				req, _ := http.NewRequest("POST", *base+"/api/v1/media", &b)
				req.Header.Set("Content-Type", mw.FormDataContentType())
				req.Header.Set("Authorization", "Bearer "+tok.Token)
				req.Header.Set("Prefer", "wait=30")
				resp, err := (&http.Client{Timeout: 5 * time.Minute}).Do(req)
				if err != nil {
					log.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 201 {
					log.Fatalf("upload %d: %s", i, resp.Status)
				}
			}
		}()
	}
	for i := 0; i < *n; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	fmt.Printf("%d uploads of %d×%d processed in %s\n", *n, *w, *h, time.Since(start).Round(time.Millisecond))
}

func photo(w, h int, seed int64) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewSource(seed))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			n := uint8(rng.Intn(24))
			img.Set(x, y, color.RGBA{uint8(x*255/w) + n, uint8(y*255/h) + n, uint8(seed * 13), 255})
		}
	}
	var b bytes.Buffer
	jpeg.Encode(&b, img, &jpeg.Options{Quality: 88})
	return b.Bytes()
}
