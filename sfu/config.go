package sfu

import (
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/pion/transport/v5"
)

// Config is the SFU's part of Aula's configuration. The app layer fills it
// from AULA_RTC_* settings.
type Config struct {
	// UDPPort is the one UDP port that carries all media of all rooms (ICE
	// UDP mux). 0 picks an ephemeral port (tests).
	UDPPort int
	// ICETCPPort is the TCP port for ICE over TCP, the fallback for networks
	// that block UDP. 0 picks an ephemeral port; -1 turns ICE-TCP off.
	ICETCPPort int
	// PublicIP, when set, is the address announced in ICE candidates instead
	// of the local one (a server behind 1:1 NAT, e.g. a cloud VM).
	PublicIP string
	// ListenIP restricts media sockets to one local address; empty listens
	// on every interface.
	ListenIP string
	// BindIPs, when set (and ListenIP is not), are the local addresses
	// media listens on: one UDP socket each on UDPPort, and only these
	// offered as candidates. ICE-TCP and TURN listen on the one address,
	// or on all addresses when there are several. Each must be an
	// address of this machine.
	BindIPs []string
	// IncludeLoopback offers loopback candidates, so that a browser (or a
	// test) on the same machine connects when the server listens on
	// loopback only. It is implied when ListenIP is a loopback address.
	IncludeLoopback bool
	// TURN is the built-in TURN server for clients behind firewalls that
	// block direct media. No third-party STUN/TURN is ever used.
	TURN TURNConfig
	// Logger receives the SFU's and Pion's logs; nil discards them.
	Logger *slog.Logger
	// NegotiationTimeout is how long a subscribe offer may wait for the
	// client's answer. After it the SFU re-offers once; when that offer is
	// not answered in time either, the peer fails (Peer.OnFailed with
	// ErrNegotiationTimeout) instead of waiting forever with its
	// subscriptions frozen. 0 means DefaultNegotiationTimeout.
	NegotiationTimeout time.Duration
	// EchoTimeout is how long an echo test (Peer.SetEcho: the participant
	// hears their own microphone back through the SFU) lasts at most; the
	// server ends it by itself then, so a forgotten test does not keep
	// playing one's own voice. 0 means DefaultEchoTimeout.
	EchoTimeout time.Duration

	// net replaces the OS network (tests run the SFU on Pion's vnet to
	// lose packets on the wire). Only the media UDP port uses it: ICE-TCP
	// and TURN must be off.
	net transport.Net
}

// DefaultNegotiationTimeout is the NegotiationTimeout when none is set
// (the value LiveKit uses).
const DefaultNegotiationTimeout = 15 * time.Second

// DefaultEchoTimeout is the EchoTimeout when none is set: long enough to
// say a sentence and hear it back, as in BigBlueButton's echo test.
const DefaultEchoTimeout = 15 * time.Second

// TURNConfig configures the built-in TURN server.
type TURNConfig struct {
	// Enabled starts the TURN server.
	Enabled bool
	// Port is the UDP and TCP port of the TURN server (usually 3478);
	// 0 picks an ephemeral one (tests).
	Port int
	// Realm is the TURN realm (e.g. the server's host name).
	Realm string
	// Secret is the key of the short-lived HMAC credentials (the TURN REST
	// scheme). It never leaves the server; clients get derived credentials.
	Secret string
	// CredentialTTL is how long credentials handed to a client stay valid;
	// 0 means 12 hours.
	CredentialTTL time.Duration
	// TLSListener, when set, also serves TURN over TLS (turns:) on
	// connections it accepts, already TLS: the caller owns the
	// certificate (and may share one port with HTTPS). Clients then get a
	// turns: URL with TLSPort (default: the listener's port) and the host
	// given to ICEServers, which must be a name the certificate covers.
	TLSListener net.Listener
	TLSPort     int
	// RelayPortMin and RelayPortMax bound the UDP ports of relay sockets
	// (both 0: any free port). Relays only ever talk to the SFU on this
	// machine.
	RelayPortMin, RelayPortMax int
}

func (c *Config) validate() error {
	bad := func(field, format string, a ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalidConfig, field, fmt.Sprintf(format, a...))
	}
	if c.UDPPort < 0 || c.UDPPort > 65535 {
		return bad("UDPPort", "%d is not a port", c.UDPPort)
	}
	if c.ICETCPPort < -1 || c.ICETCPPort > 65535 {
		return bad("ICETCPPort", "%d is not a port (-1 turns ICE-TCP off)", c.ICETCPPort)
	}
	if c.PublicIP != "" && net.ParseIP(c.PublicIP) == nil {
		return bad("PublicIP", "%q is not an IP address", c.PublicIP)
	}
	if c.ListenIP != "" && net.ParseIP(c.ListenIP) == nil {
		return bad("ListenIP", "%q is not an IP address", c.ListenIP)
	}
	for _, b := range c.BindIPs {
		if ip := net.ParseIP(b); ip == nil || ip.IsUnspecified() {
			return bad("BindIPs", "%q is not an IP address of this machine", b)
		}
	}
	if c.NegotiationTimeout < 0 {
		return bad("NegotiationTimeout", "%s is negative", c.NegotiationTimeout)
	}
	if c.EchoTimeout < 0 {
		return bad("EchoTimeout", "%s is negative", c.EchoTimeout)
	}
	if c.TURN.Enabled {
		if c.TURN.Port < 0 || c.TURN.Port > 65535 {
			return bad("TURN.Port", "%d is not a port", c.TURN.Port)
		}
		if len(c.TURN.Secret) < 16 {
			return bad("TURN.Secret", "must be at least 16 characters")
		}
		if c.TURN.Realm == "" {
			return bad("TURN.Realm", "must not be empty")
		}
		if c.TURN.CredentialTTL < 0 {
			return bad("TURN.CredentialTTL", "must not be negative")
		}
		if lo, hi := c.TURN.RelayPortMin, c.TURN.RelayPortMax; (lo != 0 || hi != 0) && (lo < 1 || hi > 65535 || lo > hi) {
			return bad("TURN.RelayPortMin/Max", "%d-%d is not a port range", lo, hi)
		}
	}
	return nil
}
