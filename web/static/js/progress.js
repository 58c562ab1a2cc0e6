// Long work shows progress: a form marked data-progress shows a spinner and its button's
// busy label while the server works, and refuses a second submit (no double sign-up).

export function announce(root, message) {
  const region = root.querySelector("[data-live-region]");
  if (region) region.textContent = message;
}

function setBusy(form, busy, submitter) {
  // The button pressed shows the progress (a form may offer several decisions).
  const pressed = submitter && submitter.matches("[data-busy-label]") ? submitter : null;
  const button = pressed || form.querySelector("button[type=submit][data-busy-label]");
  form.toggleAttribute("aria-busy", busy);
  form.dataset.submitting = busy ? "true" : "";
  if (!button) return;
  const label = button.querySelector(".button-label");
  if (busy) {
    button.dataset.idleLabel = label ? label.textContent : "";
    if (label) label.textContent = button.dataset.busyLabel;
    button.classList.add("is-busy");
    button.setAttribute("aria-disabled", "true");
  } else {
    if (label && button.dataset.idleLabel) label.textContent = button.dataset.idleLabel;
    button.classList.remove("is-busy");
    button.removeAttribute("aria-disabled");
  }
}

export function enhanceProgress(root) {
  for (const form of root.querySelectorAll("form[data-progress]")) {
    form.addEventListener("submit", (event) => {
      if (form.dataset.submitting === "true") {
        event.preventDefault();
        return;
      }
      setBusy(form, true, event.submitter);
      const button = event.submitter || form.querySelector("button[data-busy-label]");
      if (button && button.dataset.busyLabel) announce(root, button.dataset.busyLabel);
    });
  }
  // Coming back with the Back button restores the page from cache: make it usable again.
  window.addEventListener("pageshow", () => {
    for (const form of root.querySelectorAll("form[data-progress]")) {
      for (const button of form.querySelectorAll("button.is-busy")) setBusy(form, false, button);
      setBusy(form, false);
    }
  });
}
