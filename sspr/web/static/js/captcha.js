/* sspr: the ALTCHA widget, from the vendored "external" build (no inline style, no blob
   worker, so it runs under script-src 'self' and style-src 'self'). Everything it needs is
   read from the attributes of <altcha-widget> (see templates/_captcha.html). */
import "../vendor/altcha/altcha.min.js";

const altcha = globalThis.$altcha;
const pbkdf2 = new URL("../vendor/altcha/workers/pbkdf2.js", import.meta.url);

// The external build bundles no worker: register the one algorithm sspr issues.
altcha.algorithms.set("PBKDF2/SHA-256", () => new Worker(pbkdf2));

document.querySelectorAll("altcha-widget[data-strings]").forEach((widget) => {
  const strings = JSON.parse(widget.getAttribute("data-strings") || "{}");
  const language = widget.getAttribute("language") || document.documentElement.lang || "fr";
  altcha.i18n.set(language, { ...altcha.i18n.get("en"), ...strings });
  // The widget changes its label visually; this region also says it to screen readers.
  const status = document.getElementById(widget.getAttribute("data-status") || "");
  const said = {
    verifying: strings.verifying,
    verified: strings.verified,
    error: strings.error,
    expired: strings.expired,
  };
  widget.addEventListener("statechange", (event) => {
    const text = said[event.detail && event.detail.state];
    if (status && text) {
      status.textContent = text;
    }
  });
});
