package emulator

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// Server is an Emulator listening on a TCP address.
type Server struct {
	emu  *Emulator
	ln   net.Listener
	srv  *http.Server
	done chan error
}

// Start listens on cfg.Addr (default 127.0.0.1:0) and serves an Emulator.
func Start(cfg Config) (*Server, error) {
	e := New(cfg)
	ln, err := net.Listen("tcp", e.cfg.Addr)
	if err != nil {
		return nil, err
	}
	s := &Server{emu: e, ln: ln, done: make(chan error, 1),
		srv: &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// URL is the base URL of the API, ending in "/v1".
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() + "/v1" }

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Emulator returns the served Emulator.
func (s *Server) Emulator() *Emulator { return s.emu }

// Close stops the server, giving requests in flight a moment to finish.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = s.srv.Close()
	}
	if serveErr := <-s.done; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	return err
}
