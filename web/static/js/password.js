// A "show password" button beside password fields marked data-reveal, so people on phones
// can check what they typed. Its labels come from the page, in the page's language.

export function enhancePasswordReveal(root) {
  for (const input of root.querySelectorAll("input[type=password][data-reveal]")) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button quiet reveal-button";
    button.setAttribute("aria-controls", input.id);
    button.setAttribute("aria-pressed", "false");
    button.textContent = input.dataset.showLabel;
    button.addEventListener("click", () => {
      const shown = input.type === "text";
      input.type = shown ? "password" : "text";
      button.setAttribute("aria-pressed", String(!shown));
      button.textContent = shown ? input.dataset.showLabel : input.dataset.hideLabel;
    });
    input.insertAdjacentElement("afterend", button);
  }
}
