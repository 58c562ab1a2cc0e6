// File uploads with progress: a form marked data-upload="<API URL>" is sent to that JSON
// API with XMLHttpRequest, whose upload events drive a <progress> bar. Its required fields
// left empty are named first, all at once, and nothing is sent. Success opens
// data-done-url; a problem+json answer is put beside its field (applyProblem), in the
// page's language (data-messages: {code: text}). Without this script the form posts to its
// page route as usual.
import { applyProblem } from "./forms.js";
import { announce } from "./progress.js";

function send(form, onProgress) {
  return new Promise((resolve) => {
    const request = new XMLHttpRequest();
    request.open("POST", form.dataset.upload);
    request.setRequestHeader("Accept", "application/json");
    request.setRequestHeader("X-CSRF-Token", form.querySelector("input[name=_csrf]").value);
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(Math.round((event.loaded / event.total) * 100));
    });
    request.addEventListener("load", () => {
      let body = {};
      try {
        body = JSON.parse(request.responseText || "{}");
      } catch (error) {
        body = {};
      }
      resolve({ status: request.status, body });
    });
    request.addEventListener("error", () => resolve({ status: 0, body: {} }));
    const data = new FormData(form);
    data.delete("_csrf");
    request.send(data);
  });
}

function setBusy(form, busy) {
  const button = form.querySelector("button[type=submit]");
  const label = button.querySelector(".button-label");
  if (busy) {
    button.dataset.idleLabel = label.textContent;
    label.textContent = button.dataset.busyLabel;
    button.classList.add("is-busy");
    button.setAttribute("aria-disabled", "true");
  } else {
    label.textContent = button.dataset.idleLabel || label.textContent;
    button.classList.remove("is-busy");
    button.removeAttribute("aria-disabled");
  }
  form.toggleAttribute("aria-busy", busy);
}

export function enhanceUploads(root) {
  for (const form of root.querySelectorAll("form[data-upload]")) {
    const box = form.querySelector("[data-upload-progress]");
    const bar = box.querySelector("progress");
    const percent = box.querySelector("[data-upload-percent]");
    const messages = JSON.parse(form.dataset.messages || "{}");
    let sending = false;
    // Handled here rather than by progress.js, which would let the plain POST go ahead.
    form.removeAttribute("data-progress");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (sending) return;
      // Every empty required field named at once, before anything is sent.
      const empty = [...form.querySelectorAll("[data-field] :is(input, select, textarea)[required]")]
        .filter((input) => (input.type === "file" ? !input.files.length : !input.value.trim()))
        .map((input) => ({ field: input.closest("[data-field]").dataset.field, code: "required", message: "" }));
      if (empty.length) {
        applyProblem(form, { errors: empty }, messages);
        return;
      }
      sending = true;
      setBusy(form, true);
      box.hidden = false;
      bar.value = 0;
      percent.textContent = "0%";
      announce(root, form.dataset.msgUploading);
      const answer = await send(form, (value) => {
        bar.value = value;
        percent.textContent = `${value}%`;
      });
      if (answer.status >= 200 && answer.status < 300) {
        bar.value = 100;
        // Show the new list. The same address with a #fragment would only scroll: reload.
        const done = new URL(form.dataset.doneUrl, window.location.href);
        if (done.href === window.location.href) window.location.reload();
        else window.location.assign(done.href);
        return;
      }
      sending = false;
      setBusy(form, false);
      box.hidden = true;
      const unplaced = applyProblem(form, answer.body.errors ? answer.body : {
        errors: [{ field: "file", code: "", message: answer.body.detail || form.dataset.msgFailed }],
      }, messages);
      if (unplaced.length) announce(root, form.dataset.msgFailed);
    });
  }
}
