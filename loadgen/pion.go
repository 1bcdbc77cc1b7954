package loadgen

import (
	"io"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// clientAPIs builds the Pion APIs of the simulated browsers: one for
// publish PeerConnections, one for subscribe ones. Neither has
// interceptors: no NACK, no reports, no TWCC. A publisher on loopback
// loses nothing to retransmit, and a subscriber that sent NACKs would hide
// the very loss the generator measures.
func clientAPIs(rcvbuf int) (pub, sub *webrtc.API, err error) {
	var se webrtc.SettingEngine
	// Pion's own log lines (e.g. packets of a track being torn down when
	// the meeting ends) would only clutter the report.
	lf := logging.NewDefaultLoggerFactory()
	lf.Writer = io.Discard
	se.LoggerFactory = lf
	n, err := newBufferedNet(rcvbuf)
	if err != nil {
		return nil, nil, err
	}
	se.SetNet(n)
	// Loopback only: the generator runs beside the server, and the
	// machine's other interfaces may not even be routable.
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(n string) bool { return n == "lo" })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80)
	// A busy machine delays STUN keepalives; do not call a connection
	// dead as early as a browser on an idle one would.
	se.SetICETimeouts(15*time.Second, 30*time.Second, 2*time.Second)

	mk := func(publish bool) (*webrtc.API, error) {
		m := &webrtc.MediaEngine{}
		videoFB := []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"}}
		if err := m.RegisterCodec(webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: audioClock, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"},
			PayloadType:        111,
		}, webrtc.RTPCodecTypeAudio); err != nil {
			return nil, err
		}
		if err := m.RegisterCodec(webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: videoClock, RTCPFeedback: videoFB},
			PayloadType:        96,
		}, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, err
		}
		exts := []struct {
			uri string
			t   webrtc.RTPCodecType
		}{
			{sdp.SDESMidURI, webrtc.RTPCodecTypeAudio},
			{sdp.SDESMidURI, webrtc.RTPCodecTypeVideo},
		}
		if publish {
			exts = append(exts, []struct {
				uri string
				t   webrtc.RTPCodecType
			}{
				{sdp.AudioLevelURI, webrtc.RTPCodecTypeAudio},
				{sdp.SDESRTPStreamIDURI, webrtc.RTPCodecTypeVideo},
				{sdp.SDESRepairRTPStreamIDURI, webrtc.RTPCodecTypeVideo},
			}...)
		}
		for _, e := range exts {
			if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: e.uri}, e.t); err != nil {
				return nil, err
			}
		}
		return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se),
			webrtc.WithInterceptorRegistry(&interceptor.Registry{})), nil
	}
	if pub, err = mk(true); err != nil {
		return nil, nil, err
	}
	if sub, err = mk(false); err != nil {
		return nil, nil, err
	}
	return pub, sub, nil
}
