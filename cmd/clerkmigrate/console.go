package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// Terminal control: back to the start of the line, and erase to its end.
const (
	lineStart = "\r"
	eraseLine = "\x1b[K"
)

// console is the one writer of stderr. Log records, notices, errors and the
// progress line all go through it, so that a log line never lands on a
// half-drawn progress line: the line is erased first and drawn again after.
// Under --log-format json every line it writes is a JSON object, and no
// progress line is drawn (it could not be JSON).
type console struct {
	mu     sync.Mutex
	w      io.Writer
	json   bool
	log    *slog.Logger
	status string // the progress line on screen; "" when none is
}

func newConsole(w io.Writer, json bool) *console {
	c := &console{w: w}
	c.setFormat(json, slog.LevelInfo)
	return c
}

// setFormat chooses text or JSON records at level and above.
func (c *console) setFormat(json bool, level slog.Level) {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(lineWriter{c}, opts)
	if json {
		h = slog.NewJSONHandler(lineWriter{c}, opts)
	}
	c.mu.Lock()
	c.json, c.log = json, slog.New(h)
	c.mu.Unlock()
}

// isJSON reports whether records are JSON.
func (c *console) isJSON() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.json
}

// logger writes records to the console.
func (c *console) logger() *slog.Logger {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.log
}

// lineWriter writes finished lines to the console: the records of its slog
// handler (one record a call) and its own notices.
type lineWriter struct{ c *console }

// Write erases the progress line, writes p and draws the line again.
func (w lineWriter) Write(p []byte) (int, error) {
	c := w.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.status != "" {
		io.WriteString(c.w, lineStart+eraseLine)
	}
	n, err := c.w.Write(p)
	if c.status != "" && len(p) > 0 && p[len(p)-1] == '\n' {
		io.WriteString(c.w, c.status)
	}
	return n, err
}

// Write takes what is written to stderr without the console's methods
// (c.App.ErrWriter): in text it passes as it is; under json each line
// becomes a record (a warning: such lines are notices), so that no stray
// Fprintf can break a reader that parses every line.
func (c *console) Write(p []byte) (int, error) {
	if !c.isJSON() {
		return lineWriter{c}.Write(p)
	}
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		if line = strings.TrimPrefix(strings.TrimSpace(line), "clerkmigrate: "); line != "" {
			c.logger().Warn(line)
		}
	}
	return len(p), nil
}

// setStatus draws line as the progress line, over the one before.
func (c *console) setStatus(line string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status = lineStart + line + eraseLine
	io.WriteString(c.w, c.status)
}

// clearStatus erases the progress line.
func (c *console) clearStatus() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.status != "" {
		io.WriteString(c.w, lineStart+eraseLine)
		c.status = ""
	}
}

// isTerminal reports whether stderr is a terminal, and its width.
func (c *console) isTerminal() (bool, int) {
	f, ok := c.w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false, 0
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		width = 0
	}
	return true, width
}

// notice says something to the person or the log reading stderr: a plain
// "clerkmigrate: msg" line in text, a record with attrs in JSON. A level
// below --log-level is not written.
func (c *console) notice(level slog.Level, msg string, attrs ...any) {
	c.mu.Lock()
	json, log := c.json, c.log
	c.mu.Unlock()
	if !log.Enabled(context.Background(), level) {
		return
	}
	if json {
		log.Log(context.Background(), level, msg, attrs...)
		return
	}
	fmt.Fprintf(lineWriter{c}, "clerkmigrate: %s\n", msg)
}

// prompt asks the person at the terminal a question (a JSON record under
// --log-format json).
func (c *console) prompt(question string) {
	c.mu.Lock()
	json, log := c.json, c.log
	c.mu.Unlock()
	if json {
		log.Warn(question)
		return
	}
	io.WriteString(lineWriter{c}, question)
}

// exit writes the error that ends the command, with the exit code, whatever
// --log-level says.
func (c *console) exit(err error, code int) {
	c.mu.Lock()
	json, log := c.json, c.log
	c.mu.Unlock()
	if !json {
		fmt.Fprintf(lineWriter{c}, "clerkmigrate: %v\n", err)
		return
	}
	level := slog.LevelError
	if code == ExitOK {
		level = slog.LevelInfo
	}
	r := slog.NewRecord(time.Now(), level, err.Error(), 0)
	r.AddAttrs(slog.Int("exit_code", code))
	log.Handler().Handle(context.Background(), r)
}

// consoleOf is the command's console.
func consoleOf(c *cli.Context) *console {
	if con, ok := c.App.ErrWriter.(*console); ok {
		return con
	}
	return newConsole(c.App.ErrWriter, false)
}

// setupLogging installs the slog handler chosen by the global flags. Logs go
// to stderr so that stdout stays for output a script reads.
func setupLogging(c *cli.Context) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.String("log-level"))); err != nil {
		return usageErrorf("--log-level: %v", err)
	}
	var json bool
	switch c.String("log-format") {
	case "text":
	case "json":
		json = true
	default:
		return usageErrorf("--log-format must be text or json")
	}
	con := consoleOf(c)
	con.setFormat(json, level)
	slog.SetDefault(con.log)
	return nil
}

// jsonRequested reads --log-format from the global flags in args before
// urfave/cli parses them, so that an error in the flags themselves is
// written in the format asked for.
func jsonRequested(args []string) bool {
	json := false
	for i := 1; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			break // the command: global flags come before it
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name != "log-format" && name != "log-level" {
			continue
		}
		if !hasValue && i+1 < len(args) {
			i++
			value = args[i]
		}
		if name == "log-format" {
			json = value == "json"
		}
	}
	return json
}
