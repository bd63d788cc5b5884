// Package fakediscord is a stand-in for Discord, for tests only: the REST
// API a bot uses (GET /gateway, channel messages, typing, channels) and
// the gateway websocket with hello, heartbeat and its ack, identify and
// READY, resume (replaying what was missed) and RESUMED, invalid session,
// and MESSAGE_CREATE dispatches. A test says what users write (Say),
// drops every gateway connection (Drop), answers the next posts with 429
// and retry_after (RateLimit), and reads what the bots posted (Posts).
// Like Discord, it sends every bot of a server every message of that
// server, and a direct message only to its bot.
package fakediscord

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// APIVersion is the REST and gateway version served (discordgo's).
const APIVersion = "9"

// Server is the fake Discord.
type Server struct {
	// URL is its base, what the fleet's discord_api names.
	URL string
	// HeartbeatInterval is what hello asks of clients.
	HeartbeatInterval time.Duration

	mu         sync.Mutex
	bots       map[string]*Bot // by token
	channels   map[string]Channel
	sessions   map[string]*session
	posts      []Post
	typing     []string // channel ids
	limitNext  int
	retryAfter float64
	identifies int
	resumes    int
	rateLimits int
	next       int64 // snowflakes
	srv        *http.Server
}

// Bot is a bot application.
type Bot struct{ Token, ID, Name string }

// Channel is a channel of a server, or a thread (Parent set).
type Channel struct{ ID, Guild, Parent string }

// Post is a message a bot posted.
type Post struct {
	Bot, Channel, Content string
	// ReplyTo is the message it answers ("" for none).
	ReplyTo string
	// NoMentions says it allowed no mention (allowed_mentions.parse
	// empty and no users or roles).
	NoMentions bool
}

// Message is what a user writes.
type Message struct {
	Guild, Channel string // Guild "" for a direct message to DMTo
	DMTo           string // the bot's id, for a direct message
	Author         string // user id
	AuthorBot      bool
	Content        string
	Mentions       []string // ids of bots mentioned
}

type session struct {
	id   string
	n    int // the how-manieth session
	bot  *Bot
	seq  int64
	sent []json.RawMessage // every dispatch, for resume
	conn *wsConn           // nil while disconnected
}

// wsConn is one gateway connection; writes are serialized.
type wsConn struct {
	c  *websocket.Conn
	mu sync.Mutex
}

func (w *wsConn) send(b []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.WriteMessage(websocket.TextMessage, b)
}

func (w *wsConn) sendJSON(v any) error {
	b, _ := json.Marshal(v)
	return w.send(b)
}

// New is a fake Discord, not yet serving.
func New() *Server {
	return &Server{HeartbeatInterval: 2 * time.Second, bots: map[string]*Bot{}, channels: map[string]Channel{},
		sessions: map[string]*session{}, next: 1_300_000_000_000_000_000}
}

// AddBot registers a bot by its token (without "Bot ").
func (s *Server) AddBot(token, id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bots[token] = &Bot{Token: token, ID: id, Name: name}
}

// AddChannel registers a channel (or a thread, with its parent).
func (s *Server) AddChannel(c Channel) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels[c.ID] = c
}

// Serve serves on ln until Close.
func (s *Server) Serve(ln net.Listener) {
	s.URL = "http://" + ln.Addr().String() + "/"
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

func (s *Server) snowflake() string {
	s.next++
	return fmt.Sprint(s.next)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/gateway") {
		s.gateway(w, r)
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/api/v"+APIVersion+"/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	if path == "gateway" || path == "gateway/bot" {
		writeJSON(w, 200, map[string]any{"url": "ws://" + r.Host + "/gateway", "shards": 1})
		return
	}
	bot := s.bot(r.Header.Get("Authorization"))
	if bot == nil {
		writeJSON(w, 401, map[string]any{"message": "401: Unauthorized", "code": 0})
		return
	}
	parts := strings.Split(path, "/")
	switch {
	case len(parts) == 3 && parts[0] == "channels" && parts[2] == "messages" && r.Method == http.MethodPost:
		s.postMessage(w, r, bot, parts[1])
	case len(parts) == 3 && parts[0] == "channels" && parts[2] == "typing" && r.Method == http.MethodPost:
		s.mu.Lock()
		s.typing = append(s.typing, parts[1])
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case len(parts) == 2 && parts[0] == "channels" && r.Method == http.MethodGet:
		s.mu.Lock()
		c, ok := s.channels[parts[1]]
		s.mu.Unlock()
		if !ok {
			writeJSON(w, 404, map[string]any{"message": "Unknown Channel", "code": 10003})
			return
		}
		typ := 0
		if c.Parent != "" {
			typ = 11 // a public thread
		}
		writeJSON(w, 200, map[string]any{"id": c.ID, "type": typ, "guild_id": c.Guild, "parent_id": c.Parent})
	default:
		writeJSON(w, 404, map[string]any{"message": "404: Not Found", "code": 0})
	}
}

// bot is the bot whose REST authorization header this is: "Bot TOKEN",
// as Discord wants it.
func (s *Server) bot(auth string) *Bot {
	token, ok := strings.CutPrefix(auth, "Bot ")
	if !ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bots[token]
}

func (s *Server) postMessage(w http.ResponseWriter, r *http.Request, bot *Bot, channel string) {
	var body struct {
		Content         string `json:"content"`
		AllowedMentions *struct {
			Parse []string `json:"parse"`
			Users []string `json:"users"`
			Roles []string `json:"roles"`
		} `json:"allowed_mentions"`
		Reference *struct {
			MessageID string `json:"message_id"`
		} `json:"message_reference"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		writeJSON(w, 400, map[string]any{"message": "400: Bad Request", "code": 50109})
		return
	}
	s.mu.Lock()
	if s.limitNext > 0 {
		s.limitNext--
		s.rateLimits++
		retry := s.retryAfter
		s.mu.Unlock()
		w.Header().Set("X-RateLimit-Scope", "user")
		writeJSON(w, 429, map[string]any{"message": "You are being rate limited.", "retry_after": retry, "global": false})
		return
	}
	if len([]rune(body.Content)) > 2000 {
		s.mu.Unlock()
		writeJSON(w, 400, map[string]any{"message": "Invalid Form Body", "code": 50035})
		return
	}
	p := Post{Bot: bot.ID, Channel: channel, Content: body.Content}
	if body.Reference != nil {
		p.ReplyTo = body.Reference.MessageID
	}
	if am := body.AllowedMentions; am != nil && am.Parse != nil && len(am.Parse)+len(am.Users)+len(am.Roles) == 0 {
		p.NoMentions = true
	}
	s.posts = append(s.posts, p)
	id := s.snowflake()
	s.mu.Unlock()
	writeJSON(w, 200, map[string]any{"id": id, "channel_id": channel, "content": body.Content, "type": 0,
		"author": map[string]any{"id": bot.ID, "username": bot.Name, "bot": true}})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// gateway serves one gateway connection.
func (s *Server) gateway(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	conn := &wsConn{c: c}
	send := conn.sendJSON
	send(map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": s.HeartbeatInterval.Milliseconds()}})
	var sess *session
	defer func() {
		if sess != nil {
			s.mu.Lock()
			if sess.conn == conn {
				sess.conn = nil
			}
			s.mu.Unlock()
		}
	}()
	for {
		var p struct {
			Op int             `json:"op"`
			D  json.RawMessage `json:"d"`
		}
		if err := c.ReadJSON(&p); err != nil {
			return
		}
		switch p.Op {
		case 1: // heartbeat
			send(map[string]any{"op": 11})
		case 2: // identify
			var id struct {
				Token   string `json:"token"`
				Intents int    `json:"intents"`
			}
			json.Unmarshal(p.D, &id)
			bot := s.bot(id.Token)
			if bot == nil {
				c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4004, "Authentication failed."), time.Now().Add(time.Second))
				return
			}
			s.mu.Lock()
			sess = &session{id: randomID(), n: len(s.sessions), bot: bot, conn: conn}
			s.identifies++
			s.sessions[sess.id] = sess
			s.mu.Unlock()
			s.dispatch(sess, "READY", map[string]any{"v": 9, "session_id": sess.id, "resume_gateway_url": "ws://" + r.Host + "/gateway",
				"user": map[string]any{"id": bot.ID, "username": bot.Name, "bot": true}, "guilds": []any{}, "private_channels": []any{}})
		case 6: // resume
			var rs struct {
				Token     string `json:"token"`
				SessionID string `json:"session_id"`
				Seq       int64  `json:"seq"`
			}
			json.Unmarshal(p.D, &rs)
			s.mu.Lock()
			old := s.sessions[rs.SessionID]
			ok := old != nil && "Bot "+old.bot.Token == rs.Token
			var missed []json.RawMessage
			if ok {
				s.resumes++
				old.conn = conn
				missed = append(missed, old.sent[min(int(rs.Seq), len(old.sent)):]...)
				sess = old
			}
			s.mu.Unlock()
			if !ok {
				send(map[string]any{"op": 9, "d": false})
				continue
			}
			for _, ev := range missed {
				conn.send(ev)
			}
			s.dispatch(sess, "RESUMED", map[string]any{})
		}
	}
}

// dispatch sends an event to a session (or keeps it for its resume when
// it has no connection).
func (s *Server) dispatch(sess *session, typ string, d any) {
	s.mu.Lock()
	sess.seq++
	b, _ := json.Marshal(map[string]any{"op": 0, "t": typ, "s": sess.seq, "d": d})
	sess.sent = append(sess.sent, b)
	conn := sess.conn
	s.mu.Unlock()
	if conn != nil {
		conn.send(b)
	}
}

// Say has a user write m: every bot of m's server (or the bot of a
// direct message) receives it. It returns the message's id.
func (s *Server) Say(m Message) string {
	s.mu.Lock()
	id := s.snowflake()
	var to []*session
	// The latest session of each bot.
	latest := map[string]*session{}
	for _, sess := range s.sessions {
		if cur := latest[sess.bot.ID]; cur == nil || sess.n > cur.n {
			latest[sess.bot.ID] = sess
		}
	}
	for botID, sess := range latest {
		if m.Guild == "" && botID != m.DMTo {
			continue
		}
		to = append(to, sess)
	}
	mentions := []any{}
	for _, b := range m.Mentions {
		for _, bot := range s.bots {
			if bot.ID == b {
				mentions = append(mentions, map[string]any{"id": bot.ID, "username": bot.Name, "bot": true})
			}
		}
	}
	s.mu.Unlock()
	d := map[string]any{"id": id, "channel_id": m.Channel, "content": m.Content, "type": 0, "tts": false,
		"timestamp": time.Now().UTC().Format(time.RFC3339), "mentions": mentions, "mention_roles": []any{}, "attachments": []any{}, "embeds": []any{},
		"author": map[string]any{"id": m.Author, "username": "user" + m.Author, "bot": m.AuthorBot}}
	if m.Guild != "" {
		d["guild_id"] = m.Guild
	}
	for _, sess := range to {
		s.dispatch(sess, "MESSAGE_CREATE", d)
	}
	return id
}

// Drop cuts every gateway connection without a close frame, as a
// network failure would.
func (s *Server) Drop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sess := range s.sessions {
		if sess.conn != nil {
			sess.conn.c.UnderlyingConn().Close()
			sess.conn = nil
		}
	}
}

// RateLimit answers the next n posts with 429 and retry_after (seconds).
func (s *Server) RateLimit(n int, retryAfter float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limitNext, s.retryAfter = n, retryAfter
}

// Posts are the messages the bots posted, in order.
func (s *Server) Posts() []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Post(nil), s.posts...)
}

// Typing lists the channels typing indicators were sent to.
func (s *Server) Typing() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.typing...)
}

// Stats counts identifies, resumes and 429s answered.
func (s *Server) Stats() (identifies, resumes, rateLimits int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.identifies, s.resumes, s.rateLimits
}

// Connected reports whether bot id has a gateway connection.
func (s *Server) Connected(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sess := range s.sessions {
		if sess.bot.ID == id && sess.conn != nil {
			return true
		}
	}
	return false
}

func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
