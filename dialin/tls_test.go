package dialin

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"aula/dialin/siptest"
)

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "aula-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// With a certificate the gateway also speaks SIP over TLS.
func TestTLSListener(t *testing.T) {
	t.Parallel()
	cert := selfSigned(t)
	e := newEnv(t, func(c *Config) {
		c.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		c.TLSAddr = "127.0.0.1:0"
	})
	addr := e.gw.TLSAddr().(*net.TCPAddr)
	ua, _ := sipgo.NewUA(sipgo.WithUserAgenTLSConfig(&tls.Config{InsecureSkipVerify: true}))
	defer ua.Close()
	c, _ := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	uri := sip.Uri{Host: "127.0.0.1", Port: addr.Port, UriParams: sip.NewParams()}
	uri.UriParams.Add("transport", "tls")
	req := sip.NewRequest(sip.OPTIONS, uri)
	req.SetTransport("TLS")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := c.Do(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		t.Errorf("OPTIONS over TLS: %v", res)
	}
}

func TestSIPStatus(t *testing.T) {
	cases := []struct {
		err  error
		code int
	}{
		{ErrForbidden, 403}, {ErrRateLimited, 403}, {ErrUnauthorized, 401},
		{ErrBadSDP, 488}, {ErrNoCodec, 488}, {ErrBusy, 486}, {ErrNoPort, 503},
		{ErrClosed, 503}, {ErrBadDTMF, 400}, {ErrBadAudio, 500},
		{ErrTooManyPending, 486}, {ErrVersion, 505},
	}
	for _, tc := range cases {
		if code, _ := sipStatus(tc.err); code != tc.code {
			t.Errorf("%v → %d, want %d", tc.err, code, tc.code)
		}
	}
}

// A whole call over TLS: answered, the PIN typed, the caller in the room.
func TestTLSCall(t *testing.T) {
	t.Parallel()
	cert := selfSigned(t)
	e := newEnv(t, func(c *Config) {
		c.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		c.TLSAddr = "127.0.0.1:0"
	})
	mt, _, _ := e.meeting("tls-call", "36363", true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := siptest.Dial(ctx, e.gw.TLSAddr().(*net.TCPAddr).AddrPort(), siptest.Options{From: testNumber, Transport: "tls"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.Digits4733("36363#")
	eventually(t, 5*time.Second, "TLS caller joined", func() bool { return len(e.phones(mt.Key)) == 1 })
	if err := p.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "TLS call gone", func() bool { return e.gw.Calls() == 0 })
}
