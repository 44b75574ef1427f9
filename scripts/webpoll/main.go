// Command webpoll keeps the web UI's pages open during a load test, as a
// browser left on them would, and reports what it fetched:
//
//	go run ./scripts/webpoll -data DIR -add-user        (before the daemon starts)
//	go run ./scripts/webpoll -url https://127.0.0.1:8443 -data DIR   (until SIGTERM)
//
// It logs in with the account it added (an admin) and fetches the status,
// live calls and recordings pages and the newest recording's page and
// picture in turn, a round every -interval (1 s: five times what the
// pages' own refresh asks of a browser; 0: as fast as they answer),
// until it is stopped; then it prints the pages fetched and the errors. The certificate is the
// appliance's self-signed one (not checked: the test's own loopback).
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"spanrec/firmware/users"
)

const (
	account  = "capacity"
	password = "capacity-poller-password"
)

func main() {
	base := flag.String("url", "https://127.0.0.1:8443", "the web UI")
	data := flag.String("data", "", "the daemon's data directory (its users.json)")
	add := flag.Bool("add-user", false, "add the poller's admin account to DATA/users.json and exit")
	interval := flag.Duration("interval", time.Second, "time between rounds (0: none)")
	flag.Parse()
	if *add {
		st, err := users.Open(filepath.Join(*data, "users.json"), users.Options{})
		if err != nil {
			log.Fatal(err)
		}
		if err := st.Add(account, users.Admin, password); err != nil {
			log.Fatal(err)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	var fetched, failed int
	var last string
	get := func(path string) string {
		req, _ := http.NewRequestWithContext(ctx, "GET", *base+path, nil)
		resp, err := hc.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				failed++
				last = err.Error()
			}
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			failed++
			last = path + ": " + resp.Status
			return ""
		}
		fetched++
		return string(b)
	}
	for ctx.Err() == nil { // the daemon may still be starting
		form := url.Values{"name": {account}, "password": {password}}
		req, _ := http.NewRequestWithContext(ctx, "POST", *base+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", *base)
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.HasSuffix(resp.Request.URL.Path, "/recordings") {
				break
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
	rec := regexp.MustCompile(`<a class="rec" href="(/recordings/[^"]+)"`)
	tick := time.NewTicker(max(*interval, time.Microsecond))
	defer tick.Stop()
	for ctx.Err() == nil {
		get("/status")
		get("/calls")
		if m := rec.FindStringSubmatch(get("/recordings?sort=start")); m != nil {
			get(m[1])
			get(m[1] + "/picture.png")
		}
		if *interval > 0 {
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
		}
	}
	fmt.Printf("web poller: %d pages fetched (a round every %v), %d failed%s\n", fetched, *interval, failed, map[bool]string{true: " (last: " + last + ")"}[failed > 0])
}
