// The call page: waiting room, video call and chat for one consultation.
//
// Against the consultations API (consults/README.md): POST .../enter gives a room token; the
// signaling WebSocket relays offer/answer/candidate/bye between the doctor and the patient
// and tells everyone of presence, status changes and chat; POST room.video_setup_path gives
// the ICE servers. The doctor offers, the patient answers: when the doctor admits the
// patient, whenever the patient (re)joins the room, and when the media connection fails
// (an ICE restart). A dropped WebSocket reconnects by itself and resumes from the last
// message seen; chat missed meanwhile is fetched by its sequence number.
import { applyProblem } from "./forms.js";

const ENDED = ["completed", "no_show", "terminated", "cancelled"];
const CLOSE_TOKEN = 4401;
const CLOSE_REMOVED = 4403;
const CLOSE_REPLACED = 4409;

function newRef() {
  // crypto.randomUUID needs a secure context; getRandomValues does not.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

class Call {
  constructor(root) {
    this.root = root;
    this.id = root.dataset.consultation;
    this.role = root.dataset.role;
    this.text = JSON.parse(root.dataset.messages);
    this.csrf = root.querySelector("input[name=_csrf]").value;
    this.stateLine = root.querySelector("[data-call-state]");
    this.remoteVideo = root.querySelector("[data-remote-video]");
    this.localVideo = root.querySelector("[data-local-video]");
    this.log = root.querySelector("[data-chat-log]");
    this.button = (name) => root.querySelector(`[data-action="${name}"]`);
    this.room = null;
    this.consultation = null;
    this.socket = null;
    this.lastId = null;
    this.retries = 0;
    this.pc = null;
    this.iceServers = null;
    this.stream = null;
    this.pendingCandidates = [];
    this.remoteSession = null;
    this.inCall = true; // false once this person hangs up, until they rejoin
    this.ended = false;
    this.seen = new Set();
    this.lastSeq = 0;
    this.peerId = null;
    // Times as the person reads them: their language and their zone (not the browser's).
    this.clock = new Intl.DateTimeFormat(document.documentElement.lang, {
      timeZone: root.dataset.timeZone || undefined,
      hour: "2-digit",
      minute: "2-digit",
    });
    // For tests and a future quality indicator: bytes of remote video received so far.
    root.receivedVideoBytes = () => this.receivedVideoBytes();
  }

  // -- small helpers ------------------------------------------------------------------------
  say(name, params = {}) {
    let message = this.text[name] || name;
    for (const [key, value] of Object.entries(params)) message = message.replace(`{${key}}`, value);
    this.root.dataset.state = name;
    this.stateLine.textContent = message;
  }

  async api(method, path, body) {
    const init = { method, headers: { Accept: "application/json", "X-CSRF-Token": this.csrf } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    try {
      const answer = await fetch(path, init);
      const data = answer.status === 204 ? {} : await answer.json().catch(() => ({}));
      return { ok: answer.ok, status: answer.status, data };
    } catch (error) {
      return { ok: false, status: 0, data: {} };
    }
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(message));
    }
  }

  enableControls(on) {
    for (const name of ["mute", "camera", "switch", "hangup"]) this.button(name).disabled = !on;
  }

  // -- entering the room ----------------------------------------------------------------------
  async enter() {
    const answer = await this.api("POST", `/api/consultations/${this.id}/enter`);
    if (!answer.ok) {
      const problem = answer.data;
      if (problem.type === "/problems/room-not-open") {
        const code = problem.errors && problem.errors[0] && problem.errors[0].code;
        if (code === "not-yet-open" && problem.opens_at) {
          const opens = new Date(problem.opens_at);
          this.say("not_open", { time: this.clock.format(opens) });
          setTimeout(() => this.begin(), Math.max(5000, opens - Date.now() + 1000));
        } else {
          this.say("closed");
        }
      } else if (problem.type === "/problems/consultation-ended") {
        this.finish(false);
      } else {
        this.say("failed");
      }
      return false;
    }
    this.room = answer.data.room;
    this.consultation = answer.data.consultation;
    const other = this.role === "patient" ? "doctor" : "patient";
    const peer = this.consultation.participants.find((p) => p.role === other);
    this.peerId = peer ? peer.user_id : null;
    return true;
  }

  async begin() {
    this.say("starting");
    if (!(await this.enter())) return;
    await this.loadHistory();
    if (this.inCall && !this.stream) await this.startMedia();
    this.connect();
    this.showStatus(this.consultation.status);
  }

  async startMedia() {
    this.say("camera");
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: true,
        video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 } },
      });
      this.localVideo.srcObject = this.stream;
      this.enableControls(true);
    } catch (error) {
      this.stream = null;
      this.say("no_camera");
    }
  }

  // -- the signaling socket ------------------------------------------------------------------
  connect() {
    const base = `${window.location.protocol === "https:" ? "wss" : "ws"}://${window.location.host}`;
    const resume = this.lastId ? `?last_id=${encodeURIComponent(this.lastId)}` : "";
    const socket = new WebSocket(base + this.room.signal_path + resume, [
      this.room.subprotocol,
      `token.${this.room.token}`,
    ]);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.retries = 0;
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      this.handle(message).catch(() => this.say("failed"));
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket || this.ended) return;
      if (event.code === CLOSE_REMOVED || event.code === CLOSE_REPLACED) {
        this.say("left");
        return;
      }
      this.reconnect(event.code);
    });
  }

  reconnect(code) {
    this.say("reconnecting");
    const delay = Math.min(8000, 400 * 2 ** this.retries);
    this.retries += 1;
    setTimeout(async () => {
      if (this.ended) return;
      const expiring = Date.parse(this.room.expires_at) - Date.now() < 60_000;
      if ((code === CLOSE_TOKEN || expiring) && !(await this.enter())) return;
      this.connect();
    }, delay);
  }

  async handle(message) {
    if (message.id) this.lastId = message.id;
    switch (message.type) {
      case "welcome":
        this.lastId = message.last_id;
        await this.loadHistory(); // anything said while we were away
        if (this.consultation.status === "in_progress") {
          const here = message.participants.some((p) => p.id === this.peerId);
          if (this.role === "doctor" && here) await this.offer();
          else this.say(this.pc ? "connecting" : "waiting_doctor");
        }
        break;
      case "presence":
        if (message.participant.id !== this.peerId) break;
        if (message.event === "joined") {
          if (this.role === "doctor" && this.consultation.status === "in_progress") await this.offer();
          if (this.role === "doctor" && this.consultation.status !== "in_progress") await this.refresh();
        } else if (!this.ended && this.consultation.status === "in_progress") {
          // Their connection to us dropped; the media may still flow. When they come back
          // the doctor offers afresh.
          this.say("reconnecting");
        }
        break;
      case "status":
        this.consultation.status = message.status;
        this.showStatus(message.status);
        break;
      case "offer":
        await this.answer(message);
        break;
      case "answer":
        if (this.pc) {
          await this.pc.setRemoteDescription({ type: "answer", sdp: message.sdp });
          await this.flushCandidates();
        }
        break;
      case "candidate":
        await this.addCandidate(message);
        break;
      case "bye":
        this.closePeer();
        if (!this.ended) this.say(this.role === "doctor" ? "waiting_patient" : "waiting_doctor");
        break;
      case "chat":
        if (message.seq > this.lastSeq + 1) await this.loadHistory();
        this.show({
          id: message.message_id,
          seq: message.seq,
          author_role: message.from_role,
          mine: false,
          body: message.body,
          sent_at: message.sent_at,
          attachment: message.attachment,
        });
        break;
      case "error":
        if (message.code === "resume-gap") await this.loadHistory();
        break;
      default:
        break;
    }
  }

  async refresh() {
    const answer = await this.api("GET", `/api/consultations/${this.id}`);
    if (answer.ok) {
      this.consultation = answer.data;
      this.showStatus(answer.data.status);
    }
  }

  showStatus(status) {
    this.root.dataset.status = status;
    const badge = this.root.querySelector("[data-status-badge]");
    const admit = this.root.querySelector("[data-admit-box]");
    if (ENDED.includes(status)) {
      this.finish(true);
      return;
    }
    if (badge && this.text[`status_${status}`]) badge.textContent = this.text[`status_${status}`];
    if (admit) admit.hidden = !(this.role === "doctor" && status === "waiting");
    if (status === "waiting") this.say(this.role === "doctor" ? "patient_waiting" : "waiting_doctor");
    else if (status === "scheduled") this.say(this.role === "doctor" ? "waiting_patient" : "waiting_doctor");
    else if (status === "in_progress" && !this.pc) this.say(this.inCall ? "connecting" : "left");
  }

  // -- the media connection -------------------------------------------------------------------
  async iceConfiguration() {
    if (!this.iceServers) {
      const answer = await this.api("POST", this.room.video_setup_path, { token: this.room.token });
      this.iceServers = answer.ok ? answer.data.ice_servers || [] : [];
    }
    return { iceServers: this.iceServers };
  }

  async newPeer() {
    this.closePeer();
    const pc = new RTCPeerConnection(await this.iceConfiguration());
    this.pc = pc;
    this.pendingCandidates = [];
    if (this.stream) for (const track of this.stream.getTracks()) pc.addTrack(track, this.stream);
    else {
      pc.addTransceiver("audio", { direction: "recvonly" });
      pc.addTransceiver("video", { direction: "recvonly" });
    }
    pc.addEventListener("track", (event) => {
      if (this.remoteVideo.srcObject !== event.streams[0]) this.remoteVideo.srcObject = event.streams[0];
    });
    pc.addEventListener("icecandidate", (event) => {
      if (!event.candidate || !event.candidate.candidate) return;
      this.send({
        type: "candidate",
        to: this.peerId,
        candidate: event.candidate.candidate,
        sdp_mid: event.candidate.sdpMid,
        sdp_mline_index: event.candidate.sdpMLineIndex,
      });
    });
    pc.addEventListener("connectionstatechange", () => {
      if (this.pc !== pc) return;
      if (pc.connectionState === "connected") this.say("connected");
      else if (pc.connectionState === "disconnected" || pc.connectionState === "failed") {
        this.say("reconnecting");
        // The offering side restarts ICE when the media path does not come back by itself.
        if (this.role === "doctor") {
          setTimeout(() => {
            if (this.pc === pc && pc.connectionState !== "connected" && !this.ended) this.offer(true);
          }, pc.connectionState === "failed" ? 0 : 3000);
        }
      }
    });
    return pc;
  }

  async offer(restart = false) {
    if (!this.inCall || this.ended || !this.peerId) return;
    this.say("connecting");
    const pc = restart && this.pc ? this.pc : await this.newPeer();
    const offer = await pc.createOffer(restart ? { iceRestart: true } : {});
    await pc.setLocalDescription(offer);
    this.send({ type: "offer", to: this.peerId, sdp: offer.sdp });
  }

  async answer(message) {
    if (!this.inCall || this.ended) return;
    // A new session from the doctor (o= line) needs a new connection; an ICE restart of the
    // same session keeps this one.
    const session = (message.sdp.match(/^o=\S+ (\S+)/m) || [])[1];
    if (!this.pc || session !== this.remoteSession || this.pc.signalingState !== "stable") {
      await this.newPeer();
    }
    this.remoteSession = session;
    this.say("connecting");
    await this.pc.setRemoteDescription({ type: "offer", sdp: message.sdp });
    await this.flushCandidates();
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    this.send({ type: "answer", to: message.from, sdp: answer.sdp });
  }

  async addCandidate(message) {
    const candidate = {
      candidate: message.candidate,
      sdpMid: message.sdp_mid ?? null,
      sdpMLineIndex: message.sdp_mline_index ?? null,
    };
    if (!this.pc || !this.pc.remoteDescription) {
      this.pendingCandidates.push(candidate);
      return;
    }
    try {
      await this.pc.addIceCandidate(candidate);
    } catch (error) {
      // A candidate of an older session: harmless.
    }
  }

  async flushCandidates() {
    const waiting = this.pendingCandidates;
    this.pendingCandidates = [];
    for (const candidate of waiting) {
      try {
        await this.pc.addIceCandidate(candidate);
      } catch (error) {
        // stale
      }
    }
  }

  closePeer() {
    if (this.pc) this.pc.close();
    this.pc = null;
    this.remoteVideo.srcObject = null;
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

  // -- controls ---------------------------------------------------------------------------------
  toggle(kind) {
    if (!this.stream) return;
    const tracks = kind === "audio" ? this.stream.getAudioTracks() : this.stream.getVideoTracks();
    const off = tracks.length > 0 && tracks[0].enabled;
    for (const track of tracks) track.enabled = !off;
    const button = this.button(kind === "audio" ? "mute" : "camera");
    button.setAttribute("aria-pressed", String(off));
    if (kind === "audio") button.textContent = off ? this.text.unmute : this.text.mute;
    else button.textContent = off ? this.text.camera_on : this.text.camera_off;
  }

  async switchCamera() {
    if (!this.stream) return;
    const cameras = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "videoinput");
    const current = this.stream.getVideoTracks()[0];
    const currentId = current && current.getSettings().deviceId;
    const others = cameras.filter((camera) => camera.deviceId && camera.deviceId !== currentId);
    const constraints = others.length
      ? { deviceId: { exact: others[0].deviceId } }
      : { facingMode: current && current.getSettings().facingMode === "environment" ? "user" : "environment" };
    let fresh;
    try {
      fresh = (await navigator.mediaDevices.getUserMedia({ video: constraints })).getVideoTracks()[0];
    } catch (error) {
      return; // one camera only: keep it
    }
    fresh.enabled = current ? current.enabled : true;
    if (this.pc) {
      const sender = this.pc.getSenders().find((s) => s.track && s.track.kind === "video");
      if (sender) await sender.replaceTrack(fresh);
    }
    if (current) {
      this.stream.removeTrack(current);
      current.stop();
    }
    this.stream.addTrack(fresh);
    this.localVideo.srcObject = this.stream;
  }

  async hangUp() {
    this.inCall = false;
    if (this.peerId) this.send({ type: "bye", to: this.peerId, reason: "hang-up" });
    this.closePeer();
    if (this.room) await this.api("POST", this.room.video_teardown_path, { token: this.room.token });
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    this.stream = null;
    this.localVideo.srcObject = null;
    this.enableControls(false);
    this.button("rejoin").hidden = this.ended;
    if (!this.ended) this.say("left");
  }

  async rejoin() {
    this.inCall = true;
    this.button("rejoin").hidden = true;
    await this.startMedia();
    if (this.role === "doctor") await this.offer();
    else if (this.socket) this.socket.close(); // a fresh join: the doctor offers again
  }

  finish(told) {
    if (this.ended) return;
    this.ended = true;
    if (this.inCall) this.hangUp();
    if (this.socket) this.socket.close(1000);
    this.say("ended");
    const after = this.root.querySelector("[data-after]");
    if (after) after.hidden = false;
    const admit = this.root.querySelector("[data-admit-box]");
    if (admit) admit.hidden = true;
    const badge = this.root.querySelector("[data-status-badge]");
    if (badge && told) badge.textContent = this.text.ended;
  }

  // -- the doctor ------------------------------------------------------------------------------
  async admit() {
    const answer = await this.api("POST", `/api/consultations/${this.id}/admit`);
    if (!answer.ok) {
      this.say("failed");
      return;
    }
    this.consultation = answer.data;
    this.showStatus("in_progress");
    await this.offer();
  }

  async end(form) {
    const outcome = form.querySelector("input[name=outcome]:checked");
    const note = form.querySelector("textarea[name=note]").value;
    const button = form.querySelector("button[type=submit]");
    button.setAttribute("aria-disabled", "true");
    button.classList.add("is-busy");
    const answer = await this.api("POST", `/api/consultations/${this.id}/end`, {
      outcome: outcome ? outcome.value : "",
      note,
    });
    button.removeAttribute("aria-disabled");
    button.classList.remove("is-busy");
    if (!answer.ok) {
      const unplaced = applyProblem(form, answer.data, this.text);
      if (unplaced.length || !(answer.data.errors || []).length) this.say("end_failed");
      return;
    }
    this.finish(true);
    window.location.assign(`${this.root.dataset.backUrl}?done=ended`);
  }

  // -- the doctor's notes -----------------------------------------------------------------------
  async loadNotes(form, keepTyped = false) {
    const answer = await this.api("GET", `/api/consultations/${this.id}/notes`);
    if (!answer.ok) return;
    const current = answer.data.current;
    form.querySelector("input[name=base_version]").value = current ? current.version : 0;
    if (!current || keepTyped) return;
    for (const part of ["complaint", "findings", "diagnosis", "advice"]) {
      form.querySelector(`textarea[name=${part}]`).value = current[part];
    }
  }

  async saveNotes(form) {
    const status = form.querySelector("[data-notes-status]");
    const body = { base_version: Number(form.querySelector("input[name=base_version]").value) };
    for (const part of ["complaint", "findings", "diagnosis", "advice"]) {
      body[part] = form.querySelector(`textarea[name=${part}]`).value;
    }
    const answer = await this.api("POST", `/api/consultations/${this.id}/notes`, body);
    if (answer.ok) {
      form.querySelector("input[name=base_version]").value = answer.data.version;
      status.textContent = this.text.notes_saved.replace("{version}", answer.data.version);
    } else if (answer.data.type === "/problems/stale-notes") {
      // A colleague saved meanwhile: keep what this doctor typed, build on the newest
      // version, and let them save again knowingly.
      await this.loadNotes(form, true);
      status.textContent = this.text.notes_stale;
    } else {
      const code = (answer.data.errors || [])[0]?.code;
      status.textContent = code === "notes-closed" ? this.text.notes_closed : this.text.notes_failed;
    }
  }

  // -- chat and files ------------------------------------------------------------------------
  async loadHistory() {
    for (let page = 0; page < 20; page += 1) {
      const answer = await this.api("GET", `/api/consultations/${this.id}/messages?after=${this.lastSeq}&limit=200`);
      if (!answer.ok) return;
      for (const message of answer.data.messages) {
        this.show({ ...message, mine: this.room && message.author_id === this.room.participant_id });
      }
      if (!answer.data.next_after) return;
    }
  }

  show(message) {
    if (this.seen.has(message.id)) return;
    this.seen.add(message.id);
    this.lastSeq = Math.max(this.lastSeq, message.seq || 0);
    const item = document.createElement("li");
    item.className = `chat-message${message.mine ? " mine" : ""}`;
    item.dataset.seq = message.seq;
    const who = document.createElement("strong");
    who.textContent = message.mine ? this.text.you : this.text[message.author_role] || message.author_role;
    const when = document.createElement("time");
    when.dateTime = message.sent_at;
    when.textContent = this.clock.format(new Date(message.sent_at));
    item.append(who, " ", when);
    if (message.body) {
      const body = document.createElement("p");
      body.textContent = message.body;
      item.append(body);
    }
    if (message.attachment) {
      const link = document.createElement("a");
      link.href = message.attachment.download_path || `/api/consultations/${this.id}/attachments/${message.attachment.id}`;
      link.textContent = message.attachment.name;
      const line = document.createElement("p");
      line.append(link);
      item.append(line);
    }
    const items = [...this.log.children];
    const after = items.find((other) => Number(other.dataset.seq) > (message.seq || 0));
    if (after) this.log.insertBefore(item, after);
    else this.log.append(item);
    this.log.scrollTop = this.log.scrollHeight;
  }

  async sendChat(form) {
    const input = form.querySelector("input[name=body]");
    const body = input.value.trim();
    if (!body) return;
    const ref = form.dataset.pendingRef || newRef();
    form.dataset.pendingRef = ref; // resent with the same ref if the answer is lost
    const answer = await this.api("POST", `/api/consultations/${this.id}/messages`, { body, client_ref: ref });
    if (!answer.ok) {
      const unplaced = applyProblem(form, answer.data.errors ? answer.data : { errors: [{ field: "body", code: "", message: this.text.send_failed }] }, this.text);
      if (unplaced.length) this.say("send_failed");
      return; // what was typed stays in the box
    }
    delete form.dataset.pendingRef;
    input.value = "";
    applyProblem(form, { errors: [] });
    this.show({ ...answer.data, mine: true });
  }

  sendFile(form) {
    const input = form.querySelector("input[type=file]");
    if (!input.files.length) return;
    const progress = form.querySelector("[data-file-progress]");
    const button = form.querySelector("button[type=submit]");
    const data = new FormData();
    data.append("file", input.files[0]);
    data.append("client_ref", newRef());
    const request = new XMLHttpRequest();
    request.open("POST", `/api/consultations/${this.id}/attachments`);
    request.setRequestHeader("Accept", "application/json");
    request.setRequestHeader("X-CSRF-Token", this.csrf);
    progress.hidden = false;
    progress.value = 0;
    button.classList.add("is-busy");
    button.setAttribute("aria-disabled", "true");
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) progress.value = Math.round((event.loaded / event.total) * 100);
    });
    const done = () => {
      progress.hidden = true;
      button.classList.remove("is-busy");
      button.removeAttribute("aria-disabled");
    };
    request.addEventListener("load", () => {
      done();
      let answer = {};
      try {
        answer = JSON.parse(request.responseText || "{}");
      } catch (error) {
        answer = {};
      }
      if (request.status >= 200 && request.status < 300) {
        input.value = "";
        applyProblem(form, { errors: [] });
        this.show({ ...answer, mine: true });
      } else {
        applyProblem(form, answer.errors ? answer : { errors: [{ field: "file", code: "", message: this.text.file_failed }] }, this.text);
      }
    });
    request.addEventListener("error", () => {
      done();
      applyProblem(form, { errors: [{ field: "file", code: "", message: this.text.file_failed }] }, this.text);
    });
    request.send(data);
  }

  wire() {
    this.button("mute").addEventListener("click", () => this.toggle("audio"));
    this.button("camera").addEventListener("click", () => this.toggle("video"));
    this.button("switch").addEventListener("click", () => this.switchCamera());
    this.button("hangup").addEventListener("click", () => this.hangUp());
    this.button("rejoin").addEventListener("click", () => this.rejoin());
    const admit = this.button("admit");
    if (admit) admit.addEventListener("click", () => this.admit());
    const end = this.root.querySelector("[data-end-form]");
    if (end) {
      end.addEventListener("submit", (event) => {
        event.preventDefault();
        this.end(end);
      });
    }
    const notes = this.root.querySelector("[data-notes-form]");
    if (notes) {
      this.loadNotes(notes);
      notes.addEventListener("submit", (event) => {
        event.preventDefault();
        this.saveNotes(notes);
      });
    }
    const chat = this.root.querySelector("[data-chat-form]");
    chat.addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendChat(chat);
    });
    const file = this.root.querySelector("[data-file-form]");
    file.addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendFile(file);
    });
    window.addEventListener("pagehide", () => {
      if (this.room && this.inCall) {
        navigator.sendBeacon?.(this.room.video_teardown_path, new Blob([JSON.stringify({ token: this.room.token })], { type: "application/json" }));
      }
    });
  }
}

const root = document.querySelector("[data-call]");
if (root) {
  const call = new Call(root);
  call.wire();
  call.begin();
}
