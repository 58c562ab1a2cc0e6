// One remote participant's media connection in the call's mesh.
//
// Every pair of people in the call has its own RTCPeerConnection and negotiates on its own,
// addressing signaling messages "to" the other's participant id. Of each pair, the one whose
// participant id sorts lower makes every offer (the first one, a fresh one when the other
// (re)joins the room, ICE restarts); the other only answers. So two offers never cross.
import { limitSenders } from "./call-media.js";

// An offer that has not connected after this long is made again (an ICE restart): it covers
// an answer lost with a dropped socket, or one that belonged to an older connection.
const CONNECT_WATCHDOG_MS = 10_000;
const MAX_RESTARTS = 5;

// The o= session of a description: one per RTCPeerConnection (an ICE restart keeps it).
function sessionOf(sdp) {
  return (sdp.match(/^o=\S+ (\S+)/m) || [])[1];
}

export class Peer {
  constructor(call, id) {
    this.call = call;
    this.id = id;
    this.pc = null;
    this.pending = []; // candidates that came before the remote description
    this.session = null; // the o= session of their connection (a new one needs a new connection)
    // Sessions of their connections this side has replaced: a description still on its way
    // from one of them (replayed after a reconnect) is not applied to the new connection.
    this.stale = new Set();
    this.timer = null;
    this.restarts = 0;
    this.remote = null;
  }

  // Of the two of us, do I make the offers?
  get offers() {
    return this.call.me < this.id;
  }

  get state() {
    return this.pc ? this.pc.connectionState : "closed";
  }

  async open() {
    this.shut();
    if (this.session) this.stale.add(this.session);
    this.session = null;
    const pc = new RTCPeerConnection(await this.call.rtcConfiguration());
    this.pc = pc;
    this.pending = [];
    this.remote = null;
    const stream = this.call.stream;
    if (stream) for (const track of stream.getTracks()) pc.addTrack(track, stream);
    else {
      pc.addTransceiver("audio", { direction: "recvonly" });
      pc.addTransceiver("video", { direction: "recvonly" });
    }
    pc.addEventListener("track", (event) => {
      if (this.pc !== pc) return;
      let remote = event.streams[0];
      if (!remote) {
        this.remote = this.remote || new MediaStream();
        this.remote.addTrack(event.track);
        remote = this.remote;
      }
      this.call.stage.show(this.id, remote);
    });
    pc.addEventListener("icecandidate", (event) => {
      if (this.pc !== pc || !event.candidate || !event.candidate.candidate) return;
      this.call.send({
        type: "candidate",
        to: this.id,
        candidate: event.candidate.candidate,
        sdp_mid: event.candidate.sdpMid,
        sdp_mline_index: event.candidate.sdpMLineIndex,
      });
    });
    pc.addEventListener("connectionstatechange", () => {
      if (this.pc === pc) this.changed(pc);
    });
    this.call.stage.tile(this.id);
    this.call.stage.state(this.id, pc.connectionState);
    return pc;
  }

  changed(pc) {
    const state = pc.connectionState;
    this.call.stage.state(this.id, state);
    if (state === "connected") {
      this.restarts = 0;
      clearTimeout(this.timer);
    } else if (state === "disconnected" || state === "failed") {
      if (!this.call.present.has(this.id)) {
        // They left the room and their media stopped: they are gone.
        this.call.drop(this.id);
        return;
      }
      // The offering side restarts ICE when the media path does not come back by itself.
      if (this.offers) this.restartIn(state === "failed" ? 0 : 3000);
    }
    this.call.update();
  }

  restartIn(delay) {
    clearTimeout(this.timer);
    const pc = this.pc;
    this.timer = setTimeout(() => {
      this.call.serial(async () => {
        if (this.pc !== pc || pc.connectionState === "connected" || !this.call.live) return;
        if (this.restarts >= MAX_RESTARTS) return; // until they join again
        this.restarts += 1;
        await this.offer(true);
      });
    }, delay);
  }

  async offer(restart = false) {
    if (!restart || !this.pc) {
      await this.open();
      this.restarts = 0;
    }
    const pc = this.pc;
    const offer = await pc.createOffer(restart ? { iceRestart: true } : {});
    await pc.setLocalDescription(offer);
    await limitSenders(pc, this.call.profile);
    this.call.send({ type: "offer", to: this.id, sdp: offer.sdp });
    this.restartIn(CONNECT_WATCHDOG_MS);
  }

  async answer(message) {
    if (this.offers && this.pc && this.pc.signalingState === "have-local-offer") return; // ours stands
    // A new session from them (o= line) needs a new connection; an ICE restart of the same
    // session keeps this one.
    const session = sessionOf(message.sdp);
    if (this.stale.has(session)) return;
    if (!this.pc || session !== this.session || this.pc.signalingState !== "stable") {
      await this.open();
      this.stale.delete(session); // a connection of theirs we start over with is not stale
    }
    this.session = session;
    const pc = this.pc;
    await pc.setRemoteDescription({ type: "offer", sdp: message.sdp });
    await this.flush();
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    await limitSenders(pc, this.call.profile);
    this.call.send({ type: "answer", to: this.id, sdp: answer.sdp });
  }

  async accept(message) {
    if (!this.pc || this.pc.signalingState !== "have-local-offer") return; // an answer to an older offer
    const session = sessionOf(message.sdp);
    if (this.stale.has(session)) return; // from their connection that this one replaced
    try {
      await this.pc.setRemoteDescription({ type: "answer", sdp: message.sdp });
    } catch (error) {
      return; // it did not fit this offer; the watchdog offers again
    }
    this.session = session;
    await this.flush();
  }

  async candidate(message) {
    const candidate = {
      candidate: message.candidate,
      sdpMid: message.sdp_mid ?? null,
      sdpMLineIndex: message.sdp_mline_index ?? null,
    };
    if (!this.pc || !this.pc.remoteDescription) {
      this.pending.push(candidate);
      return;
    }
    try {
      await this.pc.addIceCandidate(candidate);
    } catch (error) {
      // A candidate of an older session: harmless.
    }
  }

  async flush() {
    const waiting = this.pending;
    this.pending = [];
    for (const candidate of waiting) {
      try {
        await this.pc.addIceCandidate(candidate);
      } catch (error) {
        // stale
      }
    }
  }

  async replaceVideo(track) {
    if (!this.pc) return;
    const sender = this.pc.getSenders().find((s) => s.track && s.track.kind === "video");
    if (sender) await sender.replaceTrack(track);
  }

  // Close the connection (the tile stays until the peer is dropped).
  shut() {
    clearTimeout(this.timer);
    if (this.pc) this.pc.close();
    this.pc = null;
  }

  async receivedVideoBytes() {
    if (!this.pc) return 0;
    let bytes = 0;
    const stats = await this.pc.getStats();
    stats.forEach((report) => {
      if (report.type === "inbound-rtp" && report.kind === "video") bytes += report.bytesReceived || 0;
    });
    return bytes;
  }

  // What this connection sends, for tests and a future quality indicator.
  sending() {
    if (!this.pc) return [];
    return this.pc
      .getSenders()
      .filter((sender) => sender.track)
      .map((sender) => {
        const encoding = (sender.getParameters().encodings || [])[0] || {};
        return {
          peer: this.id,
          kind: sender.track.kind,
          enabled: sender.track.enabled,
          deviceId: sender.track.getSettings().deviceId || null,
          maxBitrate: encoding.maxBitrate ?? null,
          maxFramerate: encoding.maxFramerate ?? null,
        };
      });
  }
}
