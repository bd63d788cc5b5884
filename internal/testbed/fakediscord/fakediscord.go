// Package fakediscord is a stand-in for Discord, for tests only: the REST
// API a bot uses (GET /gateway, channel messages, typing, channels) and
// the gateway websocket with hello, heartbeat and its ack, identify and
// READY, resume (replaying what was missed) and RESUMED, invalid session,
// and MESSAGE_CREATE dispatches; guild slash commands (their bulk
// registration, INTERACTION_CREATE, the deferred callback and the edit
// of its original answer) and message edits (PATCH). A test says what
// users write (Say) or which command they use (Command), drops every
// gateway connection (Drop), answers the next posts and edits with 429
// and retry_after (RateLimit), and reads what the bots posted (Posts)
// and edited (Edits).
// Like Discord, it sends every bot of a server every message of that
// server, and a direct message only to its bot.
package fakediscord

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

// APIVersion is the REST and gateway version served (discordgo's).
const APIVersion = "9"

// Server is the fake Discord.
type Server struct {
	// URL is its base, what the fleet's discord_api names.
	URL string
	// HeartbeatInterval is what hello asks of clients.
	HeartbeatInterval time.Duration

	mu                 sync.Mutex
	bots               map[string]*Bot // by token
	channels           map[string]Channel
	sessions           map[string]*session
	posts              []Post
	edits              []Edit
	commands           map[string][]string // guild → command names registered
	callbacks          map[string]int      // interaction id → callback type
	callbackFlags      map[string]int      // interaction id → its callback's message flags
	tokens             map[string]string   // interaction token → its id
	interactionChannel map[string]string   // interaction id → its channel
	files              map[string]File     // attachment id → attachment
	typing             []string            // channel ids
	limitNext          int
	retryAfter         float64
	identifies         int
	resumes            int
	rateLimits         int
	next               int64 // snowflakes
	srv                *http.Server
}

// Bot is a bot application.
type Bot struct{ Token, ID, Name string }

// Channel is a channel of a server, or a thread (Parent set).
type Channel struct{ ID, Guild, Parent string }

// Post is a message a bot posted (or the answer to a slash command,
// Interaction set).
type Post struct {
	ID, Bot, Channel, Content string
	// Interaction is the slash command this answers ("" for a message).
	Interaction string
	// ReplyTo is the message it answers ("" for none).
	ReplyTo string
	// NoMentions says it allowed no mention (allowed_mentions.parse
	// empty and no users or roles).
	NoMentions bool
	// NoEmbeds says it asked Discord for no embed (flags
	// SUPPRESS_EMBEDS): no link in it is fetched to unfurl it.
	NoEmbeds bool
	// Files are the files uploaded with it (multipart).
	Files []File
}

// Edit is an edit of a bot's message.
type Edit struct {
	Bot, Channel, ID, Content string
	NoMentions, NoEmbeds      bool
}

// suppressEmbeds is Discord's message flag SUPPRESS_EMBEDS.
const suppressEmbeds = 1 << 2

// Message is what a user writes.
type Message struct {
	Guild, Channel string // Guild "" for a direct message to DMTo
	DMTo           string // the bot's id, for a direct message
	Author         string // user id
	AuthorBot      bool
	Content        string
	Mentions       []string // ids of bots mentioned
	// Files are attached: served on the fake's CDN path.
	Files []File
}

// File is an attachment: its name, content, and the size the message
// declares (that of Content when 0).
type File struct {
	Name, Content string
	Size          int
}

type session struct {
	id      string
	intents int
	n       int // the how-manieth session
	bot     *Bot
	seq     int64
	sent    []json.RawMessage // every dispatch, for resume
	conn    *wsConn           // nil while disconnected
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
		sessions: map[string]*session{}, next: 1_300_000_000_000_000_000,
		commands: map[string][]string{}, callbacks: map[string]int{}, callbackFlags: map[string]int{}, tokens: map[string]string{}, interactionChannel: map[string]string{}, files: map[string]File{}}
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
	if strings.HasPrefix(r.URL.Path, "/attachments/") {
		// /attachments/CHANNEL/ID/NAME, found by its id.
		parts := strings.SplitN(strings.TrimPrefix(r.URL.EscapedPath(), "/attachments/"), "/", 3)
		s.mu.Lock()
		f, ok := s.files[parts[min(1, len(parts)-1)]]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(f.Content))
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
	parts := strings.Split(path, "/")
	// Interaction callbacks and their webhooks are authorized by the
	// interaction's token alone, as on Discord.
	if len(parts) == 4 && parts[0] == "interactions" && parts[3] == "callback" && r.Method == http.MethodPost {
		s.callback(w, r, parts[1], parts[2])
		return
	}
	if len(parts) == 5 && parts[0] == "webhooks" && parts[3] == "messages" && r.Method == http.MethodPatch {
		s.editOriginal(w, r, parts[1], parts[2])
		return
	}
	bot := s.bot(r.Header.Get("Authorization"))
	if bot == nil {
		writeJSON(w, 401, map[string]any{"message": "401: Unauthorized", "code": 0})
		return
	}
	switch {
	case len(parts) == 5 && parts[0] == "applications" && parts[2] == "guilds" && parts[4] == "commands" && r.Method == http.MethodPut:
		s.registerCommands(w, r, parts[3])
	case len(parts) == 4 && parts[0] == "channels" && parts[2] == "messages" && r.Method == http.MethodPatch:
		s.editMessage(w, r, bot, parts[1], parts[3])
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
		Content         string           `json:"content"`
		AllowedMentions *allowedMentions `json:"allowed_mentions"`
		Flags           int              `json:"flags"`
		Reference       *struct {
			MessageID string `json:"message_id"`
		} `json:"message_reference"`
	}
	var files []File
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		// A message with files: its JSON in payload_json, the files in
		// files[N], as Discord takes them.
		if err := r.ParseMultipartForm(25 << 20); err != nil || json.Unmarshal([]byte(r.FormValue("payload_json")), &body) != nil {
			writeJSON(w, 400, map[string]any{"message": "400: Bad Request", "code": 50109})
			return
		}
		for i := 0; ; i++ {
			f, fh, err := r.FormFile(fmt.Sprintf("files[%d]", i))
			if err != nil {
				break
			}
			b, _ := io.ReadAll(f)
			f.Close()
			files = append(files, File{Name: fh.Filename, Content: string(b), Size: len(b)})
		}
	} else if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		writeJSON(w, 400, map[string]any{"message": "400: Bad Request", "code": 50109})
		return
	}
	s.mu.Lock()
	if s.limited(w) {
		return
	}
	if len([]rune(body.Content)) > 2000 {
		s.mu.Unlock()
		writeJSON(w, 400, map[string]any{"message": "Invalid Form Body", "code": 50035})
		return
	}
	id := s.snowflake()
	p := Post{ID: id, Bot: bot.ID, Channel: channel, Content: body.Content, Files: files}
	if body.Reference != nil {
		p.ReplyTo = body.Reference.MessageID
	}
	p.NoMentions = body.AllowedMentions.none()
	p.NoEmbeds = body.Flags&suppressEmbeds != 0
	s.posts = append(s.posts, p)
	s.mu.Unlock()
	writeJSON(w, 200, map[string]any{"id": id, "channel_id": channel, "content": body.Content, "type": 0,
		"author": map[string]any{"id": bot.ID, "username": bot.Name, "bot": true}})
}

type allowedMentions struct {
	Parse []string `json:"parse"`
	Users []string `json:"users"`
	Roles []string `json:"roles"`
}

// none says it allows no mention at all.
func (am *allowedMentions) none() bool {
	return am != nil && am.Parse != nil && len(am.Parse)+len(am.Users)+len(am.Roles) == 0
}

// limited answers 429 when the test asked for it; the caller holds mu,
// which limited releases when it answers.
func (s *Server) limited(w http.ResponseWriter) bool {
	if s.limitNext == 0 {
		return false
	}
	s.limitNext--
	s.rateLimits++
	retry := s.retryAfter
	s.mu.Unlock()
	w.Header().Set("X-RateLimit-Scope", "user")
	writeJSON(w, 429, map[string]any{"message": "You are being rate limited.", "retry_after": retry, "global": false})
	return true
}

type editBody struct {
	Content         *string          `json:"content"`
	AllowedMentions *allowedMentions `json:"allowed_mentions"`
	Flags           int              `json:"flags"`
}

// editMessage is PATCH of a bot's own message.
func (s *Server) editMessage(w http.ResponseWriter, r *http.Request, bot *Bot, channel, id string) {
	var body editBody
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil || body.Content == nil {
		writeJSON(w, 400, map[string]any{"message": "400: Bad Request", "code": 50109})
		return
	}
	s.mu.Lock()
	if s.limited(w) {
		return
	}
	mine := false
	for _, p := range s.posts {
		if p.ID == id && p.Channel == channel && p.Bot == bot.ID {
			mine = true
		}
	}
	if !mine {
		s.mu.Unlock()
		writeJSON(w, 403, map[string]any{"message": "Cannot edit a message authored by another user", "code": 50005})
		return
	}
	if len([]rune(*body.Content)) > 2000 {
		s.mu.Unlock()
		writeJSON(w, 400, map[string]any{"message": "Invalid Form Body", "code": 50035})
		return
	}
	s.edits = append(s.edits, Edit{Bot: bot.ID, Channel: channel, ID: id, Content: *body.Content, NoMentions: body.AllowedMentions.none(), NoEmbeds: body.Flags&suppressEmbeds != 0})
	s.mu.Unlock()
	writeJSON(w, 200, map[string]any{"id": id, "channel_id": channel, "content": *body.Content, "type": 0,
		"author": map[string]any{"id": bot.ID, "username": bot.Name, "bot": true}})
}

// registerCommands is the bulk overwrite of a guild's slash commands.
func (s *Server) registerCommands(w http.ResponseWriter, r *http.Request, guild string) {
	var cmds []struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&cmds); err != nil {
		writeJSON(w, 400, map[string]any{"message": "400: Bad Request", "code": 50109})
		return
	}
	var names []string
	out := []any{}
	for _, c := range cmds {
		if c.Name == "" || c.Name != strings.ToLower(c.Name) || len(c.Name) > 32 || c.Description == "" || len(c.Description) > 100 {
			writeJSON(w, 400, map[string]any{"message": "Invalid Form Body", "code": 50035})
			return
		}
		names = append(names, c.Name)
		out = append(out, map[string]any{"id": "1", "name": c.Name, "description": c.Description, "type": 1, "guild_id": guild})
	}
	s.mu.Lock()
	s.commands[guild] = names
	s.mu.Unlock()
	writeJSON(w, 200, out)
}

// callback is an interaction's response; only a deferred one (type 5)
// is accepted, once.
func (s *Server) callback(w http.ResponseWriter, r *http.Request, id, token string) {
	var body struct {
		Type int `json:"type"`
		Data *struct {
			Flags int `json:"flags"`
		} `json:"data"`
	}
	json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokens[token] != id || s.callbacks[id] != 0 {
		writeJSON(w, 400, map[string]any{"message": "Interaction has already been acknowledged.", "code": 40060})
		return
	}
	s.callbacks[id] = body.Type
	if body.Data != nil {
		s.callbackFlags[id] = body.Data.Flags
	}
	w.WriteHeader(http.StatusNoContent)
}

// editOriginal is the edit of a slash command's answer through its
// token: the first makes the answer a message of the channel.
func (s *Server) editOriginal(w http.ResponseWriter, r *http.Request, app, token string) {
	var body editBody
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil || body.Content == nil {
		writeJSON(w, 400, map[string]any{"message": "400: Bad Request", "code": 50109})
		return
	}
	s.mu.Lock()
	if s.limited(w) {
		return
	}
	id, ok := s.tokens[token]
	if !ok || s.callbacks[id] == 0 {
		s.mu.Unlock()
		writeJSON(w, 404, map[string]any{"message": "Unknown Webhook", "code": 10015})
		return
	}
	var post *Post
	for i := range s.posts {
		if s.posts[i].Interaction == id {
			post = &s.posts[i]
		}
	}
	if post == nil {
		s.posts = append(s.posts, Post{ID: s.snowflake(), Bot: app, Channel: s.interactionChannel[id], Content: *body.Content, Interaction: id, NoMentions: body.AllowedMentions.none(),
			NoEmbeds: (s.callbackFlags[id]|body.Flags)&suppressEmbeds != 0})
		post = &s.posts[len(s.posts)-1]
	} else {
		s.edits = append(s.edits, Edit{Bot: app, Channel: post.Channel, ID: post.ID, Content: *body.Content, NoMentions: body.AllowedMentions.none(),
			NoEmbeds: (s.callbackFlags[id]|body.Flags)&suppressEmbeds != 0})
	}
	p := *post
	s.mu.Unlock()
	writeJSON(w, 200, map[string]any{"id": p.ID, "channel_id": p.Channel, "content": *body.Content, "type": 20,
		"author": map[string]any{"id": app, "bot": true}})
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
			sess = &session{id: randomID(), n: len(s.sessions), bot: bot, conn: conn, intents: id.Intents}
			s.identifies++
			s.sessions[sess.id] = sess
			s.mu.Unlock()
			s.dispatch(sess, "READY", map[string]any{"v": 9, "session_id": sess.id, "resume_gateway_url": "ws://" + r.Host + "/gateway",
				"application": map[string]any{"id": bot.ID, "flags": 0},
				"user":        map[string]any{"id": bot.ID, "username": bot.Name, "bot": true}, "guilds": []any{}, "private_channels": []any{}})
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
	attachments := []any{}
	s.mu.Lock()
	for _, f := range m.Files {
		aid := s.snowflake()
		path := "/attachments/" + m.Channel + "/" + aid + "/" + url.PathEscape(f.Name)
		s.files[aid] = f
		size := f.Size
		if size == 0 {
			size = len(f.Content)
		}
		attachments = append(attachments, map[string]any{"id": aid, "filename": f.Name, "size": size, "url": strings.TrimSuffix(s.URL, "/") + path})
	}
	s.mu.Unlock()
	d := map[string]any{"id": id, "channel_id": m.Channel, "content": m.Content, "type": 0, "tts": false,
		"timestamp": time.Now().UTC().Format(time.RFC3339), "mentions": mentions, "mention_roles": []any{}, "attachments": attachments, "embeds": []any{},
		"author": map[string]any{"id": m.Author, "username": "user" + m.Author, "bot": m.AuthorBot}}
	if m.Guild != "" {
		d["guild_id"] = m.Guild
	}
	for _, sess := range to {
		s.dispatch(sess, "MESSAGE_CREATE", d)
	}
	return id
}

// Invocation is a user's use of a slash command.
type Invocation struct {
	Guild, Channel string // Guild "" in a direct message to DMTo
	DMTo           string // the bot's id, for a direct message
	User           string
	Name           string // the command
}

// Command has a user use a slash command of bot: the bot receives an
// INTERACTION_CREATE. It returns the interaction's id.
func (s *Server) Command(bot string, c Invocation) string {
	s.mu.Lock()
	id, token := s.snowflake(), "tok"+randomID()
	s.tokens[token] = id
	s.interactionChannel[id] = c.Channel
	var to *session
	for _, sess := range s.sessions {
		if sess.bot.ID == bot && (to == nil || sess.n > to.n) {
			to = sess
		}
	}
	s.mu.Unlock()
	user := map[string]any{"id": c.User, "username": "user" + c.User, "bot": false}
	d := map[string]any{"id": id, "application_id": bot, "type": 2, "token": token, "version": 1, "channel_id": c.Channel,
		"data": map[string]any{"id": "1", "name": c.Name, "type": 1}}
	if c.Guild != "" {
		d["guild_id"] = c.Guild
		d["member"] = map[string]any{"user": user, "roles": []any{}}
	} else {
		d["user"] = user
	}
	if to != nil {
		s.dispatch(to, "INTERACTION_CREATE", d)
	}
	return id
}

// Commands are the slash command names registered in guild.
func (s *Server) Commands(guild string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.commands[guild]...)
}

// Acknowledged is the type of interaction id's callback, 0 for none.
func (s *Server) Acknowledged(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callbacks[id]
}

// Edits are the edits of the bots' messages, in order.
func (s *Server) Edits() []Edit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Edit(nil), s.edits...)
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

// RateLimit answers the next n posts and edits with 429 and retry_after (seconds).
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

// Intents are the gateway intents bot id identified with last.
func (s *Server) Intents(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var last *session
	for _, sess := range s.sessions {
		if sess.bot.ID == id && (last == nil || sess.n > last.n) {
			last = sess
		}
	}
	if last == nil {
		return 0
	}
	return last.intents
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
