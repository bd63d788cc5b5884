package testbed

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chromium is Debian's chromium, which make deps installs.
const Chromium = "/usr/bin/chromium"

// NewBrowser starts a headless Chromium of its own (its profile under
// /var/lib, thrown away when the test ends) and returns a chromedp
// context for one tab of it. The flags keep Chromium from reaching out
// to the network at all.
func NewBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(Chromium); err != nil {
		t.Fatalf("%s is not installed: run make deps", Chromium)
	}
	if err := os.MkdirAll("/var/lib/herdctl-test", 0o755); err != nil {
		t.Fatal(err)
	}
	profile, err := os.MkdirTemp("/var/lib/herdctl-test", "chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(profile) })
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(Chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(filepath.Join(profile, "profile")), chromedp.WindowSize(1280, 800),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-proxy-server", true))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Run starts the browser and lives as long as ctx.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// Within runs steps with a deadline, on the browser of ctx.
func Within(ctx context.Context, d time.Duration, steps ...chromedp.Action[chromedp.Void]) error {
	c, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return chromedp.Do(c, steps...)
}

// CockpitLogin logs user in through Cockpit's own login form at base
// (http://HOST:PORT) and waits for the shell.
func CockpitLogin(t *testing.T, ctx context.Context, base, user, password string) {
	t.Helper()
	err := Within(ctx, 60*time.Second,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible("#login-user-input"),
		chromedp.SendKeys("#login-user-input", user),
		chromedp.SendKeys("#login-password-input", password),
		chromedp.Click("#login-button"))
	if err != nil {
		t.Fatalf("logging in to Cockpit as %s: %v", user, err)
	}
	// The login navigates: ask again until the shell's frame is there.
	if err := WaitJS(ctx, 60*time.Second, `document.querySelector('iframe[name^="cockpit1:localhost"]') !== null`); err != nil {
		t.Fatalf("logging in to Cockpit as %s: no shell after the login form: %v", user, err)
	}
}

// WaitJS waits until the expression is true in the page, asking again
// across navigations.
func WaitJS(ctx context.Context, d time.Duration, js string) error {
	deadline := time.Now().Add(d)
	var err error
	for time.Now().Before(deadline) {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		var ok bool
		ok, err = chromedp.Run(c, chromedp.Evaluate[bool]("!!("+js+")"))
		cancel()
		if err == nil && ok {
			return nil
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err == nil {
		err = fmt.Errorf("still false after %s", d)
	}
	return err
}
