// Who takes part in the call and who is in the room now; the doctor invites colleagues (by
// their doctor id, or the link to their doctor page) and removes them.
//
// The list is rendered by the server (consults/pages.py) and re-rendered here from the
// consultation's participants and the room's presence. The forms work without script too
// (they post to the page routes); with script they call the consultations API in place.
import { applyProblem } from "./forms.js";

const UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";

// The doctor id in what was typed: the id itself, or a link to the doctor's page
// (.../doctors/<id>). The same rule as consults/pages.py colleague_doctor_id.
export function colleagueId(typed) {
  const text = typed.trim();
  const link = text.match(new RegExp(`/doctors/(${UUID})(?![0-9a-fA-F-])`));
  if (link) return link[1].toLowerCase();
  return new RegExp(`^${UUID}$`).test(text) ? text.toLowerCase() : null;
}

export class People {
  constructor(call, root) {
    this.call = call;
    this.list = root.querySelector("[data-roster]");
    this.form = root.querySelector("[data-invite-form]");
    this.status = root.querySelector("[data-invite-status]");
  }

  wire() {
    if (this.form) {
      this.form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.invite();
      });
    }
    this.list.addEventListener("submit", (event) => {
      const form = event.target.closest("[data-remove-form]");
      if (!form) return;
      event.preventDefault();
      this.remove(form);
    });
  }

  render() {
    const call = this.call;
    const text = call.text;
    const doctor = call.role === "doctor" && !call.ended;
    const items = call.consultation.participants.map((person) => {
      const id = person.user_id;
      const here = call.presenceKnown ? call.present.has(id) || id === call.me : person.present;
      const item = document.createElement("li");
      item.className = "person";
      item.dataset.person = id;
      item.dataset.present = here === null || here === undefined ? "" : String(here);
      const name = document.createElement("span");
      name.className = "person-name";
      name.textContent = id === call.me ? text.me_named.replace("{name}", person.name) : person.name;
      const role = document.createElement("span");
      role.className = "badge badge-muted";
      role.textContent = text[person.role] || person.role;
      item.append(name, " ", role);
      if (here !== null && here !== undefined) {
        const presence = document.createElement("span");
        presence.className = "presence";
        presence.dataset.presence = "";
        presence.textContent = here ? text.present : text.absent;
        item.append(" ", presence);
      }
      if (doctor && person.role === "guest" && person.doctor_id) item.append(" ", this.removeForm(person));
      return item;
    });
    this.list.replaceChildren(...items);
  }

  removeForm(person) {
    const form = document.createElement("form");
    form.method = "post";
    form.action = `/call/${this.call.id}/colleagues/${person.doctor_id}/remove`;
    form.className = "inline-form";
    form.dataset.removeForm = "";
    form.dataset.doctor = person.doctor_id;
    form.dataset.user = person.user_id;
    const token = document.createElement("input");
    token.type = "hidden";
    token.name = "_csrf";
    token.value = this.call.csrf;
    const button = document.createElement("button");
    button.type = "submit";
    button.className = "button quiet";
    button.textContent = this.call.text.remove;
    button.setAttribute("aria-label", this.call.text.remove_named.replace("{name}", person.name));
    form.append(token, button);
    return form;
  }

  async invite() {
    const text = this.call.text;
    const input = this.form.querySelector("input[name=colleague]");
    const problem = (message) => applyProblem(this.form, { errors: [{ field: "colleague", code: "", message }] });
    const doctorId = colleagueId(input.value);
    if (!doctorId) {
      problem(input.value.trim() ? text.invite_invalid : text.invite_required);
      return;
    }
    const button = this.form.querySelector("button[type=submit]");
    button.classList.add("is-busy");
    button.setAttribute("aria-disabled", "true");
    const answer = await this.call.api("PUT", `/api/consultations/${this.call.id}/colleagues/${doctorId}`);
    button.classList.remove("is-busy");
    button.removeAttribute("aria-disabled");
    if (!answer.ok) {
      const code = ((answer.data.errors || [])[0] || {}).code;
      const type = answer.data.type || "";
      if (type.endsWith("/not-found")) problem(text.invite_not_found);
      else if (code === "self") problem(text.invite_self);
      else if (code === "room-full") problem(text.invite_room_full);
      else if (type.endsWith("/consultation-ended")) problem(text.invite_ended);
      else problem(text.invite_failed);
      return;
    }
    input.value = "";
    applyProblem(this.form, { errors: [] });
    this.status.textContent = text.invited.replace("{name}", answer.data.name);
    await this.call.refresh();
  }

  async remove(form) {
    const answer = await this.call.api(
      "DELETE",
      `/api/consultations/${this.call.id}/colleagues/${form.dataset.doctor}`,
    );
    if (!answer.ok) {
      if (this.status) this.status.textContent = this.call.text.remove_failed;
      return;
    }
    if (this.status) this.status.textContent = this.call.text.removed_colleague;
    this.call.serial(() => this.call.drop(form.dataset.user));
    await this.call.refresh();
  }
}
