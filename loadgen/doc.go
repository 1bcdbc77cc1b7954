// Package loadgen is Aula's load generator: it joins publishers and
// subscribers to a running server exactly as browsers do (BigBlueButton API
// join with redirect=false, the one-time /join/<token> URL, the session
// cookie, the WebSocket at /r/<slot>/ws and the media.* messages), sends
// synthetic Opus and simulcast VP8 through the server's SFU and measures
// what comes out: loss, end-to-end latency and join time on the client
// side, forwarded packets, server CPU, RSS and fan-out latency from the
// server's /metrics.
//
// It is a client, so it deliberately uses Pion WebRTC (which otherwise
// lives only in package sfu) and gorilla/websocket (otherwise only in
// signaling): the point is to speak the real wire protocols, not to share
// the server's code. It imports nothing of the server.
//
// # Payloads
//
// Every RTP payload ends in a 16-byte stamp (see stamp): the send time,
// a per-stream sequence number, the stream and the simulcast layer. The SFU
// rewrites RTP sequence numbers so that its own drops leave no gap, so loss
// is counted from the stamp's sequence instead; the send time gives the
// end-to-end latency (sender and receiver share this process's clock). VP8
// payloads start with a real payload descriptor and, for keyframes, a real
// frame header with the layer's size, since the SFU reads both.
//
// # Cost on the client side
//
// Subscribers have no interceptors (no NACK, reports or TWCC) and read raw
// RTP into one buffer per track, parsing only the header length: the
// generator must stay cheaper than the server it measures on the same two
// cores. A shared UDP socket across client PeerConnections is not possible
// against a server with a single media port: ICE muxes by remote address,
// so each client connection needs its own local port (one socket each,
// loopback only).
package loadgen
