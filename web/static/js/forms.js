// Helpers for forms. Server-rendered forms already put each error beside its field; pages
// that call a JSON API from script use applyProblem() to do the same with a problem+json
// answer (RFC 9457, errors[].field naming the field), using the same markup as the server.

export function focusErrorSummary(root) {
  // A field with an error has autofocus already; without one (a form-level message such as a
  // wrong password) bring the summary into view so it is read first.
  const summary = root.querySelector("[data-error-summary]");
  if (summary && !root.querySelector("[autofocus]")) summary.focus();
}

function clearErrors(form) {
  for (const old of form.querySelectorAll("[data-client-error]")) old.remove();
  for (const field of form.querySelectorAll(".field-invalid[data-client-invalid]")) {
    field.classList.remove("field-invalid");
    field.removeAttribute("data-client-invalid");
  }
  for (const input of form.querySelectorAll("[aria-invalid][data-client-invalid]")) {
    input.removeAttribute("aria-invalid");
    input.removeAttribute("data-client-invalid");
  }
}

// messages: optional {code: text} or {"field.code": text} (the more specific wins) in the
// page's language (rendered by the server into a data attribute); the problem's own message
// is the fallback. Returns the fields not found.
export function applyProblem(form, problem, messages = {}) {
  clearErrors(form);
  const unplaced = [];
  let first = null;
  for (const error of problem.errors || []) {
    const container = form.querySelector(`[data-field="${CSS.escape(error.field)}"]`);
    const input = container && container.querySelector("input, select, textarea");
    if (!container || !input) {
      unplaced.push(error);
      continue;
    }
    const note = document.createElement("p");
    note.className = "field-error";
    note.id = `${input.id}-client-error`;
    note.dataset.clientError = "";
    note.textContent = messages[`${error.field}.${error.code}`] || messages[error.code] || error.message;
    const row = input.closest(".input-row");
    if (row) row.insertAdjacentElement("beforebegin", note);
    else (container.querySelector("legend") || container).insertAdjacentElement("afterend", note);
    container.classList.add("field-invalid");
    container.dataset.clientInvalid = "";
    input.setAttribute("aria-invalid", "true");
    input.dataset.clientInvalid = "";
    const described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (!described.includes(note.id)) described.push(note.id);
    input.setAttribute("aria-describedby", described.join(" "));
    first = first || input;
  }
  if (first) first.focus();
  return unplaced;
}
