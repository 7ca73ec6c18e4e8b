// A minimal adapter in Go: answers encoding/varuint_encode, "unsupported" to everything else.
// Build: go build -o adapter adapter.go     Run: elastos conform --impl ./adapter --suite encoding
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"strconv"
)

type request struct {
	Hello   json.RawMessage   `json:"hello"`
	ID      int64             `json:"id"`
	Handler string            `json:"handler"`
	Input   map[string]string `json:"input"`
}

func varuint(v uint64) []byte {
	switch {
	case v < 0xFD:
		return []byte{byte(v)}
	case v <= 0xFFFF:
		b := []byte{0xFD, 0, 0}
		binary.LittleEndian.PutUint16(b[1:], uint16(v))
		return b
	case v <= 0xFFFFFFFF:
		b := []byte{0xFE, 0, 0, 0, 0}
		binary.LittleEndian.PutUint32(b[1:], uint32(v))
		return b
	}
	b := make([]byte, 9)
	b[0] = 0xFF
	binary.LittleEndian.PutUint64(b[1:], v)
	return b
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var r request
		if json.Unmarshal(in.Bytes(), &r) != nil {
			continue
		}
		switch {
		case r.Hello != nil:
			out.Encode(map[string]any{"hello": map[string]any{"protocol": 1, "name": "go-example",
				"version": "0.1", "handlers": []string{"encoding/varuint_encode"}}})
		case r.Handler == "encoding/varuint_encode":
			v, err := strconv.ParseUint(r.Input["value"], 10, 64)
			if err != nil {
				out.Encode(map[string]any{"id": r.ID, "reject": "VALUE_OUT_OF_RANGE"})
			} else {
				out.Encode(map[string]any{"id": r.ID, "ok": map[string]string{"bytes": hex.EncodeToString(varuint(v))}})
			}
		default:
			out.Encode(map[string]any{"id": r.ID, "unsupported": true})
		}
	}
}
