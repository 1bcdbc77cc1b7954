package dialin

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"aula/internal/testenv"
	"aula/room"
)

// sipp (package sip-tester) dials in with its own RFC 2833 captures for
// the PIN, sends G.711a speech, and gets a BYE when the meeting ends.
func TestSippDialIn(t *testing.T) {
	t.Parallel()
	sipp := testenv.Tool(t, "sipp")
	for _, f := range []string{"dtmf_2833_1.pcap", "dtmf_2833_pound.pcap", "g711a.pcap"} {
		if _, err := os.Stat("/usr/share/sip-tester/" + f); err != nil {
			t.Fatalf("sipp's capture %s is missing (package sip-tester): %v", f, err)
		}
	}
	e := newEnv(t, nil)
	mt, _, _ := e.meeting("sipp", "12345", true)
	ear := newRoomEar(t, e.hub, mt.Key, "trainer-media")
	scenario, _ := filepath.Abs("testdata/sipp_pin.xml")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, sipp, "-sf", scenario, "-m", "1", "-i", "127.0.0.1",
		"-p", strconv.Itoa(testenv.UDPPort(t)), "-mi", "127.0.0.1", "-mp", strconv.Itoa(testenv.UDPPort(t)),
		"-timeout", "50s", "-timeout_error", "-nostdin", "-trace_err", "-error_file", filepath.Join(t.TempDir(), "err.log"),
		e.gw.Addr().String())
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	eventually(t, 20*time.Second, "sipp's caller in the room", func() bool {
		ps := e.phones(mt.Key)
		return len(ps) == 1 && ps[0].InRoom
	})
	if got := e.phones(mt.Key)[0].Name; got != "Phone ···789" {
		t.Errorf("name = %q", got)
	}
	caller := e.phones(mt.Key)[0].ID
	eventually(t, 10*time.Second, "sipp's speech reaches the room as Opus", func() bool {
		_, n := ear.last(caller)
		return n >= 25
	})
	if err := e.mgr.End(context.Background(), mt.Key, room.ReasonModerator); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sipp failed: %v\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("sipp did not finish\n%s", out.String())
	}
}

// baresip, a real SIP phone, dials in headless: its microphone is a WAV
// file with a 1 kHz tone, keys are typed through its cons module, and it
// sends RFC 4733 without the end packet of the last key.
func TestBaresipDialIn(t *testing.T) {
	t.Parallel()
	baresip := testenv.Tool(t, "baresip")
	e := newEnv(t, nil)
	mt, _, _ := e.meeting("baresip", "80808", true)
	ear := newRoomEar(t, e.hub, mt.Key, "trainer-media")

	dir := t.TempDir()
	wav := filepath.Join(dir, "tone.wav")
	if err := os.WriteFile(wav, toneWAV(8000, 1000, 0.3, 30*time.Second), 0o600); err != nil {
		t.Fatal(err)
	}
	consPort := testenv.UDPPort(t)
	rtpBase := 41000 + (testenv.UDPPort(t) % 2000)
	cfg := fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%d
audio_player aubridge,nil
audio_source aufile,%s
audio_alert aubridge,nil
rtp_ports %d-%d
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module aubridge.so
module cons.so
module_app account.so
module_app menu.so
cons_listen 127.0.0.1:%d
`, testenv.UDPPort(t), wav, rtpBase, rtpBase+20, consPort)
	files := map[string]string{
		"config":   cfg,
		"accounts": "<sip:+4930123456789@127.0.0.1>;regint=0;audio_codecs=PCMU\n",
		"contacts": "",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out testenv.LogBuffer
	cmd := exec.CommandContext(ctx, baresip, "-f", dir)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	eventually(t, 10*time.Second, "baresip ready", func() bool { return bytes.Contains([]byte(out.String()), []byte("baresip is ready")) })
	cons, err := net.Dial("udp", "127.0.0.1:"+strconv.Itoa(consPort))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	send := func(s string) {
		if _, err := cons.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	send("/dial sip:dialin@" + e.gw.Addr().String() + "\n")
	eventually(t, 10*time.Second, "baresip's call answered", func() bool { return e.gw.Calls() == 1 && bytes.Contains([]byte(out.String()), []byte("established")) })
	send("80808#")
	eventually(t, 10*time.Second, "baresip's caller in the room\n"+out.String(), func() bool {
		ps := e.phones(mt.Key)
		return len(ps) == 1 && ps[0].InRoom
	})
	if got := e.phones(mt.Key)[0].Name; got != "Phone ···789" {
		t.Errorf("name = %q", got)
	}
	caller := e.phones(mt.Key)[0].ID
	if !raceEnabled {
		eventually(t, 10*time.Second, "baresip's 1 kHz tone in the room", func() bool {
			pcm, _ := ear.last(caller)
			return len(pcm) >= roomFrame && toneShare32(pcm[len(pcm)-roomFrame:], 1000, roomRate) > 0.7
		})
	}
	if err := e.mgr.End(context.Background(), mt.Key, room.ReasonModerator); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "baresip hung up by the gateway", func() bool {
		return e.gw.Calls() == 0 && bytes.Contains([]byte(out.String()), []byte("terminated"))
	})
}

// toneWAV is a mono 16-bit PCM WAV file of a sine tone (hz, at amplitude
// vol of full scale), the microphone of the phone under test.
func toneWAV(rate, hz int, vol float64, d time.Duration) []byte {
	n := int(d.Seconds() * float64(rate))
	b := make([]byte, 44+2*n)
	le := binary.LittleEndian
	copy(b[0:], "RIFF")
	le.PutUint32(b[4:], uint32(36+2*n))
	copy(b[8:], "WAVEfmt ")
	le.PutUint32(b[16:], 16)             // fmt chunk size
	le.PutUint16(b[20:], 1)              // PCM
	le.PutUint16(b[22:], 1)              // mono
	le.PutUint32(b[24:], uint32(rate))   // sample rate
	le.PutUint32(b[28:], uint32(2*rate)) // bytes per second
	le.PutUint16(b[32:], 2)              // block align
	le.PutUint16(b[34:], 16)             // bits per sample
	copy(b[36:], "data")
	le.PutUint32(b[40:], uint32(2*n))
	for i := range n {
		v := vol * 32767 * math.Sin(2*math.Pi*float64(hz)*float64(i)/float64(rate))
		le.PutUint16(b[44+2*i:], uint16(int16(v)))
	}
	return b
}
