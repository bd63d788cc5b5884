package nsjournal

import (
	"encoding/binary"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestEncode: plain values as KEY=VALUE, a value with newlines with its
// length, as journald's native protocol reads them.
func TestEncode(t *testing.T) {
	got := Encode("hi", 6, map[string]string{"HERDCTL_JOB": "j1", "HERDCTL_EVENT_JSON": "a\nb"})
	var want []byte
	want = append(want, "MESSAGE=hi\nPRIORITY=6\nHERDCTL_EVENT_JSON\n"...)
	want = binary.LittleEndian.AppendUint64(want, 3)
	want = append(want, "a\nb\nHERDCTL_JOB=j1\n"...)
	if string(got) != string(want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// TestSend: a small entry arrives as one datagram; one larger than a
// datagram may be arrives as a sealed memfd holding the whole entry.
func TestSend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "socket")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.SetReadBuffer(1 << 20)
	w := NewAt(path)
	if !w.Available() {
		t.Fatal("the socket is not seen")
	}
	if err := w.Send("small", 6, map[string]string{"K": "v"}); err != nil {
		t.Fatal(err)
	}
	buf, oob := make([]byte, 1<<20), make([]byte, 1024)
	n, _, _, _, err := l.ReadMsgUnix(buf, oob)
	if err != nil || string(buf[:n]) != "MESSAGE=small\nPRIORITY=6\nK=v\n" {
		t.Fatalf("small entry: %q %v", buf[:n], err)
	}

	big := strings.Repeat("x", 4<<20)
	if err := w.Send("big", 6, map[string]string{"BIG": big}); err != nil {
		t.Fatal(err)
	}
	n, oobn, _, _, err := l.ReadMsgUnix(buf, oob)
	if err != nil || n != 0 {
		t.Fatalf("big entry: %d bytes inline, %v", n, err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		t.Fatalf("control messages: %v %v", msgs, err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		t.Fatalf("rights: %v %v", fds, err)
	}
	f := os.NewFile(uintptr(fds[0]), "memfd")
	defer f.Close()
	seals, _ := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
	if seals&unix.F_SEAL_WRITE == 0 {
		t.Error("the memfd is not sealed")
	}
	b, _ := os.ReadFile("/proc/self/fd/" + strconv.Itoa(fds[0]))
	if string(b) != "MESSAGE=big\nPRIORITY=6\nBIG="+big+"\n" {
		t.Errorf("the memfd holds %d bytes, not the entry", len(b))
	}
}
