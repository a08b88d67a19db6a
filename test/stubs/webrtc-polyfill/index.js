// No WebRTC implementation: simple-peer sees `RTCPeerConnection` undefined and
// reports WEBRTC_SUPPORT = false, so WebTorrent uses TCP peers only.
export const RTCPeerConnection = undefined;
export const RTCSessionDescription = undefined;
export const RTCIceCandidate = undefined;
