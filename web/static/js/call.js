// The call page: waiting room, video call and chat for one consultation.
//
// Against the consultations API (consults/README.md): POST .../enter gives a room token; the
// signaling WebSocket relays offer/answer/candidate/bye between the people in the room and
// tells everyone of presence, status changes and chat; POST room.video_setup_path gives the
// ICE servers and the media profile. The call is a small mesh (a room holds at most 8
// people): one RTCPeerConnection per other person, each pair negotiating on its own
// (call-peer.js: the lower participant id offers), each person in their own labelled tile
// (call-stage.js). Offers are made when the doctor admits the patient, whenever someone
// (re)joins the room, and when a media connection fails (an ICE restart). A dropped
// WebSocket reconnects by itself and resumes from the last message seen; everyone then
// negotiates afresh with the one who came back. Chat missed meanwhile is fetched by its
// sequence number. Signaling messages are handled one at a time, in the room's order.
import { applyProblem } from "./forms.js";
import { cameras, fitTrack, videoConstraints } from "./call-media.js";
import { Peer } from "./call-peer.js";
import { People } from "./call-people.js";
import { Stage } from "./call-stage.js";

const ENDED = ["completed", "no_show", "terminated", "cancelled"];

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
    // How the server closes the socket: the server's own list (signaling.messages.CloseCode).
    this.closeCodes = JSON.parse(root.dataset.closeCodes);
    this.csrf = root.querySelector("input[name=_csrf]").value;
    this.stateLine = root.querySelector("[data-call-state]");
    this.localVideo = root.querySelector("[data-local-video]");
    this.log = root.querySelector("[data-chat-log]");
    this.button = (name) => root.querySelector(`[data-action="${name}"]`);
    this.room = null;
    this.consultation = null;
    this.me = null; // my participant id in the room
    this.socket = null;
    this.socketLost = false;
    this.lastId = null;
    this.retries = 0;
    this.queue = Promise.resolve();
    this.peers = new Map(); // participant id -> Peer
    this.present = new Map(); // participant id -> role, as the room last told
    this.presenceKnown = false;
    this.hungUp = new Set(); // in the room, but they left the video
    this.setup = null; // the answer of video setup: ice_servers, media_profile
    this.profile = null;
    this.stream = null;
    this.inCall = true; // false once this person hangs up, until they rejoin
    this.ended = false;
    this.seen = new Set();
    this.lastSeq = 0;
    this.stage = new Stage(root, (id) => this.describe(id));
    this.people = new People(this, root);
    // Times as the person reads them: their language and their zone (not the browser's).
    this.clock = new Intl.DateTimeFormat(document.documentElement.lang, {
      timeZone: root.dataset.timeZone || undefined,
      hour: "2-digit",
      minute: "2-digit",
    });
    // For tests and a future quality indicator: bytes of remote video received so far (in
    // all, and from each participant), and what is captured and sent.
    root.receivedVideoBytes = async () => Object.values(await this.receivedVideoBytesFrom()).reduce((a, b) => a + b, 0);
    root.receivedVideoBytesFrom = () => this.receivedVideoBytesFrom();
    root.media = () => this.media();
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

  // Run negotiation steps one after another, in the order they were asked for.
  // A step that fails mid-call leaves that connection to its offerer's watchdog (call-peer.js).
  serial(task) {
    const run = this.queue.then(task);
    this.queue = run.catch(() => (this.live ? this.update() : this.say("failed")));
    return run;
  }

  get live() {
    return this.inCall && !this.ended && this.consultation && this.consultation.status === "in_progress";
  }

  describe(id) {
    const person = this.consultation && this.consultation.participants.find((p) => p.user_id === id);
    const role = (person && person.role) || this.present.get(id) || "";
    const roleText = this.text[role] || role;
    const name = person ? person.name : roleText;
    return {
      label: person ? `${name} · ${roleText}` : roleText,
      videoLabel: this.text.remote_video.replace("{name}", name),
    };
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
    this.me = this.room.participant_id;
    this.consultation = answer.data.consultation;
    this.people.render();
    return true;
  }

  async begin() {
    this.say("starting");
    if (!(await this.enter())) return;
    await this.loadHistory();
    if (this.inCall && !this.stream) {
      // Mid-call (a reload, a colleague coming in): the profile is known before the camera.
      if (this.consultation.status === "in_progress") await this.callSetup();
      await this.startMedia();
    }
    this.connect();
    this.showStatus(this.consultation.status);
  }

  async startMedia() {
    this.say("camera");
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: true,
        video: this.profile ? videoConstraints(this.profile) : { facingMode: "user", ...videoConstraints(null) },
      });
      this.localVideo.srcObject = this.stream;
      this.enableControls(true);
    } catch (error) {
      this.stream = null;
      this.say("no_camera");
    }
    await this.offerSwitch();
  }

  // Switching needs a second camera: without one the control is not offered.
  async offerSwitch() {
    const count = (await cameras()).length;
    const button = this.button("switch");
    button.hidden = count < 2;
    button.disabled = !this.stream || count < 2;
  }

  // -- the signaling socket ------------------------------------------------------------------
  connect() {
    const base = `${window.location.protocol === "https:" ? "wss" : "ws"}://${window.location.host}`;
    // The room token goes in the first message, never in the URL (servers log URLs).
    const socket = new WebSocket(base + this.room.signal_path, [this.room.subprotocol]);
    this.socket = socket;
    socket.addEventListener("open", () => {
      const hello = { type: "hello", token: this.room.token };
      if (this.lastId) hello.last_id = this.lastId;
      socket.send(JSON.stringify(hello));
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      this.serial(() => this.handle(message));
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket || this.ended) return;
      if (event.code === this.closeCodes.REMOVED || event.code === this.closeCodes.REPLACED) {
        // Removed by the doctor, or this person opened the call elsewhere: this page's
        // video stops (a removed colleague may not come back; the replaced page may).
        this.socket = null;
        this.stopMedia();
        this.button("rejoin").hidden = event.code === this.closeCodes.REMOVED;
        this.say(event.code === this.closeCodes.REMOVED ? "removed" : "left");
        return;
      }
      // The server could not resume from our last id: join afresh (everyone renegotiates).
      if (event.code === this.closeCodes.MALFORMED) this.lastId = null;
      this.reconnect(event.code);
    });
  }

  reconnect(code) {
    this.socketLost = true;
    this.say("reconnecting");
    const delay = Math.min(8000, 400 * 2 ** this.retries);
    this.retries += 1;
    setTimeout(async () => {
      if (this.ended) return;
      const expiring = Date.parse(this.room.expires_at) - Date.now() < 60_000;
      if ((code === this.closeCodes.TOKEN || expiring) && !(await this.enter())) return;
      this.connect();
    }, delay);
  }

  // The room's list of who is here (every presence message carries all of it).
  here(participants) {
    this.present = new Map(participants.filter((p) => p.id !== this.me).map((p) => [p.id, p.role]));
    this.presenceKnown = true;
  }

  async handle(message) {
    if (message.id) this.lastId = message.id;
    switch (message.type) {
      case "welcome":
        this.retries = 0; // only once in: a socket refused after opening backs off too
        this.lastId = message.last_id;
        this.socketLost = false;
        this.here(message.participants);
        if (message.participants.some((p) => !this.known(p.id))) await this.refresh();
        await this.loadHistory(); // anything said while we were away
        // A fresh start with everyone here: those after me in the order get my offer, those
        // before me offer when they see me join.
        if (this.live) for (const id of this.present.keys()) if (this.me < id) await this.offerTo(id);
        for (const [id, peer] of this.peers) if (!this.present.has(id) && peer.state !== "connected") this.drop(id);
        break;
      case "presence": {
        this.here(message.participants);
        const who = message.participant.id;
        if (who === this.me) break;
        if (message.event === "joined") {
          this.hungUp.delete(who);
          // A colleague invited meanwhile, or the patient came in (the doctor's admit button).
          if (!this.known(who) || (this.role === "doctor" && this.consultation.status !== "in_progress")) {
            await this.refresh();
          }
          if (this.live && this.me < who) await this.offerTo(who);
        } else {
          // Their connection to the room dropped; the media may still flow, and when they
          // come back we negotiate afresh. Gone without media, or removed: drop them now.
          const peer = this.peers.get(who);
          if (message.participant.role === "guest") await this.refresh();
          if (peer && (peer.state !== "connected" || !this.known(who))) this.drop(who);
        }
        break;
      }
      case "status":
        this.showStatus(message.status);
        break;
      case "offer":
        if (!this.inCall || this.ended) {
          this.send({ type: "bye", to: message.from, reason: "not-in-call" });
          break;
        }
        this.hungUp.delete(message.from);
        await this.peer(message.from).answer(message);
        break;
      case "answer":
        if (this.peers.has(message.from)) await this.peers.get(message.from).accept(message);
        break;
      case "candidate":
        if (this.inCall && !this.ended) await this.peer(message.from).candidate(message);
        break;
      case "bye":
        this.hungUp.add(message.from);
        this.drop(message.from);
        break;
      case "chat":
        if (message.seq > this.lastSeq + 1) await this.loadHistory();
        this.show({
          id: message.message_id,
          seq: message.seq,
          author_id: message.from,
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
    this.update();
  }

  known(id) {
    return id === this.me || this.consultation.participants.some((p) => p.user_id === id);
  }

  async refresh() {
    const answer = await this.api("GET", `/api/consultations/${this.id}`);
    if (answer.ok) {
      const was = this.consultation.status;
      this.consultation = answer.data;
      this.stage.names();
      this.showStatus(answer.data.status, was);
    }
  }

  // ``was``: the status before this news (an admission connects everyone once).
  showStatus(status, was = this.consultation.status) {
    this.consultation.status = status;
    this.root.dataset.status = status;
    const badge = this.root.querySelector("[data-status-badge]");
    const admit = this.root.querySelector("[data-admit-box]");
    if (ENDED.includes(status)) {
      this.finish(true);
      return;
    }
    if (badge && this.text[`status_${status}`]) badge.textContent = this.text[`status_${status}`];
    if (admit) admit.hidden = !(this.role === "doctor" && status === "waiting");
    if (status !== "in_progress") {
      const waiting = { patient: "waiting_doctor", doctor: status === "waiting" ? "patient_waiting" : "waiting_patient" };
      this.say(waiting[this.role] || "waiting_start");
    } else if (was !== "in_progress" && this.presenceKnown) {
      // The doctor admitted the patient: everyone here connects (the lower id offers).
      this.serial(async () => {
        for (const id of this.present.keys()) if (this.me < id && !this.peers.has(id)) await this.offerTo(id);
      });
    }
    this.update();
  }

  // The state line, the tiles and the list of people, from where each connection stands.
  update() {
    if (!this.consultation) return;
    this.people.render();
    if (this.ended || !this.inCall || this.consultation.status !== "in_progress") return;
    if (this.socketLost) {
      this.say("reconnecting");
      return;
    }
    const peers = [...this.peers.values()].filter((peer) => peer.pc);
    if (!peers.length) {
      const others = [...this.present.keys()].filter((id) => !this.hungUp.has(id));
      const alone = { patient: "waiting_doctor", doctor: "waiting_patient" }[this.role] || "alone";
      this.say(others.length ? "connecting" : alone);
    } else if (peers.some((peer) => peer.state === "disconnected" || peer.state === "failed")) {
      this.say("reconnecting");
    } else if (peers.every((peer) => peer.state === "connected")) {
      this.say("connected");
    } else {
      this.say("connecting");
    }
  }

  // -- the media connections --------------------------------------------------------------------
  async callSetup() {
    if (!this.setup) {
      const answer = await this.api("POST", this.room.video_setup_path, { token: this.room.token });
      if (!answer.ok) return { ice_servers: [] }; // asked again for the next connection
      this.setup = answer.data;
      this.profile = answer.data.media_profile || null;
      if (this.stream) await fitTrack(this.stream.getVideoTracks()[0], this.profile);
    }
    return this.setup;
  }

  async rtcConfiguration() {
    const setup = await this.callSetup();
    return { iceServers: setup.ice_servers || [] };
  }

  peer(id) {
    let peer = this.peers.get(id);
    if (!peer) {
      peer = new Peer(this, id);
      this.peers.set(id, peer);
    }
    return peer;
  }

  async offerTo(id) {
    if (!this.live || this.hungUp.has(id)) return;
    await this.peer(id).offer();
  }

  drop(id) {
    const peer = this.peers.get(id);
    if (peer) peer.shut();
    this.peers.delete(id);
    this.stage.remove(id);
    this.update();
  }

  async receivedVideoBytesFrom() {
    const bytes = {};
    for (const [id, peer] of this.peers) bytes[id] = await peer.receivedVideoBytes();
    return bytes;
  }

  media() {
    const tracks = this.stream ? this.stream.getTracks() : [];
    return {
      local: tracks.map((track) => ({ kind: track.kind, enabled: track.enabled, ...track.getSettings() })),
      senders: [...this.peers.values()].flatMap((peer) => peer.sending()),
      profile: this.profile,
    };
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

  // The next camera in the device list, at the profile's picture, sent to everyone.
  async switchCamera() {
    if (!this.stream) return;
    const all = await cameras();
    const current = this.stream.getVideoTracks()[0];
    const currentId = current && current.getSettings().deviceId;
    const at = all.findIndex((camera) => camera.deviceId === currentId);
    const next = all[(at + 1) % all.length];
    if (all.length < 2 || !next || next.deviceId === currentId) {
      await this.offerSwitch();
      return;
    }
    const open = async (deviceId) =>
      (
        await navigator.mediaDevices.getUserMedia({
          video: { ...videoConstraints(this.profile), deviceId: { exact: deviceId } },
        })
      ).getVideoTracks()[0];
    let fresh = await open(next.deviceId).catch(() => null);
    if (!fresh && current) {
      // Phones may open one camera at a time: let go of this one first.
      current.stop();
      fresh = await open(next.deviceId).catch(() => null);
      fresh = fresh || (await open(currentId).catch(() => null));
    }
    if (!fresh) return;
    fresh.enabled = current ? current.enabled : true;
    for (const peer of this.peers.values()) await peer.replaceVideo(fresh);
    if (current) {
      this.stream.removeTrack(current);
      current.stop();
    }
    this.stream.addTrack(fresh);
    this.localVideo.srcObject = this.stream;
  }

  stopMedia() {
    for (const id of [...this.peers.keys()]) this.drop(id);
    if (this.room && this.inCall) this.api("POST", this.room.video_teardown_path, { token: this.room.token });
    this.inCall = false;
    this.setup = null; // a rejoin sets the call up again (its QoS session was released)
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    this.stream = null;
    this.localVideo.srcObject = null;
    this.enableControls(false);
  }

  async hangUp() {
    if (this.inCall) this.send({ type: "bye", reason: "hang-up" }); // to everyone else
    this.stopMedia();
    this.button("rejoin").hidden = this.ended;
    if (!this.ended) this.say("left");
  }

  async rejoin() {
    this.inCall = true;
    this.button("rejoin").hidden = true;
    if (this.consultation.status === "in_progress") await this.callSetup();
    await this.startMedia();
    // A fresh join: everyone negotiates with us again.
    if (this.socket) this.socket.close();
    else this.connect();
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
    this.update();
  }

  // -- the doctor ------------------------------------------------------------------------------
  async admit() {
    const answer = await this.api("POST", `/api/consultations/${this.id}/admit`);
    if (!answer.ok) {
      this.say("failed");
      return;
    }
    const was = this.consultation.status;
    this.consultation = answer.data;
    this.showStatus("in_progress", was);
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
    who.textContent = message.mine
      ? this.text.you
      : message.author_id
        ? this.describe(message.author_id).label
        : this.text[message.author_role] || message.author_role;
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
    navigator.mediaDevices?.addEventListener?.("devicechange", () => this.offerSwitch());
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
    this.people.wire();
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
