// Command ferretdb runs FerretDB v1 (MongoDB wire protocol) on PostgreSQL for the local stack, behind a relay that
// makes FerretDB's connection pool impossible to exhaust.
//
// FerretDB v1.24 holds one pooled PostgreSQL connection per matched statement of an `update` command until the
// whole command ends (internal/handler/msg_update.go closes each statement's query iterator in a `defer` inside the
// loop), so commands that together hold every pooled connection, each waiting for one more, never end: the store
// stops answering for good (seen on SQLite with ~100 handlers waiting for the pool, and on PostgreSQL with large
// bulks). FerretDB listens on a private Unix socket and this program relays the TCP clients to it:
//   - every `update` whose statements come as a document sequence longer than --max-update-statements N is sent as
//     several commands of at most N statements (in order, stopping at the first error of an ordered one) and their
//     replies merged (n and nModified summed; upserted and writeErrors concatenated, each index offset by its
//     command's first statement on top of FerretDB's own numbering, which is not MongoDB's anyway);
//   - at most --max-commands commands are inside FerretDB at once (default: a quarter of the pool kept for open
//     cursors, the rest divided by N+1, the most one command can hold), whatever the number of clients. The others
//     wait in the relay, where the client's own deadline applies, not in FerretDB's pool.
//
// Everything else passes through byte for byte. The SQLite backend is gone: it pushes no filter down (every query
// scans) and hung for good under EchoCue's concurrency (docs/decisions/0009-store.md).
//
// Why a wrapper instead of `go install .../cmd/ferretdb`: the upstream command panics unless it was built
// from a git checkout with a generated build/version/version.txt, which `go install` from the module proxy
// never has. The embeddable package github.com/FerretDB/FerretDB/ferretdb is the supported way to run the
// same server from another module. See docs/decisions/0002-local-stack.md.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"github.com/FerretDB/wire/wirebson"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27027", "TCP address to listen on")
	pgURL := flag.String("postgresql-url", "", "PostgreSQL connection string with pool_max_conns, e.g. postgres://user@127.0.0.1:15432/ferretdb?pool_max_conns=200")
	maxUpdate := flag.Int("max-update-statements", 8, "split update commands into at most this many statements")
	poolSize := flag.Int("pool-size", 200, "FerretDB's PostgreSQL pool size (the pool_max_conns of --postgresql-url)")
	maxCommands := flag.Int("max-commands", 0, "commands inside FerretDB at once (0: (pool-size * 3/4) / (max-update-statements + 1))")
	level := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()

	if *pgURL == "" {
		fmt.Fprintln(os.Stderr, "ferretdb: --postgresql-url is required (the SQLite backend is not supported: docs/decisions/0009-store.md)")
		os.Exit(2)
	}
	if *maxUpdate < 1 || *poolSize < 4 {
		fmt.Fprintln(os.Stderr, "ferretdb: --max-update-statements must be at least 1 and --pool-size at least 4")
		os.Exit(2)
	}
	if *maxCommands <= 0 {
		*maxCommands = max(1, (*poolSize*3/4)/(*maxUpdate+1))
	}
	cfg := ferretdb.Config{Handler: "postgresql", PostgreSQLURL: *pgURL}

	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: bad --log-level %q\n", *level)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))

	cfg.Logger = logger

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	tmp, err := os.MkdirTemp("", "ferretdb-pg-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}
	defer os.RemoveAll(tmp)
	sock := filepath.Join(tmp, "ferretdb.sock")
	cfg.Listener = ferretdb.ListenerConfig{Unix: sock}
	proxy, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}

	f, err := ferretdb.New(&cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}

	logger.Info("ferretdb listening", "addr", *listen, "max-update-statements", *maxUpdate, "max-commands", *maxCommands)
	go serveSplitting(ctx, proxy, sock, *maxUpdate, make(chan struct{}, *maxCommands), logger)
	if err := f.Run(ctx); err != nil && ctx.Err() == nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}
}

// ---------- the relay: update splitting and admission ----------

const (
	opMsg           = 2013
	flagChecksum    = 1 << 0
	flagMoreToCome  = 1 << 1
	maxMessageBytes = 48_000_000
)

// serveSplitting accepts clients until ctx ends, then closes them all.
// admit is a counting semaphore: a command holds one slot while it is inside FerretDB.
func serveSplitting(ctx context.Context, ln net.Listener, upstream string, max int, admit chan struct{}, logger *slog.Logger) {
	var mu sync.Mutex
	open := map[net.Conn]struct{}{}
	go func() {
		<-ctx.Done()
		ln.Close()
		mu.Lock()
		for c := range open {
			c.Close()
		}
		mu.Unlock()
	}()
	for {
		client, err := ln.Accept()
		if err != nil {
			if ctx.Err() == nil {
				logger.Error("accept failed", "error", err)
			}
			return
		}
		mu.Lock()
		open[client] = struct{}{}
		mu.Unlock()
		go func() {
			defer func() {
				mu.Lock()
				delete(open, client)
				mu.Unlock()
				client.Close()
			}()
			if err := relay(client, upstream, max, admit); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				logger.Warn("relay ended", "client", client.RemoteAddr().String(), "error", err)
			}
		}()
	}
}

// dialUpstream waits a little for FerretDB's socket: the relay listens before FerretDB runs.
func dialUpstream(path string) (net.Conn, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("unix", path)
		if err == nil || time.Now().After(deadline) {
			return c, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// relay carries one client connection. MongoDB's protocol is request -> reply on a connection, except requests
// flagged moreToCome (no reply) and replies flagged moreToCome (more replies follow without a request).
func relay(client net.Conn, upstream string, max int, admit chan struct{}) error {
	server, err := dialUpstream(upstream)
	if err != nil {
		return err
	}
	defer server.Close()
	cr, cw := bufio.NewReader(client), bufio.NewWriter(client)
	sr, sw := bufio.NewReader(server), bufio.NewWriter(server)
	for {
		req, err := readMessage(cr)
		if err != nil {
			return err
		}
		if err := exchange(req, max, admit, cw, sr, sw); err != nil {
			return err
		}
	}
}

// exchange sends one request to FerretDB inside an admission slot and relays its reply (or replies).
func exchange(req []byte, max int, admit chan struct{}, cw *bufio.Writer, sr *bufio.Reader, sw *bufio.Writer) error {
	admit <- struct{}{}
	defer func() { <-admit }()
	if parts := splitUpdate(req, max); parts != nil {
		reply, err := relaySplit(req, parts, sr, sw)
		if err != nil {
			return err
		}
		return writeFlush(cw, reply)
	}
	if err := writeFlush(sw, req); err != nil {
		return err
	}
	if isOpMsg(req) && msgFlags(req)&flagMoreToCome != 0 {
		return nil
	}
	for {
		reply, err := readMessage(sr)
		if err != nil {
			return err
		}
		if err := writeFlush(cw, reply); err != nil {
			return err
		}
		if !isOpMsg(reply) || msgFlags(reply)&flagMoreToCome == 0 {
			return nil
		}
	}
}

func readMessage(r *bufio.Reader) ([]byte, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, err
	}
	n := int(int32(binary.LittleEndian.Uint32(head[:])))
	if n < 16 || n > maxMessageBytes {
		return nil, fmt.Errorf("bad message length %d", n)
	}
	msg := make([]byte, n)
	copy(msg, head[:])
	if _, err := io.ReadFull(r, msg[4:]); err != nil {
		return nil, err
	}
	return msg, nil
}

func writeFlush(w *bufio.Writer, msg []byte) error {
	if _, err := w.Write(msg); err != nil {
		return err
	}
	return w.Flush()
}

func isOpMsg(msg []byte) bool {
	return binary.LittleEndian.Uint32(msg[12:16]) == opMsg && len(msg) >= 21
}
func msgFlags(msg []byte) uint32  { return binary.LittleEndian.Uint32(msg[16:20]) }
func requestID(msg []byte) uint32 { return binary.LittleEndian.Uint32(msg[4:8]) }
func firstKey(doc []byte) string  { k, _, _ := bytes.Cut(doc[5:], []byte{0}); return string(k) }

func docLen(b []byte) (int, error) {
	if len(b) < 5 {
		return 0, errors.New("short document")
	}
	n := int(int32(binary.LittleEndian.Uint32(b)))
	if n < 5 || n > len(b) {
		return 0, errors.New("bad document length")
	}
	return n, nil
}

var nextID atomic.Uint32

func init() { nextID.Store(1 << 30) }

// splitUpdate returns the commands to send instead of req (an `update` with more than max statements in its
// "updates" document sequence), or nil to relay req unchanged.
func splitUpdate(req []byte, max int) [][]byte {
	if !isOpMsg(req) || msgFlags(req)&(flagChecksum|flagMoreToCome) != 0 {
		return nil
	}
	var body []byte
	var updates [][]byte
	others := 0
	for b := req[20:]; len(b) > 0; {
		switch b[0] {
		case 0:
			n, err := docLen(b[1:])
			if err != nil {
				return nil
			}
			body, b = b[1:1+n], b[1+n:]
		case 1:
			if len(b) < 5 {
				return nil
			}
			size := int(int32(binary.LittleEndian.Uint32(b[1:5])))
			if size < 5 || 1+size > len(b) {
				return nil
			}
			section := b[5 : 1+size]
			id, docs, ok := bytes.Cut(section, []byte{0})
			if !ok {
				return nil
			}
			if string(id) != "updates" {
				others++
			} else {
				for len(docs) > 0 {
					n, err := docLen(docs)
					if err != nil {
						return nil
					}
					updates, docs = append(updates, docs[:n]), docs[n:]
				}
			}
			b = b[1+size:]
		default:
			return nil
		}
	}
	if body == nil || others > 0 || len(updates) <= max || firstKey(body) != "update" {
		return nil
	}
	var parts [][]byte
	for i := 0; i < len(updates); i += max {
		chunk := updates[i:min(i+max, len(updates))]
		var seq bytes.Buffer
		seq.WriteString("updates")
		seq.WriteByte(0)
		for _, d := range chunk {
			seq.Write(d)
		}
		var m bytes.Buffer
		m.Write(make([]byte, 16))
		binary.Write(&m, binary.LittleEndian, uint32(0))
		m.WriteByte(0)
		m.Write(body)
		m.WriteByte(1)
		binary.Write(&m, binary.LittleEndian, uint32(4+seq.Len()))
		m.Write(seq.Bytes())
		out := m.Bytes()
		binary.LittleEndian.PutUint32(out[0:4], uint32(len(out)))
		binary.LittleEndian.PutUint32(out[4:8], nextID.Add(1))
		binary.LittleEndian.PutUint32(out[12:16], opMsg)
		parts = append(parts, out)
	}
	return parts
}

// replyDoc is the body document of an OP_MSG reply.
func replyDoc(reply []byte) (*wirebson.Document, error) {
	if !isOpMsg(reply) || reply[20] != 0 {
		return nil, errors.New("reply is not an OP_MSG with a body first")
	}
	n, err := docLen(reply[21:])
	if err != nil {
		return nil, err
	}
	return wirebson.RawDocument(reply[21 : 21+n]).Decode()
}

func asInt(v any) int64 {
	switch v := v.(type) {
	case int32:
		return int64(v)
	case int64:
		return v
	case float64:
		return int64(v)
	}
	return 0
}

// shifted decodes an array of documents (upserted, writeErrors) and adds offset to each one's "index".
func shifted(v any, offset int) ([]any, error) {
	var arr *wirebson.Array
	switch v := v.(type) {
	case nil:
		return nil, nil
	case wirebson.RawArray:
		a, err := v.Decode()
		if err != nil {
			return nil, err
		}
		arr = a
	case *wirebson.Array:
		arr = v
	default:
		return nil, fmt.Errorf("unexpected %T", v)
	}
	out := make([]any, 0, arr.Len())
	for i := 0; i < arr.Len(); i++ {
		var doc *wirebson.Document
		switch e := arr.Get(i).(type) {
		case wirebson.RawDocument:
			d, err := e.Decode()
			if err != nil {
				return nil, err
			}
			doc = d
		case *wirebson.Document:
			doc = e
		default:
			return nil, fmt.Errorf("unexpected element %T", e)
		}
		if err := doc.Replace("index", int32(asInt(doc.Get("index"))+int64(offset))); err != nil {
			return nil, err
		}
		out = append(out, doc)
	}
	return out, nil
}

// relaySplit sends the parts one after another and answers req with their merged reply.
func relaySplit(req []byte, parts [][]byte, sr *bufio.Reader, sw *bufio.Writer) ([]byte, error) {
	ordered := true
	if n, err := docLen(bodyOf(req)); err == nil {
		if doc, err := wirebson.RawDocument(bodyOf(req)[:n]).Decode(); err == nil {
			if o, isBool := doc.Get("ordered").(bool); isBool {
				ordered = o
			}
		}
	}
	var n, modified int64
	var upserted, writeErrors []any
	var concernError any
	var last []byte
	offset := 0
	for _, part := range parts {
		if err := writeFlush(sw, part); err != nil {
			return nil, err
		}
		reply, err := readMessage(sr)
		if err != nil {
			return nil, err
		}
		last = reply
		doc, err := replyDoc(reply)
		if err != nil {
			return nil, err
		}
		if asInt(doc.Get("ok")) != 1 {
			return retarget(reply, req), nil // a command error: the client sees it as is
		}
		n += asInt(doc.Get("n"))
		modified += asInt(doc.Get("nModified"))
		u, err := shifted(doc.Get("upserted"), offset)
		if err != nil {
			return nil, err
		}
		upserted = append(upserted, u...)
		we, err := shifted(doc.Get("writeErrors"), offset)
		if err != nil {
			return nil, err
		}
		writeErrors = append(writeErrors, we...)
		if concernError == nil {
			concernError = doc.Get("writeConcernError")
		}
		offset += statementsIn(part)
		if ordered && len(we) > 0 {
			break
		}
	}
	merged := wirebson.MustDocument("n", int32(n), "nModified", int32(modified))
	if len(upserted) > 0 {
		if err := merged.Add("upserted", wirebson.MustArray(upserted...)); err != nil {
			return nil, err
		}
	}
	if len(writeErrors) > 0 {
		if err := merged.Add("writeErrors", wirebson.MustArray(writeErrors...)); err != nil {
			return nil, err
		}
	}
	if concernError != nil {
		if err := merged.Add("writeConcernError", concernError); err != nil {
			return nil, err
		}
	}
	if err := merged.Add("ok", float64(1)); err != nil {
		return nil, err
	}
	raw, err := merged.Encode()
	if err != nil {
		return nil, err
	}
	var m bytes.Buffer
	m.Write(make([]byte, 16))
	binary.Write(&m, binary.LittleEndian, uint32(0))
	m.WriteByte(0)
	m.Write(raw)
	out := m.Bytes()
	binary.LittleEndian.PutUint32(out[0:4], uint32(len(out)))
	binary.LittleEndian.PutUint32(out[4:8], requestID(last))
	binary.LittleEndian.PutUint32(out[8:12], requestID(req))
	binary.LittleEndian.PutUint32(out[12:16], opMsg)
	return out, nil
}

// bodyOf returns the bytes from the kind-0 section's document on (req was checked by splitUpdate).
func bodyOf(req []byte) []byte {
	for b := req[20:]; len(b) > 0; {
		if b[0] == 0 {
			return b[1:]
		}
		size := int(int32(binary.LittleEndian.Uint32(b[1:5])))
		b = b[1+size:]
	}
	return nil
}

// statementsIn counts the documents of a part's "updates" sequence (the part was built by splitUpdate).
func statementsIn(part []byte) int {
	n, _ := docLen(part[21:])
	seq := part[21+n+1+4:]
	_, docs, _ := bytes.Cut(seq, []byte{0})
	count := 0
	for len(docs) > 0 {
		l, err := docLen(docs)
		if err != nil {
			break
		}
		docs = docs[l:]
		count++
	}
	return count
}

// retarget returns reply addressed to req.
func retarget(reply, req []byte) []byte {
	out := append([]byte(nil), reply...)
	binary.LittleEndian.PutUint32(out[8:12], requestID(req))
	return out
}
