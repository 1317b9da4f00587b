// Start the NHS.UK frontend's components (served by pcnkit itself, never from a CDN).
import { initAll } from "/assets/nhsuk-frontend.min.js";
initAll();
// Say "preparing" while a slow population page loads.
import "/static/loading.js";

// A table wider than the screen scrolls inside its box (pcnkit.css): make that box reachable
// from the keyboard, and name it by the table's caption, only when it does scroll.
function scrollableTables() {
  for (const box of document.querySelectorAll(".pcnkit-table-wrap")) {
    const scrolls = box.scrollWidth > box.clientWidth + 1;
    if (scrolls && !box.hasAttribute("tabindex")) {
      const caption = box.querySelector("caption");
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", caption ? caption.textContent.trim() : "Table");
    } else if (!scrolls && box.getAttribute("tabindex") === "0") {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
    }
  }
}
scrollableTables();
window.addEventListener("resize", scrollableTables);
