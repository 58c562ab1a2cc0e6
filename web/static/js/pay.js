// Paying for what a form names (a held visit, a pharmacy order) with the gateway's own script (Stripe.js, or localstripe's
// stand-in in development and tests). Card numbers go from the gateway's fields to the
// gateway; this script only ever sees the token it returns. The flow:
//   POST /api/payments {purpose, subject_id}              → the attempt and its client_action
//   stripe.createToken(card)                              → card_...
//   POST /api/payments/{id}/confirm {payment_method}      → succeeded | failed | open (3-D Secure)
//   open: stripe.confirmCardPayment(client_secret), then GET /api/payments/{id} until settled.
// Every step is repeatable: starting again returns the attempt in flight, or a new one after
// a decline. The form says what is paid (data-purpose, data-subject), where to go once it is
// (data-done-url), and which problem means it can no longer be paid (data-expired-problem).
import { announce } from "./progress.js";

const form = document.querySelector("form[data-pay]");
const messages = form ? form.dataset : {};

function csrf() {
  return form.querySelector("input[name=_csrf]").value;
}

async function api(method, path, body) {
  const answer = await fetch(path, {
    method,
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf(), Accept: "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const data = await answer.json().catch(() => ({}));
  return { ok: answer.ok, status: answer.status, data };
}

function loadScript(url) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = url;
    script.onload = resolve;
    script.onerror = () => reject(new Error("the gateway's script did not load"));
    document.head.append(script);
  });
}

const button = form && form.querySelector("[data-pay-button]");
const errorBox = form && form.querySelector("[data-pay-error]");
const statusLine = form && form.querySelector("[data-pay-status]");

function status(text) {
  statusLine.textContent = text;
  announce(document, text);
}

function showError(text) {
  errorBox.textContent = text;
  errorBox.hidden = !text;
  if (text) errorBox.focus?.();
}

function busy(on, label) {
  const text = button.querySelector(".button-label");
  if (on) {
    button.dataset.idleLabel = button.dataset.idleLabel || text.textContent;
    text.textContent = label || button.dataset.busyLabel;
    button.classList.add("is-busy");
    button.setAttribute("aria-disabled", "true");
    form.setAttribute("aria-busy", "true");
  } else {
    if (button.dataset.idleLabel) text.textContent = button.dataset.idleLabel;
    button.classList.remove("is-busy");
    button.removeAttribute("aria-disabled");
    form.removeAttribute("aria-busy");
  }
}

function problemText(problem, fallback) {
  if (problem && problem.type === messages.expiredProblem) return messages.msgExpired;
  return fallback;
}

async function settle(paymentId) {
  // After 3-D Secure the gateway knows first; ask (through us) until the attempt settles.
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const shown = await api("GET", `/api/payments/${paymentId}`);
    if (shown.ok && shown.data.status !== "open" && shown.data.status !== "pending") return shown.data;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return null;
}

async function pay(stripe, card) {
  showError("");
  busy(true, messages.msgStarting);
  status(messages.msgStarting);
  try {
    const started = await api("POST", "/api/payments", {
      purpose: form.dataset.purpose,
      subject_id: form.dataset.subject,
    });
    if (!started.ok) {
      if (started.status === 409 && started.data.errors?.[0]?.code === "already-paid") {
        window.location.assign(form.dataset.doneUrl);
        return;
      }
      showError(problemText(started.data, started.data.detail || messages.msgNetwork));
      return;
    }
    let payment = started.data;
    if (payment.status !== "succeeded") {
      const { token, error } = await stripe.createToken(card);
      if (error || !token) {
        showError(`${messages.msgCard} ${error?.message || ""}`.trim());
        return;
      }
      busy(true, messages.msgCharging);
      status(messages.msgCharging);
      const confirmed = await api("POST", `/api/payments/${payment.id}/confirm`, { payment_method: token.card.id });
      if (!confirmed.ok) {
        showError(problemText(confirmed.data, confirmed.data.detail || messages.msgNetwork));
        return;
      }
      payment = confirmed.data;
    }
    if (payment.status === "open" && payment.client_action) {
      status(messages.msgAuthenticating);
      const secret = payment.client_action.params.client_secret;
      const authenticated = await stripe.confirmCardPayment(secret);
      if (authenticated.error) {
        showError(`${messages.msgAuthFailed} ${authenticated.error.message || ""}`.trim());
      }
      payment = (await settle(payment.id)) || payment;
    }
    if (payment.status === "succeeded") {
      status(messages.msgPaid);
      window.location.assign(form.dataset.doneUrl);
      return;
    }
    if (payment.status === "failed") {
      showError(`${messages.msgDeclined} ${payment.failure_message || ""}`.trim());
      return;
    }
    if (!errorBox.textContent) showError(messages.msgAuthFailed);
  } catch (error) {
    showError(messages.msgNetwork);
  } finally {
    if (!document.hidden) busy(false);
    status("");
  }
}

function labelGatewayFields(element) {
  // Stripe's real fields live in its own frame and label themselves; a stand-in's plain
  // inputs get names from the page (by their placeholder), so nobody meets an unnamed box.
  const labels = JSON.parse(element.dataset.fieldLabels || "{}");
  for (const input of element.querySelectorAll("input:not([aria-label])")) {
    const label = labels[input.getAttribute("placeholder")];
    if (label) input.setAttribute("aria-label", label);
    input.setAttribute("inputmode", "numeric");
    input.setAttribute("autocomplete", "off");
  }
}

async function start() {
  if (!form) return;
  try {
    await loadScript(form.dataset.jsUrl);
  } catch (error) {
    form.querySelector("[data-card-loading]").textContent = messages.msgUnavailable;
    return;
  }
  const stripe = window.Stripe(form.dataset.publishableKey);
  const card = stripe.elements().create("card");
  const element = form.querySelector("[data-card-element]");
  element.querySelector("[data-card-loading]")?.remove();
  card.mount(element);
  labelGatewayFields(element);
  button.disabled = false;
  let paying = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (paying) return; // one payment at a time: no double charge from a double tap
    paying = true;
    try {
      await pay(stripe, card);
    } finally {
      paying = false;
    }
  });
  document.addEventListener("countdown-ended", () => {
    button.disabled = true;
    showError(messages.msgExpired);
  });
}

start();
