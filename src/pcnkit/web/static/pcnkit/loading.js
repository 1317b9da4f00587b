// A population page can take a few seconds the first time it is opened after new data is
// loaded (the pack is computed, then remembered). While the browser waits, say so: a status
// message at the top of the page the user is leaving, announced to screen readers.
const SLOW = /^\/(api\/)?population\//;

function isSlow(url) {
  try {
    const target = new URL(url, window.location.href);
    return target.origin === window.location.origin && SLOW.test(target.pathname)
      && !target.pathname.endsWith(".csv");
  } catch {
    return false;
  }
}

function showLoading() {
  if (document.querySelector("[data-pcnkit-loading]")) return;
  const main = document.querySelector("main") || document.body;
  const note = document.createElement("div");
  note.className = "nhsuk-inset-text";
  note.setAttribute("role", "status");
  note.setAttribute("data-pcnkit-loading", "");
  note.textContent = "Preparing the population figures. The first view after new data is "
    + "loaded can take a few seconds.";
  main.prepend(note);
  document.body.setAttribute("aria-busy", "true");
  note.scrollIntoView({ block: "nearest" });
}

document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest("a[href]");
  if (!link || event.defaultPrevented || event.button !== 0 || link.target
      || event.metaKey || event.ctrlKey || event.shiftKey || link.hasAttribute("download")) return;
  if (isSlow(link.href)) showLoading();
});

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.method.toLowerCase() === "get" && isSlow(form.action)) showLoading();
});

// Coming back with the browser's Back button shows the page from its cache: no message then.
window.addEventListener("pageshow", () => {
  document.querySelector("[data-pcnkit-loading]")?.remove();
  document.body.removeAttribute("aria-busy");
});
