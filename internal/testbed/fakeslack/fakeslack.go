// Package fakeslack is a stand-in for Slack, for tests only: the Web API
// an app in Socket Mode uses (auth.test, apps.connections.open with the
// app-level token, chat.postMessage, chat.update, files.uploadV2
// (getUploadURLExternal, the upload, completeUploadExternal),
// reactions.add and .remove, with Bearer tokens, a 429 with Retry-After on demand) and the Socket Mode
// websocket: hello, events_api envelopes whose acks it records,
// websocket pings, and disconnect requests. A test says what users write
// (Mention, DM), drops connections (Drop) and reads what the apps posted.
package fakeslack

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Server is the fake Slack.
type Server struct {
	// URL is the Web API's base, what the fleet's slack_api names.
	URL string
	// PingEvery is how often the websocket is pinged.
	PingEvery time.Duration

	mu         sync.Mutex
	apps       []*App
	tickets    map[string]*App // Socket Mode URLs' tickets, one use each
	conns      map[*App][]*wsConn
	posts      []Post
	updates    []Update
	uploads    []Upload
	pending    map[string]*Upload // file id → an upload not yet completed
	shared     map[string]File    // file id → a user's file
	reactions  []string
	acks       map[string]bool
	opens      int
	sockets    int // websocket connections accepted
	limitNext  int
	retryAfter int
	rateLimits int
	ts         int64
	srv        *http.Server
}

// App is a Slack app with its tokens and its bot user.
type App struct{ AppToken, BotToken, BotUser string }

// Post is a message an app posted.
type Post struct {
	BotUser, Channel, Text, ThreadTS, TS string
}

// File is a file a user shares with a message: served at its private
// URL to a bearer of the app's bot token (files:read).
type File struct{ Name, Content string }

// Upload is a file an app shared with files.uploadV2.
type Upload struct {
	BotUser, Channel, ThreadTS, Name, Content, Comment string
}

// Update is a chat.update of an app's own message.
type Update struct {
	BotUser, Channel, TS, Text string
}

type wsConn struct {
	c  *websocket.Conn
	mu sync.Mutex
}

func (w *wsConn) sendJSON(v any) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.WriteJSON(v)
}

// New is a fake Slack, not yet serving.
func New() *Server {
	return &Server{PingEvery: time.Second, conns: map[*App][]*wsConn{}, acks: map[string]bool{}, tickets: map[string]*App{}, pending: map[string]*Upload{}, shared: map[string]File{}, ts: time.Now().Unix() * 1000000}
}

// AddApp registers an app.
func (s *Server) AddApp(a App) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apps = append(s.apps, &a)
}

// Serve serves on ln until Close.
func (s *Server) Serve(ln net.Listener) {
	s.URL = "http://" + ln.Addr().String() + "/api/"
	s.srv = &http.Server{Handler: s}
	go s.srv.Serve(ln)
}

// Close stops serving and cuts every connection.
func (s *Server) Close() {
	s.srv.Close()
	s.Drop()
}

// Start serves on a new loopback port until the test ends.
func (s *Server) Start(t testing.TB) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Serve(ln)
	t.Cleanup(s.Close)
}

// app is the app whose token (its app-level one, or its bot's) the call
// carries: as a Bearer header, or as the token argument of a form.
func (s *Server) app(r *http.Request, p url.Values, app bool) *App {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		token = p.Get("token")
	}
	if token == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.apps {
		if app && a.AppToken == token || !app && a.BotToken == token {
			return a
		}
	}
	return nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// params reads a Web API call's arguments, form or JSON.
func params(r *http.Request) url.Values {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var m map[string]any
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		json.Unmarshal(b, &m)
		v := url.Values{}
		for k, x := range m {
			v.Set(k, fmt.Sprint(x))
		}
		return v
	}
	r.ParseForm()
	return r.Form
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/link") {
		s.socket(w, r)
		return
	}
	if id, ok := strings.CutPrefix(r.URL.Path, "/files-pri/"); ok {
		s.mu.Lock()
		f, found := s.shared[id]
		s.mu.Unlock()
		if s.app(r, url.Values{}, false) == nil || !found {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		w.Write([]byte(f.Content))
		return
	}
	if id, ok := strings.CutPrefix(r.URL.Path, "/upload/"); ok {
		// The upload URL: the file's bytes, multipart.
		f, _, err := r.FormFile("file")
		s.mu.Lock()
		u := s.pending[id]
		s.mu.Unlock()
		if err != nil || u == nil {
			http.Error(w, "bad upload", http.StatusBadRequest)
			return
		}
		b, _ := io.ReadAll(io.LimitReader(f, 50<<20))
		s.mu.Lock()
		u.Content = string(b)
		s.mu.Unlock()
		w.Write([]byte("OK - " + fmt.Sprint(len(b))))
		return
	}
	method, ok := strings.CutPrefix(r.URL.Path, "/api/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	p := params(r)
	if method == "apps.connections.open" {
		a := s.app(r, p, true)
		if a == nil {
			writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
			return
		}
		ticket := randomID()
		s.mu.Lock()
		s.opens++
		s.tickets[ticket] = a
		s.mu.Unlock()
		writeJSON(w, map[string]any{"ok": true, "url": "ws://" + r.Host + "/link/?ticket=" + ticket})
		return
	}
	a := s.app(r, p, false)
	if a == nil {
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	switch method {
	case "auth.test":
		writeJSON(w, map[string]any{"ok": true, "url": "https://fake.slack.test/", "team": "fake", "user": "bot", "team_id": "T0FAKE",
			"user_id": a.BotUser, "bot_id": "B" + a.BotUser})
	case "chat.postMessage":
		s.mu.Lock()
		if s.limited(w) {
			return
		}
		ts := s.nextTS()
		s.posts = append(s.posts, Post{BotUser: a.BotUser, Channel: p.Get("channel"), Text: p.Get("text"), ThreadTS: p.Get("thread_ts"), TS: ts})
		s.mu.Unlock()
		writeJSON(w, map[string]any{"ok": true, "channel": p.Get("channel"), "ts": ts, "message": map[string]any{"text": p.Get("text"), "ts": ts}})
	case "chat.update":
		s.mu.Lock()
		if s.limited(w) {
			return
		}
		mine := false
		for _, x := range s.posts {
			if x.TS == p.Get("ts") && x.Channel == p.Get("channel") && x.BotUser == a.BotUser {
				mine = true
			}
		}
		if !mine {
			s.mu.Unlock()
			writeJSON(w, map[string]any{"ok": false, "error": "cant_update_message"})
			return
		}
		s.updates = append(s.updates, Update{BotUser: a.BotUser, Channel: p.Get("channel"), TS: p.Get("ts"), Text: p.Get("text")})
		s.mu.Unlock()
		writeJSON(w, map[string]any{"ok": true, "channel": p.Get("channel"), "ts": p.Get("ts"), "text": p.Get("text")})
	case "files.getUploadURLExternal":
		s.mu.Lock()
		id := "F" + randomID()[:10]
		s.pending[id] = &Upload{BotUser: a.BotUser, Name: p.Get("filename")}
		s.mu.Unlock()
		writeJSON(w, map[string]any{"ok": true, "upload_url": "http://" + r.Host + "/upload/" + id, "file_id": id})
	case "files.completeUploadExternal":
		var files []struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		}
		json.Unmarshal([]byte(p.Get("files")), &files)
		s.mu.Lock()
		var done []any
		for _, f := range files {
			if u := s.pending[f.ID]; u != nil && u.BotUser == a.BotUser {
				u.Channel, u.ThreadTS, u.Comment = p.Get("channel_id"), p.Get("thread_ts"), p.Get("initial_comment")
				s.uploads = append(s.uploads, *u)
				delete(s.pending, f.ID)
				done = append(done, map[string]any{"id": f.ID, "title": f.Title})
			}
		}
		s.mu.Unlock()
		writeJSON(w, map[string]any{"ok": len(done) > 0, "files": done})
	case "reactions.add", "reactions.remove":
		s.mu.Lock()
		s.reactions = append(s.reactions, method+" "+p.Get("name")+" "+p.Get("channel")+"/"+p.Get("timestamp"))
		s.mu.Unlock()
		writeJSON(w, map[string]any{"ok": true})
	default:
		writeJSON(w, map[string]any{"ok": false, "error": "unknown_method"})
	}
}

// limited answers 429 with Retry-After when the test asked for it; the
// caller holds mu, which limited releases when it answers.
func (s *Server) limited(w http.ResponseWriter) bool {
	if s.limitNext == 0 {
		return false
	}
	s.limitNext--
	s.rateLimits++
	retry := s.retryAfter
	s.mu.Unlock()
	w.Header().Set("Retry-After", fmt.Sprint(retry))
	w.WriteHeader(http.StatusTooManyRequests)
	writeJSON(w, map[string]any{"ok": false, "error": "ratelimited"})
	return true
}

func (s *Server) nextTS() string {
	s.ts++
	return fmt.Sprintf("%d.%06d", s.ts/1000000, s.ts%1000000)
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// socket serves one Socket Mode connection of the app whose ticket it is.
func (s *Server) socket(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	s.mu.Lock()
	a := s.tickets[ticket]
	delete(s.tickets, ticket)
	s.mu.Unlock()
	if a == nil {
		http.Error(w, "no such ticket", http.StatusForbidden)
		return
	}
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	conn := &wsConn{c: c}
	s.mu.Lock()
	s.conns[a] = append(s.conns[a], conn)
	s.sockets++
	s.mu.Unlock()
	defer func() {
		c.Close()
		s.mu.Lock()
		list := s.conns[a]
		for i, x := range list {
			if x == conn {
				s.conns[a] = append(list[:i], list[i+1:]...)
				break
			}
		}
		s.mu.Unlock()
	}()
	conn.sendJSON(map[string]any{"type": "hello", "num_connections": 1,
		"connection_info": map[string]any{"app_id": "A" + a.BotUser}, "debug_info": map[string]any{"host": "fakeslack", "approximate_connection_time": 3600}})
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(s.PingEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				conn.mu.Lock()
				err := c.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second))
				conn.mu.Unlock()
				if err != nil {
					return
				}
			}
		}
	}()
	for {
		var ack struct {
			EnvelopeID string `json:"envelope_id"`
		}
		if err := c.ReadJSON(&ack); err != nil {
			return
		}
		if ack.EnvelopeID != "" {
			s.mu.Lock()
			s.acks[ack.EnvelopeID] = true
			s.mu.Unlock()
		}
	}
}

// send delivers an inner event to the app's newest connection, and
// returns the envelope's id ("" when the app is not connected).
func (s *Server) send(a App, event map[string]any) string {
	s.mu.Lock()
	var app *App
	for _, x := range s.apps {
		if x.AppToken == a.AppToken {
			app = x
		}
	}
	var conn *wsConn
	if app != nil && len(s.conns[app]) > 0 {
		conn = s.conns[app][len(s.conns[app])-1]
	}
	s.mu.Unlock()
	if conn == nil {
		return ""
	}
	env := randomID()
	conn.sendJSON(map[string]any{"type": "events_api", "envelope_id": env, "accepts_response_payload": false, "retry_attempt": 0,
		"payload": map[string]any{"token": "verification", "team_id": "T0FAKE", "api_app_id": "A" + app.BotUser, "type": "event_callback",
			"event_id": "Ev" + env[:10], "event_time": time.Now().Unix(), "event": event}})
	return env
}

// Mention has user write text mentioning the app's bot in channel (in
// thread threadTS when not ""); it returns the message's ts and the
// envelope's id ("" if the app is not connected).
func (s *Server) Mention(a App, channel, user, text, threadTS string) (ts, envelope string) {
	s.mu.Lock()
	ts = s.nextTS()
	s.mu.Unlock()
	ev := map[string]any{"type": "app_mention", "user": user, "text": "<@" + a.BotUser + "> " + text, "ts": ts, "channel": channel, "event_ts": ts}
	if threadTS != "" {
		ev["thread_ts"] = threadTS
	}
	return ts, s.send(a, ev)
}

// MentionFiles is Mention with files shared in the message.
func (s *Server) MentionFiles(a App, channel, user, text string, files []File) (ts, envelope string) {
	s.mu.Lock()
	ts = s.nextTS()
	var fs []any
	for _, f := range files {
		id := "F" + randomID()[:10]
		s.shared[id] = f
		fs = append(fs, map[string]any{"id": id, "name": f.Name, "size": len(f.Content),
			"url_private_download": strings.TrimSuffix(s.URL, "/api/") + "/files-pri/" + id})
	}
	s.mu.Unlock()
	return ts, s.send(a, map[string]any{"type": "app_mention", "user": user, "text": "<@" + a.BotUser + "> " + text, "ts": ts, "channel": channel, "event_ts": ts, "files": fs})
}

// DM has user write text to the app's bot in direct message channel.
func (s *Server) DM(a App, channel, user, text string) (ts, envelope string) {
	s.mu.Lock()
	ts = s.nextTS()
	s.mu.Unlock()
	return ts, s.send(a, map[string]any{"type": "message", "channel_type": "im", "user": user, "text": text, "ts": ts, "channel": channel, "event_ts": ts})
}

// Message has user write text in channel (in thread threadTS when not
// ""), as the message.channels event an app subscribed to it gets; a
// text that mentions the app's bot comes as app_mention too, as on
// Slack.
func (s *Server) Message(a App, channel, user, text, threadTS string) (ts, envelope string) {
	s.mu.Lock()
	ts = s.nextTS()
	s.mu.Unlock()
	ev := map[string]any{"type": "message", "channel_type": "channel", "user": user, "text": text, "ts": ts, "channel": channel, "event_ts": ts}
	if threadTS != "" {
		ev["thread_ts"] = threadTS
	}
	env := s.send(a, ev)
	if strings.Contains(text, "<@"+a.BotUser+">") {
		ev = map[string]any{"type": "app_mention", "user": user, "text": text, "ts": ts, "channel": channel, "event_ts": ts}
		if threadTS != "" {
			ev["thread_ts"] = threadTS
		}
		s.send(a, ev)
	}
	return ts, env
}

// Acked reports whether the envelope was acknowledged.
func (s *Server) Acked(envelope string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acks[envelope]
}

// Connected reports whether the app has a Socket Mode connection.
func (s *Server) Connected(a App) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for x, cs := range s.conns {
		if x.AppToken == a.AppToken && len(cs) > 0 {
			return true
		}
	}
	return false
}

// Disconnect asks every connection to reconnect, as Slack does before it
// moves one.
func (s *Server) Disconnect() {
	s.mu.Lock()
	var all []*wsConn
	for _, cs := range s.conns {
		all = append(all, cs...)
	}
	s.mu.Unlock()
	for _, c := range all {
		c.sendJSON(map[string]any{"type": "disconnect", "reason": "refresh_requested", "debug_info": map[string]any{"host": "fakeslack"}})
	}
}

// Drop cuts every Socket Mode connection without a close frame.
func (s *Server) Drop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cs := range s.conns {
		for _, c := range cs {
			c.c.UnderlyingConn().Close()
		}
	}
}

// Updates are the apps' chat.update calls, in order.
func (s *Server) Updates() []Update {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Update(nil), s.updates...)
}

// Uploads are the files the apps shared, in order.
func (s *Server) Uploads() []Upload {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Upload(nil), s.uploads...)
}

// RateLimit answers the next n chat.postMessage and chat.update calls with 429 and
// Retry-After (seconds).
func (s *Server) RateLimit(n, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limitNext, s.retryAfter = n, retryAfter
}

// Posts are the messages the apps posted, in order.
func (s *Server) Posts() []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Post(nil), s.posts...)
}

// Reactions lists the reactions added and removed, as "method name
// channel/ts".
func (s *Server) Reactions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.reactions...)
}

// Sockets counts the Socket Mode websockets accepted.
func (s *Server) Sockets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sockets
}

// Stats counts connections opened and 429s answered.
func (s *Server) Stats() (opens, rateLimits int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opens, s.rateLimits
}

func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
