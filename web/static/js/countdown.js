// A hold's countdown ([data-countdown] = the moment it ends, ISO 8601): the text counts down
// each second from the page's own template ("{time}" is replaced by m:ss) and says when the
// time is up. Screen readers are not interrupted every second (aria-live off); the last
// minute and the end are announced once.
import { announce } from "./progress.js";

function format(seconds) {
  const minutes = Math.floor(seconds / 60);
  return `${minutes}:${String(seconds % 60).padStart(2, "0")}`;
}

export function enhanceCountdowns(root) {
  for (const element of root.querySelectorAll("[data-countdown]")) {
    const ends = Date.parse(element.dataset.countdown);
    if (Number.isNaN(ends)) continue;
    let warned = false;
    const tick = () => {
      const left = Math.max(0, Math.round((ends - Date.now()) / 1000));
      if (left === 0) {
        element.textContent = element.dataset.expiredLabel;
        element.classList.add("expired");
        announce(root, element.dataset.expiredLabel);
        element.dispatchEvent(new CustomEvent("countdown-ended", { bubbles: true }));
        return;
      }
      element.textContent = element.dataset.template.replace("{time}", format(left));
      if (left <= 60 && !warned) {
        warned = true;
        announce(root, element.textContent);
      }
      window.setTimeout(tick, 1000 - (Date.now() % 1000) + 5);
    };
    tick();
  }
}
