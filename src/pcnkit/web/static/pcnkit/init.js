// Start the NHS.UK frontend's components (served by pcnkit itself, never from a CDN).
import { initAll } from "/assets/nhsuk-frontend.min.js";
initAll();
// Say "preparing" while a slow population page loads.
import "/static/loading.js";
