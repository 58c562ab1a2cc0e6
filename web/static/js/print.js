// The printable prescription: its print button (the page prints on A5 paper, app.css @page).
for (const button of document.querySelectorAll("[data-print]")) {
  button.addEventListener("click", () => window.print());
}
