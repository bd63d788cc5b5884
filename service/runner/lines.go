package runner

import (
	"bufio"
	"errors"
	"io"
)

// MaxLine bounds one output line kept whole; the rest of a longer line is
// dropped and the entry marked truncated.
const MaxLine = 8 << 20

// ReadLines calls fn for every line of r (without its newline), also a
// last line without one. Lines longer than max are cut to max bytes and
// reported with truncated set; reading goes on with the next line.
func ReadLines(r io.Reader, max int, fn func(line []byte, truncated bool)) error {
	br := bufio.NewReaderSize(r, 64*1024)
	var buf []byte
	truncated := false
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > max {
			room := max - len(buf)
			if room > 0 {
				buf = append(buf, chunk[:room]...)
			}
			truncated = true
		} else {
			buf = append(buf, chunk...)
		}
		switch {
		case err == nil:
			fn(trimNewline(buf), truncated)
			buf, truncated = buf[:0], false
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(buf) > 0 {
				fn(trimNewline(buf), truncated)
			}
			return nil
		default:
			return err
		}
	}
}

func trimNewline(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}
