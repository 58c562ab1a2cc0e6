// "Show more" links (a[data-more]) load the next page of a list in place: the server's page
// for that link is fetched, its new items appended to the list marked data-results, and
// the link replaced by the new page's own (or removed on the last page). Without this
// script the link simply opens the next page.
import { announce } from "./progress.js";

async function loadMore(link) {
  const list = document.querySelector("[data-results]");
  if (!list || link.getAttribute("aria-disabled") === "true") return;
  link.setAttribute("aria-disabled", "true");
  announce(document, link.dataset.loadingLabel || "");
  try {
    const answer = await fetch(link.href, { headers: { Accept: "text/html" } });
    if (!answer.ok) throw new Error(String(answer.status));
    const next = new DOMParser().parseFromString(await answer.text(), "text/html");
    const items = [...next.querySelectorAll("[data-results] > li")];
    let first = null;
    for (const item of items) {
      const adopted = document.importNode(item, true);
      list.append(adopted);
      first = first || adopted;
    }
    const nextLink = next.querySelector("a[data-more]");
    if (nextLink) {
      link.href = nextLink.getAttribute("href");
      link.removeAttribute("aria-disabled");
    } else {
      link.closest("p")?.remove();
    }
    // Keyboard and screen-reader users continue from the first new item.
    const target = first && first.querySelector("a, h2");
    if (target) {
      const heading = first.querySelector("h2 a") || target;
      heading.focus();
    }
    announce(document, link.dataset.loadedLabel || "");
  } catch (error) {
    // Fall back to opening the next page.
    window.location.href = link.href;
  }
}

export function enhanceMore(root) {
  for (const link of root.querySelectorAll("a[data-more]")) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      loadMore(link);
    });
  }
}
