// Package sfu is Aula's selective forwarding unit: Pion WebRTC peer
// connections that receive each participant's microphone, camera and
// screen and forward them to everyone allowed to receive them. Media is
// relayed in memory only; nothing is ever written.
//
// # Shape
//
// One SFU per node (New) owns one UDP port for all media (ICE UDP mux), an
// ICE-TCP port as fallback, and optionally a built-in TURN server with
// short-lived HMAC credentials (the TURN REST scheme). No third-party STUN
// or TURN server is ever named. A Room per conference incarnation holds the
// Peers; a Peer is one participant with two PeerConnections:
//
//   - publish:   the client offers, the server answers (Peer.HandleOffer).
//   - subscribe: the server offers (a Signal), the client answers
//     (Peer.HandleAnswer).
//
// Each PeerConnection has one direction, so offers never collide and no
// "perfect negotiation" is needed. All SDP and ICE work of one
// PeerConnection runs on its own queue goroutine.
//
// # Room lifecycle
//
// The room lifecycle, and nothing else, opens and closes media rooms:
// SFU.OpenRoom when a conference runs on this node, SFU.CloseRoom when it
// ends. Everything driven by a client or a caller (a media message, a
// phone joining) only looks the room up with SFU.Room, which never
// creates one and fails with ErrNoRoom for a conference that is not (or
// no longer) running. A closed key is never opened again (OpenRoom fails
// with ErrClosed for hours after), since keys are unique per conference
// incarnation: a message racing the end of a conference can neither
// bring its room back nor leak the room's goroutines. CloseRoom also
// marks keys that were never opened, and returns when every peer and
// goroutine of the room has ended, joins that were under way included.
//
// # Wiring (the app and signaling layers)
//
//	s, err := sfu.New(cfg)                 // once, at start-up; s.Close() at shutdown
//	_, err = s.OpenRoom(meetingKey)        // the room lifecycle: the conference runs here
//	manager.OnEnd(func(key) { s.CloseRoom(key) })
//
//	// per WebSocket connection, after the room layer admitted the participant:
//	r, err := s.Room(meetingKey)           // ErrNoRoom: the conference is not running
//	peer, err := r.Join(participantID, policy)
//	peer.OnSignal(func(sig sfu.Signal) { actor.send(sig) })   // must not block
//	peer.OnStateChange(func(t sfu.Target, st sfu.ConnState) { … })
//	peer.OnFailed(func(err error) { actor.send(mediaError(err)) }) // peer is closed
//	servers, err := s.ICEServers(publicHost, participantID) // ErrTURNDisabled: send []
//	// … on leave or disconnect for good: peer.Close()
//
// Callbacks (OnSignal, OnStateChange, OnFailed, OnSpeaking) run on SFU or
// Pion goroutines: queue what they report and return; never call
// CloseRoom, or a blocking Peer method other than Close of a peer that
// already failed, from inside them.
//
// Join with an ID that is already in the room (a reconnect) replaces the
// old peer. policy (a Policy) is asked whenever a track appears or a peer
// joins: it implements "participants cannot see each other" and "webcams
// only for moderators". After a role or lock-setting change call
// Room.Refresh; subscriptions that became forbidden are removed with the
// next offer.
//
// # Message flow
//
// The client learns the ICE servers (servers above, JSON field names as in
// RTCIceServer) and creates two RTCPeerConnections with them.
//
// Publish (camera and microphone are off on entry, so this starts when the
// user switches one on):
//
//	client: pubPC.addTransceiver(track, {direction: "sendonly",
//	          sendEncodings: camera ? [{rid:"q", scaleResolutionDownBy:4},
//	                                   {rid:"h", scaleResolutionDownBy:2},
//	                                   {rid:"f"}] : undefined})
//	        offer = await pubPC.createOffer(); await pubPC.setLocalDescription(offer)
//	   →    {publish offer, sdp, kinds: {<track.id or mid>: "mic"|"camera"|"screen"}}
//	server: answer, err := peer.HandleOffer(sdp, kinds)
//	   ←    {publish answer, sdp: answer}
//	client: pubPC.setRemoteDescription(answer)
//
// kinds tells the camera from the screen; unnamed audio is "mic", unnamed
// video "camera". Simulcast rids q/h/f (or l/m/h, 0/1/2) are ordered by
// name; other names must be listed lowest quality first. The server
// ignores a=ssrc lines of m-sections with rids (Pion clients send both;
// browsers send only rids), so layers are always found by rid.
//
// Switching a device off: the client stops the track (its light goes out),
// removes it (pubPC.removeTrack) and publishes a new offer; the signaling
// layer also calls peer.StopForwarding(kind) at once, so forwarding stops
// even before the renegotiation. Switching it on: ResumeForwarding(kind),
// then publish as above. A moderator's mute is StopForwarding(KindMic);
// only the participant's own unmute may lead to ResumeForwarding (the room
// layer enforces who may ask). StopForwarding is remembered per kind, so it
// also holds for tracks published later (muteOnStart, lock settings).
//
// Subscribe (whenever the set of receivable tracks changes):
//
//	server: OnSignal(Signal{Type: "offer", Target: "subscribe", SDP, Tracks})
//	   ←    {subscribe offer, sdp, tracks}
//	client: await subPC.setRemoteDescription(offer)
//	        answer = await subPC.createAnswer(); await subPC.setLocalDescription(answer)
//	   →    {subscribe answer, sdp}
//	server: err := peer.HandleAnswer(sdp)
//
// Tracks lists, for every m-line carrying media, its MID, the publishing
// participant, the kind and the TrackID. The client matches ontrack events
// by event.transceiver.mid (remote track IDs differ between browsers); an
// m-line missing from the latest list carries nothing any more. Changes
// while an offer is outstanding are sent in one new offer after the answer.
//
// Negotiation timeout: a subscribe offer must be answered within
// Config.NegotiationTimeout (15 s by default, as in LiveKit). When it is
// not (a lost message, a stalled tab), the server sends the same offer
// again, once, through OnSignal; an answer to either copy is accepted (a
// second answer then gets ErrUnexpectedAnswer, which the client may
// ignore). When the re-offer is not answered in time either, the peer
// fails: it is closed, leaves the room, and OnFailed receives an error
// wrapping ErrNegotiationTimeout, so the signaling layer can tell the
// client clearly (which may then join again). The timeout runs on the
// subscribe queue like any negotiation step and ends with the peer.
//
// ICE: the server never trickles; all of its candidates (host candidates
// on the media port, ICE-TCP, loopback when IncludeLoopback) are in its
// SDP. The client trickles its own candidates:
//
//	client: pc.onicecandidate = e => e.candidate &&
//	          send({candidate, target: "publish"|"subscribe", …e.candidate.toJSON()})
//	server: peer.AddICECandidate(sfu.Candidate{Target, Candidate, SDPMid, SDPMLineIndex})
//
// Candidates that arrive before their description wait for it. ICE restart
// (network change): the client restarts publish itself with
// createOffer({iceRestart: true}) and the usual publish flow; for
// subscribe it asks the server, which calls peer.RestartICE and sends a new
// offer with fresh credentials.
//
// Display size: the client reports the size it shows each received video
// at (e.g. with a ResizeObserver) and the server calls
// peer.SetLayerPreference(trackID, width, height); the SFU then forwards the
// smallest simulcast layer at least that large, within the subscriber's
// bandwidth estimate (REMB, which browsers send because the subscribe offer
// negotiates goog-remb) and among the layers actually arriving.
//
// Echo test: peer.SetEcho(true) sends the participant their own
// microphone back through the SFU (browser → SFU → browser), as
// BigBlueButton's echo test does. The track is added to their subscribe
// PeerConnection like anyone else's, announced in the offer's Tracks with
// their own participant ID and kind "mic" (the only way one's own ID
// appears there), whatever StopForwarding says: others never hear it, nor
// does the participant count as speaking. It works for a microphone
// published after the echo was switched on, and ends with SetEcho(false),
// the peer's Close, or by itself after Config.EchoTimeout (15 s); each end
// removes the track with the next offer. Without the echo a peer never
// receives its own tracks, whatever its Policy says.
//
// Active speaker: Room.OnSpeaking reports speaking on/off per participant
// from the RFC 6464 audio level of their microphone; the signaling layer
// puts it in the roster. Audio is forwarded only while its publisher
// speaks (with a two-second hold); audio without level information is
// always forwarded.
//
// Errors: ErrBadSDP, ErrBadCandidate, ErrUnexpectedAnswer, ErrUnknownTrack,
// ErrQueueFull, ErrNoRoom, ErrNegotiationTimeout and ErrClosed (see
// errors.go) are mapped to wire error messages by the signaling layer. Bad input changes nothing: a rejected
// offer or answer leaves the PeerConnection as it was.
//
// # Phone callers
//
// The SIP gateway joins a caller with Room.JoinLocal: a LocalPeer
// publishes the caller's voice as Opus frames with their audio level
// (PublishOpus) and hears the room's forwarded audio (OnOpus, the active
// speakers only, never its own voice), without WebRTC. Its methods match
// dialin.Media, so the app can hand it to the gateway as is:
//
//	factory := func(key, id string) (dialin.Media, error) {
//		r, err := s.Room(key) // ErrNoRoom: the conference ended meanwhile
//		if err != nil {
//			return nil, err
//		}
//		return r.JoinLocal(id, policy)
//	}
//
// A moderator's mute is StopForwarding(KindMic), as for anyone.
//
// # Hot path
//
// Each received encoding has one read loop. A packet is read once into a
// pooled buffer and shared by reference (reference counted) with the
// layer's NACK cache and every subscriber's writer queue: no copy, no
// allocation per forwarded packet (BenchmarkForward, TestForwardAllocates
// Nothing). The read loop takes no room lock: it reads its subscriber list
// from a copy-on-write snapshot. Each subscriber has one writer goroutine
// with a bounded queue; when the queue is full the subscriber's packets are
// dropped (video until the next keyframe, which is requested), never
// blocking the publisher or other subscribers. Down tracks rewrite SSRC,
// payload type, sequence number and timestamp so that layer switches and
// drops leave no gap; extension headers are not forwarded (IDs differ per
// connection). NACKs are answered from the up track's cache; PLI and FIR go
// to the publisher at most every 500 ms per layer, and every layer switch
// requests a keyframe of the new layer. SRTP prefers AES-GCM.
//
// # Metrics
//
// SFU.Stats returns node-wide counters (packets in and out, drops, NACKs,
// retransmissions, keyframe requests, layer switches) and a histogram of
// the forwarding latency from reading a packet to handing it to the
// subscriber's connection; Peer.Stats describes one participant's tracks.
//
// # Goroutines
//
// Per SFU: the UDP/TCP muxes and TURN server (Pion's). Per room: one
// speaker-detection loop. Per peer: two negotiation queues (the
// negotiation timeout and the echo test's end are timers read by the
// subscribe queue, not goroutines), one writer, one read loop per received encoding, one RTCP
// reader per sent track, plus Pion's own; a failing peer is closed by a
// short-lived goroutine the room waits for. CloseRoom and Peer.Close wait
// until all of them ended.
package sfu
